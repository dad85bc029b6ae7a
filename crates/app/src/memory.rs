//! An in-memory store: every store port, with the SQLite adapter's semantics, for tests and
//! for the store contract suite. Nothing survives the process.
//!
//! The model is SQLite's: the events of each lead keyed by event id, and one row per lead
//! counting the events stored and the events its saved summary folded. A lead whose stored
//! count is ahead of its summary has unreconciled events and needs attention.

use crate::error::PortError;
use crate::fold_state::{EncodedOpenClocks, EncodedSnapshot, FoldTag};
use crate::identity::{normal_email, HeldTouch, Identity, IdentityKey, ToolPerson};
use crate::outbox::{OutboxMessage, OutboxStatus};
use crate::ports::{
    Appended, EventStore, Identities, KeptFacts, LeadIndex, LeadSummary, Outbox, PersonalData, RawHooks, Rollups,
    Saved, StaleFacts, StepLog, WriteBacks,
};
use crate::raw_hooks::{RawHook, RawHookCursor};
use crate::writeback::WriteBack;
use chrono::{DateTime, NaiveDate, Utc};
use leadclock_domain::metrics::{Dimension, Facts};
use leadclock_domain::steps::{StepKey, StepRecord, StepStatus};
use leadclock_domain::{Event, EventId, LeadId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Store ports held in memory behind one lock. Clones share the same state.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    event_cap: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            state: Arc::default(),
            event_cap: crate::ports::MAX_EVENTS_PER_LEAD,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    events: BTreeMap<LeadId, BTreeMap<EventId, Event>>,
    leads: BTreeMap<LeadId, Row>,
    rollups: BTreeMap<String, String>,
    steps: BTreeMap<(LeadId, StepKey), StepRecord>,
    outbox: BTreeMap<String, OutboxMessage>,
    retention_through: Option<DateTime<Utc>>,
    /// Each tool person's stored identity keys (`email:…`, `crm:…`).
    identities: BTreeMap<ToolPerson, BTreeSet<String>>,
    held: BTreeMap<(ToolPerson, EventId), HeldTouch>,
    write_backs: BTreeMap<LeadId, WriteBack>,
    raw_hooks: BTreeMap<RawHookCursor, RawHook>,
    /// The kept report facts of each fold tag, summed over the leads that hold theirs there.
    facts: BTreeMap<String, Facts>,
}

/// What SQLite's `leads` table keeps about a lead; created by its first event.
#[derive(Debug)]
struct Row {
    stored: u64,
    folded: u64,
    next_due: Option<DateTime<Utc>>,
    first_engaged_at: Option<DateTime<Utc>>,
    last_activity: DateTime<Utc>,
    open: bool,
    armed: Vec<leadclock_domain::steps::Timer>,
    snapshot: Option<EncodedSnapshot>,
    open_clocks: Option<EncodedOpenClocks>,
    /// The tag of the last pass that kept the lead's report facts in order, and when the
    /// facts it holds were worked out (none held: `None`).
    facts_tag: Option<FoldTag>,
    facts_at: Option<DateTime<Utc>>,
}

impl Row {
    fn new(first_event_at: DateTime<Utc>) -> Self {
        Self {
            stored: 0,
            folded: 0,
            next_due: None,
            first_engaged_at: None,
            last_activity: first_event_at,
            open: false,
            armed: Vec::new(),
            snapshot: None,
            open_clocks: None,
            facts_tag: None,
            facts_at: None,
        }
    }

    /// The lead's facts held in the aggregate.
    fn kept(&self) -> Option<KeptFacts> {
        Some(KeptFacts {
            tag: self.facts_tag?,
            at: self.facts_at?,
        })
    }

    fn needs_attention(&self, before: DateTime<Utc>) -> bool {
        self.stored > self.folded || self.next_due.is_some_and(|due| due <= before)
    }

    /// Active after `from` and engaged (or, before any summary says so, active) before `to`.
    fn active_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.last_activity >= from && self.first_engaged_at.unwrap_or(self.last_activity) < to
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The same store with another per-lead cap (tests of the cap).
    pub fn with_event_cap(mut self, cap: u64) -> Self {
        self.event_cap = cap;
        self
    }

    /// The saved report of `day`, if any (the adapters' `rollup` read).
    pub fn rollup(&self, day: &str) -> Option<String> {
        self.state().rollups.get(day).cloned()
    }

    /// The state, even after a panic elsewhere: every update below is a single step, so a
    /// poisoned lock still guards consistent data.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn leads_where(&self, keep: impl Fn(&Row) -> bool) -> Vec<LeadId> {
        let state = self.state();
        state
            .leads
            .iter()
            .filter(|(_, row)| keep(row))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

impl EventStore for MemoryStore {
    async fn append(&self, event: &Event) -> Result<Appended, PortError> {
        let mut state = self.state();
        let events = state.events.entry(event.lead_id.clone()).or_default();
        if let Some(stored) = events.get(&event.event_id) {
            return Ok(Appended::Duplicate(Box::new(stored.clone())));
        }
        if events.len() as u64 >= self.event_cap && crate::ports::counts_toward_cap(event) {
            return Ok(Appended::Full { limit: self.event_cap });
        }
        events.insert(event.event_id.clone(), event.clone());
        let row = state
            .leads
            .entry(event.lead_id.clone())
            .or_insert_with(|| Row::new(event.occurred_at));
        row.stored += 1;
        row.last_activity = row.last_activity.max(event.occurred_at);
        Ok(Appended::New)
    }

    async fn load(&self, lead: &LeadId) -> Result<Vec<Event>, PortError> {
        let state = self.state();
        Ok(state
            .events
            .get(lead)
            .map(|events| events.values().cloned().collect())
            .unwrap_or_default())
    }
}

impl LeadIndex for MemoryStore {
    /// Like SQLite: only a lead with stored events has a row to update, and a summary that
    /// folded fewer events than the saved one is ignored.
    async fn save_summary(&self, s: &LeadSummary) -> Result<(), PortError> {
        let mut state = self.state();
        let State { leads, facts, .. } = &mut *state;
        let Some(row) = leads.get_mut(&s.lead_id) else {
            return Ok(());
        };
        if row.folded > s.events {
            return Ok(());
        }
        if let Some(change) = &s.facts {
            if !change.applies_to(row.kept()) {
                return Ok(());
            }
            row.facts_tag = Some(change.tag);
            row.facts_at = change.new.as_ref().map(|(k, _)| k.at);
            facts.entry(change.tag.text()).or_default().add(&change.difference());
        }
        row.folded = s.events;
        row.next_due = s.next_due;
        row.first_engaged_at = s.first_engaged_at;
        row.last_activity = row.last_activity.max(s.last_activity);
        row.open = s.open;
        row.armed = s.armed.clone();
        row.snapshot = s.snapshot.clone();
        row.open_clocks = s.open_clocks.clone();
        Ok(())
    }

    async fn saved(&self, lead: &LeadId) -> Result<Option<Saved>, PortError> {
        let state = self.state();
        Ok(state.leads.get(lead).filter(|row| row.folded > 0).map(|row| Saved {
            summary: LeadSummary {
                lead_id: lead.clone(),
                events: row.folded,
                next_due: row.next_due,
                first_engaged_at: row.first_engaged_at,
                last_activity: row.last_activity,
                open: row.open,
                armed: row.armed.clone(),
                snapshot: row.snapshot.clone(),
                open_clocks: row.open_clocks.clone(),
                facts: None,
            },
            stored: row.stored,
            facts: row.kept(),
        }))
    }

    async fn needing_attention(&self, before: DateTime<Utc>) -> Result<Vec<LeadId>, PortError> {
        Ok(self.leads_where(|row| row.needs_attention(before)))
    }

    async fn active_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<LeadId>, PortError> {
        Ok(self.leads_where(|row| row.active_between(from, to)))
    }

    async fn open_leads(&self) -> Result<Vec<LeadId>, PortError> {
        Ok(self.leads_where(|row| row.open))
    }

    async fn open_clocks(&self) -> Result<Vec<(LeadId, Option<EncodedOpenClocks>)>, PortError> {
        let state = self.state();
        let open = state.leads.iter().filter(|(_, row)| row.open);
        let current = |row: &Row| row.open_clocks.clone().filter(|_| row.folded == row.stored);
        Ok(open.map(|(id, row)| (id.clone(), current(row))).collect())
    }

    fn keeps_report_facts(&self) -> bool {
        true
    }

    async fn report_facts(
        &self,
        tag: FoldTag,
        first: NaiveDate,
        end: NaiveDate,
        dims: &[Dimension],
    ) -> Result<Facts, PortError> {
        let state = self.state();
        let all = state.facts.get(&tag.text()).cloned().unwrap_or_default();
        Ok(all.between(first, end).collapsed(first).only(dims))
    }

    async fn active_without_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tag: FoldTag,
    ) -> Result<Vec<(LeadId, Option<StaleFacts>)>, PortError> {
        let state = self.state();
        let held = |row: &Row| row.kept().filter(|k| k.tag == tag);
        let stale = |row: &Row| {
            Some(StaleFacts {
                kept: held(row)?,
                snapshot: row.snapshot.clone()?,
                events: row.folded,
            })
        };
        Ok(state
            .leads
            .iter()
            .filter(|(_, row)| row.active_between(from, to))
            .filter(|(_, row)| held(row).is_none() || row.stored > row.folded)
            .map(|(id, row)| (id.clone(), stale(row)))
            .collect())
    }

    async fn lacking_facts(&self, tag: FoldTag, limit: usize) -> Result<Vec<LeadId>, PortError> {
        let mut state = self.state();
        state.facts.retain(|t, _| *t == tag.text());
        let lacking = |row: &Row| row.folded > 0 && row.stored == row.folded && row.facts_tag != Some(tag);
        let ids = state
            .leads
            .iter()
            .filter(|(_, row)| lacking(row))
            .map(|(id, _)| id.clone());
        Ok(ids.take(limit).collect())
    }
}

/// Whether `new` may replace `old`: nothing replaces a decided record, and a settling record
/// keeps the first pass's window.
pub fn replaces(old: Option<&StepRecord>, new: &StepRecord) -> bool {
    match old {
        None => true,
        Some(o) => o.status == StepStatus::Settling && new.status != StepStatus::Settling,
    }
}

impl StepLog for MemoryStore {
    async fn steps(&self, lead: &LeadId) -> Result<Vec<StepRecord>, PortError> {
        let state = self.state();
        Ok(state
            .steps
            .iter()
            .filter(|((l, _), _)| l == lead)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn record(
        &self,
        lead: &LeadId,
        records: &[StepRecord],
        outbox: &[OutboxMessage],
    ) -> Result<Vec<StepKey>, PortError> {
        let mut state = self.state();
        let mut written = Vec::new();
        for r in records {
            let k = (lead.clone(), r.key);
            if replaces(state.steps.get(&k), r) {
                state.steps.insert(k, r.clone());
                written.push(r.key);
            }
        }
        for m in outbox.iter().filter(|m| written.contains(&m.step)) {
            state.outbox.entry(m.id()).or_insert_with(|| m.clone());
        }
        Ok(written)
    }
}

impl Outbox for MemoryStore {
    async fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>, PortError> {
        let state = self.state();
        let mut due: Vec<OutboxMessage> = state
            .outbox
            .values()
            .filter(|m| m.status == OutboxStatus::Pending && m.next_attempt_at <= now)
            .cloned()
            .collect();
        due.sort_by_key(|m| (m.next_attempt_at, m.created_at));
        due.truncate(limit);
        Ok(due)
    }

    async fn lead_messages(&self, lead: &LeadId) -> Result<Vec<OutboxMessage>, PortError> {
        Ok(self
            .state()
            .outbox
            .values()
            .filter(|m| &m.lead_id == lead)
            .cloned()
            .collect())
    }

    async fn lease_message(&self, m: &OutboxMessage, until: DateTime<Utc>) -> Result<bool, PortError> {
        let mut state = self.state();
        match state.outbox.get_mut(&m.id()) {
            Some(s) if s.status == OutboxStatus::Pending && s.next_attempt_at == m.next_attempt_at => {
                s.next_attempt_at = until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn update_message(&self, m: &OutboxMessage) -> Result<(), PortError> {
        let mut state = self.state();
        state.outbox.insert(m.id(), m.clone());
        if m.status == OutboxStatus::Sent && m.channel.is_durable() {
            if let Some(r) = state.steps.get_mut(&(m.lead_id.clone(), m.step)) {
                if r.status == StepStatus::Delivering {
                    r.status = StepStatus::Delivered;
                    r.at = m.sent_at.unwrap_or(r.at);
                    r.reason = format!("delivered to {}", m.channel.as_str());
                }
            }
        }
        Ok(())
    }

    async fn dead_letters(&self) -> Result<u64, PortError> {
        Ok(self
            .state()
            .outbox
            .values()
            .filter(|m| m.status == OutboxStatus::Dead)
            .count() as u64)
    }
}

impl PersonalData for MemoryStore {
    async fn leads_with_email(&self, email: &str) -> Result<Vec<LeadId>, PortError> {
        let state = self.state();
        let names = |e: &Event| match &e.body {
            leadclock_domain::EventBody::Form(f) => f
                .contact
                .as_ref()
                .and_then(|c| c.email.as_deref())
                .is_some_and(|m| m.eq_ignore_ascii_case(email)),
            _ => false,
        };
        Ok(state
            .events
            .iter()
            .filter(|(_, events)| events.values().any(names))
            .map(|(lead, _)| lead.clone())
            .collect())
    }

    async fn rewrite(&self, events: &[Event]) -> Result<(), PortError> {
        let mut state = self.state();
        for e in events {
            if let Some(stored) = state.events.get_mut(&e.lead_id).and_then(|l| l.get_mut(&e.event_id)) {
                *stored = e.clone();
            }
        }
        Ok(())
    }

    async fn retention_through(&self) -> Result<Option<DateTime<Utc>>, PortError> {
        Ok(self.state().retention_through)
    }

    async fn save_retention_through(&self, at: DateTime<Utc>) -> Result<(), PortError> {
        self.state().retention_through = Some(at);
        Ok(())
    }
}

impl WriteBacks for MemoryStore {
    async fn write_back(&self, lead: &LeadId) -> Result<Option<WriteBack>, PortError> {
        Ok(self.state().write_backs.get(lead).cloned())
    }

    async fn save_write_back(&self, w: &WriteBack, read: Option<u64>) -> Result<bool, PortError> {
        let mut state = self.state();
        if state.write_backs.get(&w.lead_id).map(|s| s.revision) != read {
            return Ok(false);
        }
        state.write_backs.insert(w.lead_id.clone(), w.clone());
        Ok(true)
    }

    async fn due_write_backs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<WriteBack>, PortError> {
        let mut due: Vec<WriteBack> = self
            .state()
            .write_backs
            .values()
            .filter(|w| w.status == OutboxStatus::Pending && w.next_attempt_at <= now)
            .cloned()
            .collect();
        due.sort_by_key(|w| w.next_attempt_at);
        due.truncate(limit);
        Ok(due)
    }
}

impl RawHooks for MemoryStore {
    async fn keep_raw_hook(&self, hook: &RawHook) -> Result<(), PortError> {
        self.state().raw_hooks.insert(hook.cursor(), hook.clone());
        Ok(())
    }

    async fn raw_hooks_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&RawHookCursor>,
        limit: usize,
    ) -> Result<Vec<RawHook>, PortError> {
        Ok(self
            .state()
            .raw_hooks
            .values()
            .filter(|h| from <= h.received_at && h.received_at < to)
            .filter(|h| after.is_none_or(|a| &h.cursor() > a))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn forget_raw_hooks(&self, leads: &[LeadId], emails: &[String]) -> Result<u64, PortError> {
        let mut state = self.state();
        let before = state.raw_hooks.len();
        state.raw_hooks.retain(|_, h| !h.names_any(leads, emails));
        Ok((before - state.raw_hooks.len()) as u64)
    }

    async fn forget_raw_hooks_before(&self, cutoff: DateTime<Utc>) -> Result<u64, PortError> {
        let mut state = self.state();
        let before = state.raw_hooks.len();
        state.raw_hooks.retain(|_, h| h.received_at >= cutoff);
        Ok((before - state.raw_hooks.len()) as u64)
    }
}

impl Rollups for MemoryStore {
    async fn save_rollup(&self, day: &str, report: &str) -> Result<(), PortError> {
        self.state().rollups.insert(day.to_owned(), report.to_owned());
        Ok(())
    }
}

impl Identities for MemoryStore {
    async fn leads_by_contact(&self, email: &str) -> Result<Vec<LeadId>, PortError> {
        let email = normal_email(email);
        let state = self.state();
        let names = |e: &Event| crate::identity::contact_emails([e]).contains(&email);
        Ok(state
            .events
            .iter()
            .filter(|(_, events)| events.values().any(names))
            .map(|(id, _)| id.clone())
            .collect())
    }

    async fn learn(&self, person: &ToolPerson, identity: &Identity) -> Result<(), PortError> {
        let keys = identity.keys().iter().map(IdentityKey::stored).collect::<Vec<_>>();
        self.state().identities.entry(person.clone()).or_default().extend(keys);
        Ok(())
    }

    async fn identity(&self, person: &ToolPerson) -> Result<Identity, PortError> {
        let state = self.state();
        let keys = state.identities.get(person).into_iter().flatten().map(String::as_str);
        Ok(Identity::from_keys(keys))
    }

    async fn people_with(&self, key: &IdentityKey) -> Result<Vec<ToolPerson>, PortError> {
        let key = key.stored();
        let state = self.state();
        Ok(state
            .identities
            .iter()
            .filter(|(_, keys)| keys.contains(&key))
            .map(|(p, _)| p.clone())
            .collect())
    }

    async fn hold(&self, touch: &HeldTouch) -> Result<(), PortError> {
        let key = (touch.person.clone(), touch.event_id.clone());
        self.state().held.entry(key).or_insert_with(|| touch.clone());
        Ok(())
    }

    async fn held(&self, person: &ToolPerson) -> Result<Vec<HeldTouch>, PortError> {
        let state = self.state();
        Ok(state
            .held
            .iter()
            .filter(|((p, _), _)| p == person)
            .map(|(_, h)| h.clone())
            .collect())
    }

    async fn release(&self, person: &ToolPerson, events: &[EventId]) -> Result<(), PortError> {
        let mut state = self.state();
        for id in events {
            state.held.remove(&(person.clone(), id.clone()));
        }
        Ok(())
    }

    async fn forget_email(&self, email: &str) -> Result<(), PortError> {
        let key = IdentityKey::Email(normal_email(email)).stored();
        for keys in self.state().identities.values_mut() {
            keys.remove(&key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_domain::event::Touch;
    use leadclock_domain::EventBody;

    fn touch(id: &str, lead: &str) -> Event {
        let body = EventBody::Touch(Touch {
            owner: None,
            channel: "call".into(),
            outcome: None,
        });
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        Event::new(EventId::parse(id).unwrap(), LeadId::parse(lead).unwrap(), at, body)
    }

    // The port behaviour is the store contract suite's (crates/store-contract); this is the
    // one promise of this type alone.
    #[tokio::test]
    async fn clones_share_one_state() {
        let store = MemoryStore::new();
        let clone = store.clone();
        assert_eq!(clone.append(&touch("e1", "L")).await.unwrap(), Appended::New);
        assert!(matches!(
            store.append(&touch("e1", "L")).await.unwrap(),
            Appended::Duplicate(_)
        ));
        clone.save_rollup("2026-01-01", "{}").await.unwrap();
        assert_eq!(store.rollup("2026-01-01").as_deref(), Some("{}"));
        assert_eq!(store.load(&LeadId::parse("L").unwrap()).await.unwrap().len(), 1);
    }
}
