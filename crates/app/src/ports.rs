//! The outside world, one trait per concern. Local and AWS adapters implement these;
//! handlers take them as generics, so both hosts run the same code.

use crate::error::PortError;
use chrono::{DateTime, Utc};
use leadclock_domain::clock::{Escalation, Timer};
use leadclock_domain::{Event, EventId, LeadId};
use std::future::Future;

/// Result of storing an event: first time, or an id seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    New,
    Duplicate,
}

/// What the store keeps about a lead beside its events, for timers, sweeps and reports.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadSummary {
    pub lead_id: LeadId,
    /// Events folded into this summary; a summary older than the events is stale.
    pub events: u64,
    /// Soonest pending escalation step, if any clock runs.
    pub next_due: Option<DateTime<Utc>>,
    /// Engagement of the first cycle.
    pub first_engaged_at: Option<DateTime<Utc>>,
    /// Latest `occurred_at` of any event.
    pub last_activity: DateTime<Utc>,
    /// A clock of the current cycle is running (the lead is on the open-SLA list).
    pub open: bool,
}

/// The durable log of events, keyed by event id.
pub trait EventStore: Send + Sync {
    /// Stores `event` unless its id is already stored. Durable once this returns `Ok`.
    /// Marks the lead for reconciliation until a newer summary is saved.
    fn append(&self, event: &Event) -> impl Future<Output = Result<Appended, PortError>> + Send;

    /// Every stored event of a lead, in any order.
    fn load(&self, lead: &LeadId) -> impl Future<Output = Result<Vec<Event>, PortError>> + Send;

    /// Removes an escalation claim whose notification failed, so a retry can claim it again.
    fn retract(&self, lead: &LeadId, event: &EventId) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Per-lead summaries: what needs a timer, and which leads a period touches.
pub trait LeadIndex: Send + Sync {
    /// Saves a summary unless a newer one (more events) is already saved.
    fn save_summary(&self, summary: &LeadSummary) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Leads with an escalation due by `before`, or with events not yet reconciled.
    fn needing_attention(&self, before: DateTime<Utc>) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;

    /// Leads with activity in `[from, to)` or engaged before `to` and active after `from`.
    fn active_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;

    /// Leads with a running clock now.
    fn open_leads(&self) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;
}

/// Totals for operators and load tests (`GET /v1/stats`).
pub trait EventCount: Send + Sync {
    fn count_events(&self) -> impl Future<Output = Result<u64, PortError>> + Send;
}

/// Where nightly rollups are kept.
pub trait Rollups: Send + Sync {
    /// Stores one day's report (JSON), replacing an earlier run for that day.
    fn save_rollup(&self, day: &str, report: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// One-off timers. A timer is named by lead, cycle and clock ([`Timer::key`]); scheduling
/// replaces the pending timer of that name.
pub trait Timers: Send + Sync {
    fn schedule(&self, timer: &Timer) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Best effort: a timer left behind finds nothing due when it fires.
    fn cancel(&self, timer: &Timer) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Where escalations go (stdout, files, Slack, SNS…).
pub trait Notifier: Send + Sync {
    /// `Ok` once the escalation is durably handed over (written, queued or published).
    fn notify(&self, escalation: &Escalation) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Announces a nightly rollup: a readable summary and the full report as JSON.
    fn publish_rollup(
        &self,
        day: &str,
        summary: &str,
        report: &serde_json::Value,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The time, injected so tests never wait for real SLAs.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told: for tests and replays.
#[derive(Debug, Clone)]
pub struct ManualClock(std::sync::Arc<std::sync::Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }
    pub fn advance(&self, d: chrono::Duration) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
