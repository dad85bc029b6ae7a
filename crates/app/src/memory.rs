//! An in-memory store: every store port, with the SQLite adapter's semantics, for tests and
//! for the store contract suite. Nothing survives the process.
//!
//! The model is SQLite's: the events of each lead keyed by event id, and one row per lead
//! counting the events stored and the events its saved summary folded. A lead whose stored
//! count is ahead of its summary has unreconciled events and needs attention.

use crate::error::PortError;
use crate::ports::{Appended, EventStore, LeadIndex, LeadSummary, Rollups};
use chrono::{DateTime, Utc};
use leadclock_domain::{Event, EventId, LeadId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Store ports held in memory behind one lock. Clones share the same state.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    events: BTreeMap<LeadId, BTreeMap<EventId, Event>>,
    leads: BTreeMap<LeadId, Row>,
    rollups: BTreeMap<String, String>,
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
        }
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
        if events.contains_key(&event.event_id) {
            return Ok(Appended::Duplicate);
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

    async fn retract(&self, lead: &LeadId, event: &EventId) -> Result<(), PortError> {
        let mut state = self.state();
        let removed = state.events.get_mut(lead).and_then(|events| events.remove(event));
        if let (Some(_), Some(row)) = (removed, state.leads.get_mut(lead)) {
            row.stored = row.stored.saturating_sub(1);
        }
        Ok(())
    }
}

impl LeadIndex for MemoryStore {
    /// Like SQLite: only a lead with stored events has a row to update, and a summary that
    /// folded fewer events than the saved one is ignored.
    async fn save_summary(&self, s: &LeadSummary) -> Result<(), PortError> {
        let mut state = self.state();
        let Some(row) = state.leads.get_mut(&s.lead_id) else {
            return Ok(());
        };
        if row.folded > s.events {
            return Ok(());
        }
        row.folded = s.events;
        row.next_due = s.next_due;
        row.first_engaged_at = s.first_engaged_at;
        row.last_activity = row.last_activity.max(s.last_activity);
        row.open = s.open;
        Ok(())
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
}

impl Rollups for MemoryStore {
    async fn save_rollup(&self, day: &str, report: &str) -> Result<(), PortError> {
        self.state().rollups.insert(day.to_owned(), report.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_domain::event::Touch;
    use leadclock_domain::EventBody;

    fn touch(id: &str, lead: &str) -> Event {
        Event {
            event_id: EventId::parse(id).unwrap(),
            lead_id: LeadId::parse(lead).unwrap(),
            occurred_at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            body: EventBody::Touch(Touch {
                owner: None,
                channel: "call".into(),
                outcome: None,
            }),
            extra: Default::default(),
        }
    }

    // The port behaviour is the store contract suite's (crates/store-contract); this is the
    // one promise of this type alone.
    #[tokio::test]
    async fn clones_share_one_state() {
        let store = MemoryStore::new();
        let clone = store.clone();
        assert_eq!(clone.append(&touch("e1", "L")).await.unwrap(), Appended::New);
        assert_eq!(store.append(&touch("e1", "L")).await.unwrap(), Appended::Duplicate);
        clone.save_rollup("2026-01-01", "{}").await.unwrap();
        assert_eq!(store.rollup("2026-01-01").as_deref(), Some("{}"));
        assert_eq!(store.load(&LeadId::parse("L").unwrap()).await.unwrap().len(), 1);
    }
}
