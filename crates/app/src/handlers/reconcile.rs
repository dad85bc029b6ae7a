//! Bring one lead's outside world in line with its events: record what each due step's
//! outcome is (claiming the ones to deliver, with their outbox messages, in one write), arm the
//! timer of every running clock, cancel timers made stale.
//!
//! Ingest, a firing timer and the periodic sweep all end here, so a lost timer or a crash
//! between storing and scheduling is mended by the next pass. The decisions themselves are the
//! domain's ([`steps::plan`]); this is only their execution.

use crate::error::PortError;
use crate::fold_state::{self, EncodedOpenClocks, EncodedSnapshot, FoldTag};
use crate::message::{EscalationMessage, OutcomeMessage};
use crate::outbox::OutboxMessage;
use crate::ports::{
    Clock, EventStore, FactsChange, Identities, KeptFacts, LeadIndex, LeadSummary, Notifier, PersonalData, Saved,
    StepLog, Timers, WriteBacks,
};
use crate::App;
use chrono::{DateTime, Duration, Utc};
use leadclock_domain::clock::Escalation;
use leadclock_domain::steps::{self, Plan, StepBook, StepKey, StepRecord, StepStatus, Timer};
use leadclock_domain::{Event, EventBody, Lead, LeadId, Policy};
use std::sync::Arc;

#[derive(Debug)]
pub struct Reconciled {
    /// The folded lead; its timeline may hold only the first entries (a fold continued from
    /// a snapshot), `timeline_total` says how many there are.
    pub lead: Lead,
    pub timeline_total: usize,
    /// The policy version that judged the lead, and its number.
    pub policy: Arc<Policy>,
    pub policy_version: u32,
    /// Steps this pass claimed for delivery, in order.
    pub sent: Vec<Escalation>,
    /// Every record this pass wrote (settling, outcomes, claims).
    pub recorded: Vec<StepRecord>,
    /// The lead's records after this pass.
    pub records: Vec<StepRecord>,
    pub timers: Vec<Timer>,
    /// Failures that leave work for a retry (the lead stays marked for attention).
    pub failures: Vec<PortError>,
}

/// Steps an earlier release recorded as `escalated` events: each becomes a `delivered` record
/// once, so upgraded stores keep what they sent.
fn legacy_claims(events: &[Event], book: &StepBook) -> Vec<StepRecord> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Escalated(x) => Some((
                e,
                StepKey {
                    cycle: x.cycle,
                    clock: x.clock,
                    step: x.step,
                },
            )),
            _ => None,
        })
        .filter(|(_, key)| book.get(key).is_none())
        .map(|(e, key)| StepRecord {
            key,
            status: StepStatus::Delivered,
            due_at: e.occurred_at,
            first_seen_at: e.occurred_at,
            settle_until: None,
            at: e.occurred_at,
            reason: "delivered by an earlier release".into(),
        })
        .collect()
}

/// A lead's fold, and what the pass needs of what was read to make it.
struct Folded {
    lead: Lead,
    timeline_total: usize,
    /// The lead's own stored events (not the merged records'): what the store compares with
    /// its count to tell an unreconciled lead.
    own_count: u64,
    last_activity: Option<DateTime<Utc>>,
    /// Every event folded, when they were read (a full fold).
    events: Option<Vec<Event>>,
    /// What to continue from next time.
    snapshot: Option<EncodedSnapshot>,
}

/// The clocks running on a lead's current cycle after a pass.
struct OpenNow {
    /// `None` when none runs: the lead is off the open list.
    clocks: Option<EncodedOpenClocks>,
    /// When the open lead closes as `no_response`. The sweep comes back at that instant, so
    /// the open index forgets the lead without any event or timer of its own.
    ages_out: Option<DateTime<Utc>>,
}

impl OpenNow {
    fn of(lead: &Lead, policy: &Policy, tag: FoldTag, now: DateTime<Utc>) -> OpenNow {
        let clocks = leadclock_domain::metrics::open_clocks(lead, policy, now);
        OpenNow {
            ages_out: clocks.first().and_then(|c| c.ends_at),
            clocks: EncodedOpenClocks::encode(&clocks, tag),
        }
    }
}

fn summary(folded: &Folded, plan: &Plan, open: &OpenNow, facts: Option<FactsChange>) -> Option<LeadSummary> {
    Some(LeadSummary {
        lead_id: folded.lead.lead_id.clone(),
        events: folded.own_count,
        next_due: plan.timers.iter().map(|t| t.due_at).chain(open.ages_out).min(),
        first_engaged_at: folded.lead.cycles.first().map(|c| c.engaged_at),
        last_activity: folded.last_activity?,
        open: open.clocks.is_some(),
        armed: plan.timers.clone(),
        snapshot: folded.snapshot.clone(),
        open_clocks: open.clocks.clone(),
        facts,
    })
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex + StepLog + PersonalData + Identities + WriteBacks,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    /// Reconciles one lead: decide, record, arm. A lead a CRM merge folded into another
    /// changes the survivor's clocks, so the survivor (and its own survivor, along a chain of
    /// merges) is reconciled after it; the answer is the lead's own pass.
    pub async fn reconcile(&self, lead_id: &LeadId) -> Result<Reconciled, PortError> {
        self.reconcile_after(lead_id, None).await
    }

    /// [`Self::reconcile`] after storing `new`, an event of `lead_id` the store told new: the
    /// lead's saved snapshot continues by that one event when nothing else arrived.
    pub(crate) async fn reconcile_after(&self, lead_id: &LeadId, new: Option<&Event>) -> Result<Reconciled, PortError> {
        let mut first = self.reconcile_once(lead_id, new).await?;
        let mut next = first.lead.merged_into.clone();
        // A chain of merges is followed once per lead: a (corrupt) cycle of merges ends too.
        let mut seen = std::collections::BTreeSet::from([lead_id.clone()]);
        while let Some(into) = next
            .take()
            .filter(|l| seen.len() <= leadclock_domain::merge::MAX_MERGED && seen.insert(l.clone()))
        {
            match self.reconcile_once(&into, None).await {
                Ok(r) => {
                    first.failures.extend(r.failures);
                    next = r.lead.merged_into;
                }
                Err(e) => first.failures.push(e),
            }
        }
        Ok(first)
    }

    async fn reconcile_once(&self, lead_id: &LeadId, new: Option<&Event>) -> Result<Reconciled, PortError> {
        let now = self.clock.now();
        let delivery = self.policy_now();
        let saved = self.store.saved(lead_id).await?;
        let mut failures = Vec::new();
        let folded = match self.continued(saved.as_ref(), new, &delivery, now) {
            Some(f) => f,
            None => self.refolded(lead_id, &delivery, now, &mut failures).await?,
        };
        let version = self.versions.judging(&folded.lead);
        let (judging, policy_version) = (version.policy.clone(), version.number);
        let armed = saved.as_ref().map(|s| s.summary.armed.clone()).unwrap_or_default();
        let stored = self.store.steps(lead_id).await?;
        let legacy = folded
            .events
            .as_deref()
            .map(|events| legacy_claims(events, &StepBook::new(stored.iter().cloned())))
            .unwrap_or_default();
        let book = StepBook::new(stored.into_iter().chain(legacy.iter().cloned()));
        let mut plan = steps::plan(&steps::Inputs {
            lead: &folded.lead,
            policy: &judging,
            delivery: &delivery,
            now,
            book: &book,
            armed: &armed,
        });
        plan.records.splice(0..0, legacy);
        let (recorded, sent) = match self.record(lead_id, &plan, now).await {
            Ok(written) => written,
            Err(e) => {
                failures.push(e);
                retry_later(&mut plan, now);
                (Vec::new(), Vec::new())
            }
        };
        self.arm(&armed, &plan.timers, &mut failures).await;
        // The CRM's copy of the figures: a failure leaves the lead marked, so the sweep retries.
        if let Err(e) = self.want_write_back(&folded.lead, &judging, now).await {
            failures.push(e);
        }
        // Saving the summary clears the lead's "needs attention" mark only when all went well;
        // otherwise the sweep comes back to it.
        if failures.is_empty() {
            let open = OpenNow::of(&folded.lead, &judging, self.fold_tag, now);
            let facts = match self.store.keeps_report_facts() {
                true => Some(self.facts_change(saved.as_ref(), &folded, &open, now)?),
                false => None,
            };
            if let Some(s) = summary(&folded, &plan, &open, facts) {
                self.store.save_summary(&s).await?;
            }
        }
        let records = StepBook::new(book.records().cloned().chain(recorded.iter().cloned()))
            .records()
            .cloned()
            .collect();
        Ok(Reconciled {
            lead: folded.lead,
            timeline_total: folded.timeline_total,
            policy: judging,
            policy_version,
            sent,
            recorded,
            records,
            timers: plan.timers,
            failures,
        })
    }

    /// What this pass changes in the store's per-day report facts: the facts the store holds
    /// for the lead (worked out again from the saved snapshot they were made of) come out, and
    /// the new snapshot's go in when the lead is settled (no clock runs, so its figures no
    /// longer change with time). A lead without a snapshot (a merge, a correction, one too big)
    /// keeps none and is read in full by reports.
    fn facts_change(
        &self,
        saved: Option<&Saved>,
        folded: &Folded,
        open: &OpenNow,
        now: DateTime<Utc>,
    ) -> Result<FactsChange, PortError> {
        let (tag, id) = (self.fold_tag, &folded.lead.lead_id);
        let held = saved.and_then(|s| Some((s, s.facts.filter(|k| k.tag == tag)?)));
        let old = match held {
            None => None,
            Some((s, kept)) => {
                let s = &s.summary;
                Some((kept, self.kept_facts(s.snapshot.as_ref(), &s.lead_id, s.events, kept)?))
            }
        };
        // Whole milliseconds, as the stores keep the instant: the facts taken out later are
        // worked out at the same instant as these.
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let settled =
            open.clocks.is_none() && leadclock_domain::metrics::settled(&folded.lead, self.versions.as_ref(), now);
        let new = match (&folded.snapshot, settled) {
            (Some(snapshot), true) => match (&old, held) {
                // The same snapshot as saved: the same facts (a settled lead's do not change).
                (Some(kept), Some((s, _)))
                    if s.summary.snapshot.as_ref() == Some(snapshot) && s.summary.events == folded.own_count =>
                {
                    Some(kept.clone())
                }
                _ => self
                    .facts_of(snapshot, id, folded.own_count, now)
                    .map(|f| (KeptFacts { tag, at: now }, f)),
            },
            _ => None,
        };
        Ok(FactsChange { tag, old, new })
    }

    /// The lead's saved snapshot continued: as it is when the store holds exactly the events it
    /// folded, by `new` when that is the one event more. `None` when only a re-fold is right
    /// (or the lead's personal data is due for erasure, which reads every event).
    fn continued(
        &self,
        saved: Option<&Saved>,
        new: Option<&Event>,
        delivery: &Policy,
        now: DateTime<Utc>,
    ) -> Option<Folded> {
        let saved = saved?;
        let folded = saved.summary.events;
        let snapshot = saved
            .summary
            .snapshot
            .as_ref()?
            .decode(self.fold_tag, &saved.summary.lead_id, folded)?;
        let (snapshot, moved) = match new {
            _ if saved.stored == folded => (snapshot, false),
            Some(e) if saved.stored == folded + 1 => (
                snapshot.fold_onto(e, &|t| self.versions.in_force_at(t).policy.as_ref())?,
                true,
            ),
            _ => return None,
        };
        if crate::handlers::privacy::past_retention(snapshot.last_at, delivery, now) {
            return None;
        }
        Some(Folded {
            timeline_total: snapshot.timeline_total,
            own_count: saved.stored,
            last_activity: Some(snapshot.last_at),
            events: None,
            snapshot: match moved {
                true => EncodedSnapshot::encode(snapshot.clone(), self.fold_tag, saved.stored),
                false => saved.summary.snapshot.clone(),
            },
            lead: snapshot.lead,
        })
    }

    /// The lead folded from every stored event (its merged records' too), erasing personal
    /// data that arrived already past retention (an import of old leads): the retention pass
    /// has gone past these leads and would not come back.
    async fn refolded(
        &self,
        lead_id: &LeadId,
        delivery: &Policy,
        now: DateTime<Utc>,
        failures: &mut Vec<PortError>,
    ) -> Result<Folded, PortError> {
        let own = self.store.load(lead_id).await?;
        let own_count = own.len() as u64;
        let events = self.with_merged(lead_id, own).await?;
        let (lead, _) = self.versions.fold(lead_id.clone(), &events);
        let erased = match self.erase_if_expired(&events, delivery, now).await {
            Ok(n) => n,
            Err(e) => {
                failures.push(e);
                0
            }
        };
        // A snapshot is made of the events as stored: not of the ones just erased.
        let snapshot = (erased == 0)
            .then(|| fold_state::after_refold(&lead, &events, self.fold_tag))
            .flatten();
        Ok(Folded {
            timeline_total: lead.timeline.len(),
            own_count,
            last_activity: events.iter().map(|e| e.occurred_at).max(),
            events: Some(events),
            snapshot,
            lead,
        })
    }

    /// Writes the plan's records with their outbox messages; returns what was written and the
    /// escalations it claimed.
    async fn record(
        &self,
        lead_id: &LeadId,
        plan: &Plan,
        now: DateTime<Utc>,
    ) -> Result<(Vec<StepRecord>, Vec<Escalation>), PortError> {
        if plan.records.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let outbox = self.messages(lead_id, plan, now)?;
        let written = self.store.record(lead_id, &plan.records, &outbox).await?;
        let recorded: Vec<StepRecord> = plan
            .records
            .iter()
            .filter(|r| written.contains(&r.key))
            .cloned()
            .collect();
        let sent: Vec<Escalation> = plan
            .deliver
            .iter()
            .filter(|e| written.contains(&e.key))
            .cloned()
            .collect();
        for r in &recorded {
            tracing::info!(lead_id = %lead_id, step = %r.key, status = r.status.as_str(), reason = %r.reason, "step recorded");
        }
        if !outbox.is_empty() {
            self.notifier.wake();
        }
        Ok((recorded, sent))
    }

    /// The outbox messages of the plan's records: the escalation for a claim, an outcome line
    /// for the rest, on the channels the host sends each to.
    fn messages(&self, lead_id: &LeadId, plan: &Plan, now: DateTime<Utc>) -> Result<Vec<OutboxMessage>, PortError> {
        let mut out = Vec::new();
        for r in &plan.records {
            let payload = match plan.deliver.iter().find(|e| e.key == r.key) {
                Some(e) => serde_json::to_string(&EscalationMessage::of(e)),
                None if r.status == StepStatus::Settling => continue,
                None => serde_json::to_string(&OutcomeMessage::of(lead_id, r)),
            }
            .map_err(|e| PortError::permanent("encode message", e))?;
            for channel in self.notifier.channels_for(r.status) {
                out.push(OutboxMessage::new(
                    lead_id.clone(),
                    r.key,
                    channel,
                    payload.clone(),
                    now,
                ));
            }
        }
        Ok(out)
    }

    /// Arms the timers the plan needs and cancels the ones it no longer does.
    async fn arm(&self, armed: &[Timer], wanted: &[Timer], failures: &mut Vec<PortError>) {
        for stale in armed.iter().filter(|old| !wanted.iter().any(|t| t.key() == old.key())) {
            if let Err(e) = self.timers.cancel(stale).await {
                // Harmless: a stale timer finds nothing due.
                tracing::warn!(lead_id = %stale.lead_id, error = %e, "could not cancel a stale timer");
            }
        }
        for t in wanted.iter().filter(|t| !armed.contains(t)) {
            if let Err(e) = self.timers.schedule(t).await {
                failures.push(e);
            }
        }
    }

    /// Re-arms the timers every lead's last pass armed: for a host whose timers live in memory
    /// (the local server), at start-up. Returns how many leads it restored.
    pub async fn restore_timers(&self, horizon: Duration) -> Result<usize, PortError> {
        let ids = self.store.needing_attention(self.clock.now() + horizon).await?;
        for id in &ids {
            for t in self.store.summary(id).await?.map(|s| s.armed).unwrap_or_default() {
                self.timers.schedule(&t).await?;
            }
        }
        Ok(ids.len())
    }

    /// Reconciles every lead with a step due by `now + horizon` or with unreconciled events.
    /// Returns how many leads it visited.
    pub async fn sweep(&self, horizon: Duration) -> Result<usize, PortError> {
        let ids = self.store.needing_attention(self.clock.now() + horizon).await?;
        for id in &ids {
            if let Err(e) = self.reconcile(id).await {
                tracing::warn!(lead_id = %id, error = %e, "sweep could not reconcile lead");
            }
        }
        Ok(ids.len())
    }

    /// Passes again up to `limit` reconciled leads whose last pass ran under other policy
    /// versions or another release, or before report facts were kept: each pass keeps the
    /// lead's facts under this one (see [`FactsChange`]), so reports read fewer leads in full.
    /// Until a lead is passed, reports read it as before. Returns how many leads it passed.
    pub async fn backfill_facts(&self, limit: usize) -> Result<usize, PortError> {
        let ids = self.store.lacking_facts(self.fold_tag, limit).await?;
        for id in &ids {
            if let Err(e) = self.reconcile(id).await {
                tracing::warn!(lead_id = %id, error = %e, "backfill could not reconcile lead");
            }
        }
        if !ids.is_empty() {
            tracing::info!(leads = ids.len(), "report facts backfilled");
        }
        Ok(ids.len())
    }
}

/// Leads the local server's backfill passes a second ([`App::backfill_facts`]): a million
/// leads in about an hour and a half, without holding the store from new events for long.
pub const BACKFILL_PER_TICK: usize = 200;

/// Delay before a pass whose records could not be written tries again.
pub const RETRY_DELAY: Duration = Duration::seconds(30);

/// Nothing was recorded: come back a little later rather than in a tight loop. (The lead stays
/// marked for the sweep too, since its summary is not saved.)
fn retry_later(plan: &mut Plan, now: DateTime<Utc>) {
    for t in &mut plan.timers {
        t.due_at = t.due_at.max(now + RETRY_DELAY);
    }
}
