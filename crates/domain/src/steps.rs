//! What to do about each escalation step: the one rule every delivery path applies (a timer
//! firing, the sweep, the reconcile after an event, the AWS escalate function).
//!
//! A step the events *earned* (its clock was still running when it fell due) gets exactly one
//! outcome, the first that applies of:
//!
//! 1. `history`: no live event happened at or before its due instant (an import, a backfill,
//!    `"history": true`) — history never pages anyone;
//! 2. `stale`: it was already more than `stale_after` past due when leadclock first learned it
//!    was due (a late webhook, a restart after a long outage of a step nobody armed);
//! 3. `shadow`: the lead's team or lead type is in shadow mode — computed, not delivered;
//! 4. `cancelled`: by the time it could be delivered the clock had stopped (the late event
//!    that stops it arrived within the settle window, or was older than the step);
//! 5. `delivered` (after `delivering`, while its messages are in the outbox).
//!
//! A step that falls due while leadclock is watching (its timer was armed for that instant) is
//! delivered at its instant. A step that an *event* makes due or overdue first waits out the
//! settle window, so a late form whose in-SLA assignment follows a second later pages nobody.
//!
//! Metrics never read outcomes: they count earned steps (see [`crate::clock::StepView`]), which
//! depend only on event times. Outcomes record what happened, so they may differ with arrival.

use crate::clock::{self, ClockView, Escalation};
use crate::event::{ClockKind, LeadId};
use crate::lead::{Cycle, Lead};
use crate::policy::{Mode, Policy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One ladder step of one clock of one cycle of a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StepKey {
    pub cycle: u32,
    pub clock: ClockKind,
    /// 0-based.
    pub step: u32,
}

impl StepKey {
    /// The step's id within its lead: `1:response:2` (the step 1-based, as people count).
    pub fn id(&self) -> String {
        format!("{}:{}:{}", self.cycle, self.clock.as_str(), self.step + 1)
    }

    /// The step's id across leads: the idempotency key receivers see.
    pub fn global_id(&self, lead: &LeadId) -> String {
        format!("{lead}:{}", self.id())
    }

    /// Reads [`StepKey::id`] back.
    pub fn parse(s: &str) -> Option<StepKey> {
        let mut parts = s.split(':');
        let cycle = parts.next()?.parse().ok()?;
        let clock = match parts.next()? {
            "assignment" => ClockKind::Assignment,
            "response" => ClockKind::Response,
            _ => return None,
        };
        let step = parts.next()?.parse::<u32>().ok()?.checked_sub(1)?;
        parts.next().is_none().then_some(StepKey { cycle, clock, step })
    }
}

impl fmt::Display for StepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// Where a step stands. The last five are outcomes and final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Made due by an event: waiting out the settle window for late events.
    Settling,
    /// Claimed for delivery: its messages are in the outbox, none accepted by a durable channel yet.
    Delivering,
    Delivered,
    Stale,
    History,
    Shadow,
    Cancelled,
}

impl StepStatus {
    pub const OUTCOMES: [StepStatus; 5] = [
        Self::Delivered,
        Self::Stale,
        Self::History,
        Self::Shadow,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Settling => "settling",
            Self::Delivering => "delivering",
            Self::Delivered => "delivered",
            Self::Stale => "stale",
            Self::History => "history",
            Self::Shadow => "shadow",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Settling, Self::Delivering]
            .into_iter()
            .chain(Self::OUTCOMES)
            .find(|x| x.as_str() == s)
    }

    /// Nothing more will be done about the step (delivering counts: the outbox finishes it).
    pub fn is_decided(self) -> bool {
        self != Self::Settling
    }
}

/// What is known about one step: stored by the hosts, read back before each plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub key: StepKey,
    pub status: StepStatus,
    /// The step's due instant when it was recorded.
    pub due_at: DateTime<Utc>,
    /// When leadclock first learned the step was due.
    pub first_seen_at: DateTime<Utc>,
    /// End of the settle window (settling only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_until: Option<DateTime<Utc>>,
    /// When the status was last set.
    pub at: DateTime<Utc>,
    /// Why, in words, for people reading the lead.
    pub reason: String,
}

/// The records of one lead, by step.
#[derive(Debug, Clone, Default)]
pub struct StepBook(BTreeMap<StepKey, StepRecord>);

impl StepBook {
    pub fn new(records: impl IntoIterator<Item = StepRecord>) -> Self {
        StepBook(records.into_iter().map(|r| (r.key, r)).collect())
    }
    pub fn get(&self, key: &StepKey) -> Option<&StepRecord> {
        self.0.get(key)
    }
    pub fn records(&self) -> impl Iterator<Item = &StepRecord> {
        self.0.values()
    }
}

/// A pending wake-up for one clock of a lead: at its next step's due instant, or at the end
/// of that step's settle window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub lead_id: LeadId,
    pub cycle: u32,
    pub clock: ClockKind,
    pub step: u32,
    pub due_at: DateTime<Utc>,
}

impl Timer {
    /// Stable name for the timer of one lead, cycle and clock: arming replaces it.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.lead_id, self.cycle, self.clock.as_str())
    }

    pub fn step_key(&self) -> StepKey {
        StepKey {
            cycle: self.cycle,
            clock: self.clock,
            step: self.step,
        }
    }
}

/// What a pass must do for one lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Records to write. A host writes each only if the step has no decided record yet, so
    /// racing passes agree on one outcome.
    pub records: Vec<StepRecord>,
    /// Steps to claim and deliver now (their `delivering` record is in `records`).
    pub deliver: Vec<Escalation>,
    /// The timers the lead needs: one per running clock, at its next step or settle end.
    pub timers: Vec<Timer>,
}

/// Everything a plan is computed from.
pub struct Inputs<'a> {
    pub lead: &'a Lead,
    /// The policy that judges the lead: its targets, ladders and calendars.
    pub policy: &'a Policy,
    /// The policy in force now, for delivery: shadow or live and the settle window are read
    /// when a step falls due, not when the lead engaged. The same as `policy` for most leads.
    pub delivery: &'a Policy,
    pub now: DateTime<Utc>,
    pub book: &'a StepBook,
    /// The timers armed before this pass: a step armed for its due instant was being watched.
    pub armed: &'a [Timer],
}

/// The plan for a lead.
pub fn plan(inp: &Inputs) -> Plan {
    let mut out = Plan::default();
    let Some(current) = inp.lead.current_cycle() else {
        return out;
    };
    for c in inp.lead.cycles.iter().filter(|c| c.index != current.index) {
        cancel_leftovers(inp, c, &mut out);
    }
    for view in clock::cycle_clocks(current, inp.policy, inp.now) {
        plan_clock(inp, current, &view, &mut out);
    }
    out
}

/// An earlier cycle is over: whatever was waiting in it is cancelled.
fn cancel_leftovers(inp: &Inputs, cycle: &Cycle, out: &mut Plan) {
    let waiting = inp
        .book
        .records()
        .filter(|r| r.key.cycle == cycle.index && !r.status.is_decided());
    for r in waiting {
        out.records.push(decided(
            inp,
            r.key,
            r.due_at,
            StepStatus::Cancelled,
            "a new MQL cycle started".into(),
        ));
    }
}

fn decided(inp: &Inputs, key: StepKey, due_at: DateTime<Utc>, status: StepStatus, reason: String) -> StepRecord {
    let first_seen_at = inp.book.get(&key).map_or(inp.now, |r| r.first_seen_at);
    StepRecord {
        key,
        status,
        due_at,
        first_seen_at,
        settle_until: None,
        at: inp.now,
        reason,
    }
}

/// One clock's steps in ladder order, until one waits. Steps that are all already due when
/// leadclock learns of them (a back-fill, a late form) settle in one window together: each is
/// decided when that window ends, not one window after the other.
fn plan_clock(inp: &Inputs, cycle: &Cycle, view: &ClockView, out: &mut Plan) {
    let mut settling = false;
    for step in &view.steps {
        let key = StepKey {
            cycle: cycle.index,
            clock: view.clock,
            step: step.index,
        };
        let record = inp.book.get(&key);
        if record.is_some_and(|r| r.status.is_decided()) {
            continue;
        }
        match judge(inp, cycle, view, key, step.due_at, step.earned, record) {
            Verdict::NotReached => {
                if record.is_some() || armed_at(inp, key).is_some() {
                    let reason = stopped_reason(view);
                    out.records
                        .push(decided(inp, key, step.due_at, StepStatus::Cancelled, reason));
                }
            }
            // The settle window's timer re-plans the clock; nothing later is armed or sent first.
            Verdict::Wait(_) | Verdict::Deliver if settling => return,
            Verdict::Wait(until) => {
                out.timers.push(timer(inp, key, until));
                return;
            }
            Verdict::Settle(until) => {
                out.records.push(settling_record(inp, key, step.due_at, until));
                if !settling {
                    out.timers.push(timer(inp, key, until));
                }
                settling = true;
            }
            Verdict::Outcome(status, reason) => out.records.push(decided(inp, key, step.due_at, status, reason)),
            Verdict::Deliver => {
                if let Some(esc) = Escalation::of(&inp.lead.lead_id, cycle, view, step.index, inp.policy, inp.delivery)
                {
                    let reason = "due and delivered to the outbox".to_owned();
                    out.records
                        .push(decided(inp, key, step.due_at, StepStatus::Delivering, reason));
                    out.deliver.push(esc);
                }
            }
        }
    }
}

enum Verdict {
    /// Not earned, and never will be: the clock stopped first.
    NotReached,
    /// Not due yet: wake at this instant.
    Wait(DateTime<Utc>),
    /// Just learned it is due: start the settle window, ending then.
    Settle(DateTime<Utc>),
    Outcome(StepStatus, String),
    Deliver,
}

/// The rule, for one undecided step.
fn judge(
    inp: &Inputs,
    cycle: &Cycle,
    view: &ClockView,
    key: StepKey,
    due: DateTime<Utc>,
    earned: bool,
    record: Option<&StepRecord>,
) -> Verdict {
    if !earned {
        return if view.is_running() {
            Verdict::Wait(due)
        } else {
            Verdict::NotReached
        };
    }
    if inp.lead.first_live_at.is_none_or(|live| due < live) {
        return Verdict::Outcome(
            StepStatus::History,
            "only history events came before it fell due".into(),
        );
    }
    let watched = foreseen(inp, view, key);
    let first_seen = record.map_or(if watched { due } else { inp.now }, |r| r.first_seen_at);
    if view.is_running() && !watched && record.is_none() {
        return Verdict::Settle(inp.now + inp.delivery.delivery.settle);
    }
    if let Some(until) = record
        .and_then(|r| r.settle_until)
        .filter(|u| view.is_running() && inp.now < *u)
    {
        return Verdict::Wait(until);
    }
    if first_seen - due > stale_after(inp, cycle, view.clock) {
        let late = clock::human_duration((first_seen - due).num_seconds());
        return Verdict::Outcome(
            StepStatus::Stale,
            format!("already {late} past due when leadclock learned of it"),
        );
    }
    if mode_of(inp.delivery, cycle) == Mode::Shadow {
        return Verdict::Outcome(StepStatus::Shadow, "shadow mode: measured, not delivered".into());
    }
    if !view.is_running() {
        return Verdict::Outcome(StepStatus::Cancelled, stopped_reason(view));
    }
    Verdict::Deliver
}

/// The ladder's own `stale_after` (the judging version's ladder), else the delivery default of
/// the policy in force now.
fn stale_after(inp: &Inputs, cycle: &Cycle, clock: ClockKind) -> chrono::Duration {
    clock::rule_of(inp.policy, cycle, clock).map_or(inp.delivery.delivery.stale_after, |r| inp.delivery.stale_after(r))
}

/// Whether leadclock was watching this step before it fell due: the last pass armed this
/// clock at this step or an earlier one, for the instant that step still falls due. Later
/// steps of a ladder follow from the same state, so they were foreseen too (a restart after
/// an outage delivers them at once); a step an event made due was not.
fn foreseen(inp: &Inputs, view: &ClockView, key: StepKey) -> bool {
    inp.armed.iter().any(|t| {
        t.cycle == key.cycle
            && t.clock == key.clock
            && t.step <= key.step
            && view.steps.iter().any(|s| s.index == t.step && s.due_at == t.due_at)
    })
}

/// The due instant a step was armed for, if it was.
fn armed_at(inp: &Inputs, key: StepKey) -> Option<DateTime<Utc>> {
    inp.armed
        .iter()
        .find(|t| t.cycle == key.cycle && t.clock == key.clock && t.step == key.step)
        .map(|t| t.due_at)
}

fn stopped_reason(view: &ClockView) -> String {
    match (view.stopped_by, view.stopped_at) {
        (Some(cause), Some(at)) => format!(
            "the clock stopped ({}) at {} before the step could be delivered",
            match cause {
                clock::StopCause::Assignment => "assigned",
                clock::StopCause::Touch => "touched",
                clock::StopCause::Stage => "stage change",
                clock::StopCause::NoResponse => "no response within open_for",
            },
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        _ => "the clock stopped before the step could be delivered".into(),
    }
}

fn settling_record(inp: &Inputs, key: StepKey, due_at: DateTime<Utc>, until: DateTime<Utc>) -> StepRecord {
    StepRecord {
        key,
        status: StepStatus::Settling,
        due_at,
        first_seen_at: inp.now,
        settle_until: Some(until),
        at: inp.now,
        reason: "made due by an event: waiting for late events".into(),
    }
}

fn timer(inp: &Inputs, key: StepKey, due_at: DateTime<Utc>) -> Timer {
    Timer {
        lead_id: inp.lead.lead_id.clone(),
        cycle: key.cycle,
        clock: key.clock,
        step: key.step,
        due_at,
    }
}

/// The mode for a cycle: its lead type and its current owner's team.
pub fn mode_of(policy: &Policy, cycle: &Cycle) -> Mode {
    let stint = cycle.current_stint();
    let team = stint
        .and_then(|s| s.team.as_deref())
        .or_else(|| stint.and_then(|s| policy.team_of(&s.owner)));
    policy.mode_for(&cycle.lead_type, team)
}

/// Steps of the current cycle that would be delivered if their timer fired now, ignoring the
/// settle window and the stale rule: what an operator asks "is anything overdue?".
pub fn overdue(lead: &Lead, policy: &Policy, now: DateTime<Utc>, book: &StepBook) -> Vec<StepKey> {
    let Some(cycle) = lead.current_cycle() else {
        return Vec::new();
    };
    clock::cycle_clocks(cycle, policy, now)
        .into_iter()
        .filter(ClockView::is_running)
        .flat_map(|v| {
            let clock = v.clock;
            v.steps.into_iter().filter(|s| s.earned).map(move |s| StepKey {
                cycle: cycle.index,
                clock,
                step: s.index,
            })
        })
        .filter(|k| book.get(k).is_none_or(|r| !r.status.is_decided()))
        .collect()
}
