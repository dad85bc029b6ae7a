//! A CRM or sales-tool webhook: received (its body kept, its events stored), and replayed
//! over what was kept after a mapping fix.
//!
//! A replay maps each kept body again with the current code and policy and compares, fact by
//! fact (by the id the mapping gives it), with what the timeline holds:
//!
//! | now | stored | written (history: pages nobody) |
//! |---|---|---|
//! | an event | nothing | the event |
//! | an event | the same | nothing |
//! | an event | another content | a correction `{id}~{hash}` that supersedes the stored version |
//! | no event | an event | a void `{id}~v{hash}` of the stored version |
//!
//! so replaying twice changes nothing the second time, and a fact a person voided by hand
//! stays voided. The sales tools' touches are joined to their leads again as on receipt
//! (resends change nothing); a changed touch of theirs is not corrected.

use crate::error::{IngestError, PortError};
use crate::fingerprint;
use crate::handlers::batch::BatchOutcome;
use crate::identity::Joined;
use crate::inbound::crm::{self, Mapped, Skipped};
use crate::ports::{Clock, Notifier, Store, Timers};
use crate::raw_hooks::{RawHook, RawHookCursor};
use crate::App;
use chrono::{DateTime, Utc};
use leadclock_crm::salesforce::SalesforceId;
use leadclock_crm::Batch;
use leadclock_domain::event::Void;
use leadclock_domain::{Event, EventBody, EventId, LeadId, Origin};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What one delivery did.
#[derive(Debug, Default)]
pub struct HookStored {
    pub batch: BatchOutcome,
    pub joined: Joined,
    /// Facts and events with no SLA meaning, each with its reason.
    pub skipped: Vec<Skipped>,
}

/// How long a delivery may spend reconciling its leads before it answers: HubSpot gives up
/// (and retries the whole delivery) after 5 s. The leads not reached are reconciled by the
/// next sweep; their events are stored, their deadlines are computed from event times.
pub const HOOK_RECONCILE_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);

/// Most hooks one replay call maps; the answer's `next` goes on from there.
pub const MAX_REPLAY_PAGE: usize = 500;

/// What a replay did.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Replayed {
    /// Kept webhooks mapped again.
    pub hooks: usize,
    /// Events the current mapping derives as they are stored.
    pub unchanged: usize,
    /// Events it derives that were never stored (a fact the old mapping skipped).
    pub added: usize,
    /// Stored events it derives with another content: superseded by a correction.
    pub corrected: usize,
    /// Stored events it no longer derives: voided.
    pub voided: usize,
    /// Kept webhooks the current parser cannot read, with the reason; nothing of theirs changed.
    #[serde(default)]
    pub failed: Vec<ReplayFailure>,
    /// Where the next call starts (`after`), when hooks in the window remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub next: Option<RawHookCursor>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ReplayFailure {
    pub hook_id: String,
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub reason: String,
}

/// What the mapping gives, by the fact ids it gives them.
fn derived_of(mapped: &Mapped) -> Vec<(LeadId, EventId)> {
    let set: BTreeSet<(LeadId, EventId)> = mapped
        .events
        .iter()
        .map(|e| (e.lead_id.clone(), e.event_id.clone()))
        .collect();
    set.into_iter().collect()
}

fn skipped_of(batch: &Batch, mapped: &[Skipped]) -> Vec<Skipped> {
    let ignored = batch.ignored.iter().map(|i| Skipped {
        key: i.what.clone(),
        reason: i.reason.clone(),
    });
    ignored.chain(mapped.iter().cloned()).collect()
}

impl<S: Store, T: Timers, N: Notifier, C: Clock> App<S, T, N, C> {
    /// Maps a delivery's facts, keeps its body (unless `[privacy] raw_hooks = "off"`), stores
    /// its events and joins its sales-tool touches. The body is kept before the events, so
    /// what was stored can always be replayed; a failure of either stores nothing the vendor
    /// will not send again (the answer is a retryable error).
    pub async fn receive_hook(
        &self,
        mut raw: RawHook,
        batch: &Batch,
        orgs: &[SalesforceId],
    ) -> Result<HookStored, IngestError> {
        let policy = self.policy_now();
        let mapped = crm::map(batch, &policy, Origin::Live, self.clock.now());
        if policy.privacy.raw_hooks.is_some() {
            raw.derived = derived_of(&mapped);
            self.store.keep_raw_hook(&raw).await.map_err(IngestError::Store)?;
        }
        let mut skipped = skipped_of(batch, &mapped.skipped);
        let events = mapped.events.iter().cloned().map(Ok).collect();
        let batch_out = self
            .receive_batch_within(events, false, Some(HOOK_RECONCILE_BUDGET))
            .await?;
        // An event the store refused (a lead at its cap) is answered as skipped with why: a
        // vendor retrying it would only be refused again.
        for r in &batch_out.results {
            if let Some(e) = &r.error {
                tracing::warn!(code = e.code, lead_id = ?r.lead_id, "webhook event not stored");
                skipped.push(Skipped {
                    key: r.event_id.clone().unwrap_or_else(|| format!("event {}", r.index)),
                    reason: e.message.clone(),
                });
            }
        }
        let joined = if mapped.tools.identified.is_empty() && mapped.tools.touches.is_empty() {
            Joined::default()
        } else {
            self.receive_tool_facts(&mapped.tools, orgs).await?
        };
        Ok(HookStored {
            batch: batch_out,
            joined,
            skipped,
        })
    }

    /// Maps the webhooks kept from `[from, to)` again (after `after`, at most `limit`) and
    /// corrects the timeline where the result differs; see the module's table.
    pub async fn replay_hooks(
        &self,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        after: Option<&RawHookCursor>,
        limit: usize,
        orgs: &[SalesforceId],
    ) -> Result<Replayed, IngestError> {
        let limit = limit.clamp(1, MAX_REPLAY_PAGE);
        let mut hooks = self
            .store
            .raw_hooks_between(from, to, after, limit + 1)
            .await
            .map_err(IngestError::Store)?;
        let mut out = Replayed::default();
        if hooks.len() > limit {
            hooks.truncate(limit);
            out.next = hooks.last().map(RawHook::cursor);
        }
        let policy = self.policy_now();
        // A fact several webhooks repeat (a Salesforce lead's creation rides on every message)
        // is the first one's, as on receipt: later copies in the window change nothing.
        let mut first = BTreeSet::new();
        for mut hook in hooks {
            out.hooks += 1;
            let batch = match hook.batch() {
                Ok(b) => b,
                Err(reason) => {
                    out.failed.push(ReplayFailure {
                        hook_id: hook.id.clone(),
                        source: hook.source.as_str().to_owned(),
                        received_at: hook.received_at,
                        reason,
                    });
                    continue;
                }
            };
            // As of its arrival: the date window is the one the webhook met on receipt, so a
            // fact accepted then (a creation now past 3 years) is not voided by the replay.
            let mapped = crm::map(&batch, &policy, Origin::History, hook.received_at);
            let writes = self
                .corrections(&hook, &mapped, &mut first, &mut out)
                .await
                .map_err(IngestError::Store)?;
            self.receive_batch(writes.into_iter().map(Ok).collect(), false).await?;
            if !(mapped.tools.identified.is_empty() && mapped.tools.touches.is_empty()) {
                self.receive_tool_facts(&mapped.tools, orgs).await?;
            }
            hook.derived = derived_of(&mapped);
            self.store.keep_raw_hook(&hook).await.map_err(IngestError::Store)?;
        }
        tracing::info!(
            hooks = out.hooks,
            added = out.added,
            corrected = out.corrected,
            voided = out.voided,
            failed = out.failed.len(),
            "webhooks replayed"
        );
        Ok(out)
    }

    /// The events that bring the timeline in line with what `mapped` says of `hook`'s facts.
    async fn corrections(
        &self,
        hook: &RawHook,
        mapped: &Mapped,
        first: &mut BTreeSet<(LeadId, EventId)>,
        out: &mut Replayed,
    ) -> Result<Vec<Event>, PortError> {
        let mut stored: BTreeMap<LeadId, Vec<Event>> = BTreeMap::new();
        let leads: BTreeSet<&LeadId> = mapped.events.iter().map(|e| &e.lead_id).chain(hook.leads()).collect();
        for lead in leads {
            stored.insert(lead.clone(), self.store.load(lead).await?);
        }
        let mut writes = Vec::new();
        for e in &mapped.events {
            if !first.insert((e.lead_id.clone(), e.event_id.clone())) {
                out.unchanged += 1;
                continue;
            }
            let chain = Chain::of(&stored[&e.lead_id], &e.event_id);
            match chain.current() {
                Current::Absent => {
                    out.added += 1;
                    writes.push(e.clone());
                }
                Current::VoidedByHand => out.unchanged += 1,
                Current::VoidedByReplay(void) => {
                    out.added += 1;
                    written(&mut writes, revised(e, None, void), hook, e, out);
                }
                Current::Is(s) if same(s, e) => out.unchanged += 1,
                Current::Is(s) => {
                    out.corrected += 1;
                    written(&mut writes, revised(e, Some(&s.event_id), &s.event_id), hook, e, out);
                }
            }
        }
        let now: BTreeSet<(&LeadId, &EventId)> = mapped.events.iter().map(|e| (&e.lead_id, &e.event_id)).collect();
        for (lead, id) in hook.derived.iter().filter(|(l, i)| !now.contains(&(l, i))) {
            let events = stored.get(lead).map(Vec::as_slice).unwrap_or_default();
            if let Current::Is(s) = Chain::of(events, id).current() {
                out.voided += 1;
                written(&mut writes, void_of(s, id), hook, s, out);
            }
        }
        Ok(writes)
    }
}

/// Adds a version to `writes`, or says why none could be written.
fn written(writes: &mut Vec<Event>, version: Option<Event>, hook: &RawHook, of: &Event, out: &mut Replayed) {
    match version {
        Some(v) => writes.push(v),
        None => out.failed.push(ReplayFailure {
            hook_id: hook.id.clone(),
            source: hook.source.as_str().to_owned(),
            received_at: hook.received_at,
            reason: format!(
                "event {} changed, but its id is too long to mark a corrected version of it",
                of.event_id
            ),
        }),
    }
}

/// Whether the stored version says what the mapping says now (an erased form as erased).
fn same(stored: &Event, now: &Event) -> bool {
    let mut now = now.as_erased_like(stored);
    now.supersedes.clone_from(&stored.supersedes);
    stored.same_fact(&now)
}

/// `{base}~{tag}{hash of what and after what}`: unique per content and predecessor, so a
/// mapping that goes back to an earlier content still supersedes the latest version.
fn version_id(base: &EventId, tag: &str, parts: &[&str]) -> Option<EventId> {
    use sha2::{Digest, Sha256};
    let hash = hex::encode(Sha256::digest(parts.join("\n").as_bytes()));
    EventId::parse(&format!("{base}~{tag}{}", &hash[..8])).ok()
}

/// The mapping's event as a new version after `after` (superseding `supersedes`, if any);
/// `None` when its id would be too long to mark as a version (ids near the 200-character limit).
fn revised(e: &Event, supersedes: Option<&EventId>, after: &EventId) -> Option<Event> {
    let id = version_id(&e.event_id, "", &[&fingerprint::of(e), after.as_str()])?;
    let mut v = e.clone();
    v.event_id = id;
    v.supersedes = supersedes.cloned();
    v.origin = Origin::History;
    Some(v)
}

fn void_of(stored: &Event, base: &EventId) -> Option<Event> {
    let id = version_id(base, "v", &[stored.event_id.as_str()])?;
    let body = EventBody::Void(Void {
        target: stored.event_id.clone(),
        reason: "replay: the current mapping derives no event from this webhook's fact".into(),
    });
    let mut v = Event::new(id, stored.lead_id.clone(), stored.occurred_at, body);
    v.origin = Origin::History;
    Some(v)
}

/// The stored versions of one fact: its mapping id and every `{id}~…` a replay wrote.
struct Chain<'a> {
    base: &'a EventId,
    versions: Vec<&'a Event>,
    voids: Vec<&'a Event>,
}

enum Current<'a> {
    /// Never stored.
    Absent,
    Is(&'a Event),
    /// A replay voided it: the void's id.
    VoidedByReplay(&'a EventId),
    /// Someone voided it: a replay leaves it so.
    VoidedByHand,
}

impl<'a> Chain<'a> {
    fn of(events: &'a [Event], base: &'a EventId) -> Chain<'a> {
        let prefix = format!("{base}~");
        let (voids, others): (Vec<&Event>, Vec<&Event>) =
            events.iter().partition(|e| matches!(e.body, EventBody::Void(_)));
        let versions = others
            .into_iter()
            .filter(|e| &e.event_id == base || e.event_id.as_str().starts_with(&prefix))
            .collect();
        Chain { base, versions, voids }
    }

    fn void_of(&self, id: &EventId) -> Option<&'a Event> {
        self.voids
            .iter()
            .filter(|v| v.voids() == Some(id))
            .max_by_key(|v| v.event_id.as_str())
            .copied()
    }

    /// The version no other supersedes and no void takes out; else why there is none.
    fn current(&self) -> Current<'a> {
        if self.versions.is_empty() {
            return Current::Absent;
        }
        let superseded: BTreeSet<&EventId> = self.versions.iter().filter_map(|e| e.supersedes.as_ref()).collect();
        let tips: Vec<&Event> = self
            .versions
            .iter()
            .filter(|e| !superseded.contains(&e.event_id))
            .copied()
            .collect();
        if let Some(live) = tips
            .iter()
            .filter(|e| self.void_of(&e.event_id).is_none())
            .max_by_key(|e| e.event_id.as_str())
        {
            return Current::Is(live);
        }
        let replay_prefix = format!("{}~v", self.base);
        let voided: Vec<&Event> = tips.iter().filter_map(|e| self.void_of(&e.event_id)).collect();
        match voided.iter().max_by_key(|v| v.event_id.as_str()) {
            Some(v) if voided.iter().all(|v| v.event_id.as_str().starts_with(&replay_prefix)) => {
                Current::VoidedByReplay(&v.event_id)
            }
            _ => Current::VoidedByHand,
        }
    }
}
