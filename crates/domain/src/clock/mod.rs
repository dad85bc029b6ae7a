//! SLA clocks, their deadlines and escalation ladders, derived from a folded [`Lead`].
//!
//! Nothing here is stored: clocks are recomputed from state. Which ladder steps the events
//! *earned* (the clock was still running when the step fell due) is part of the view, so
//! metrics depend only on event times; what was done about each step lives in [`crate::steps`].

mod escalation;
mod ladder;

pub use escalation::{human_duration, owner_unknown, resolve, rule_of, Escalation, Recipient, Severity};
pub use ladder::{deadline, rule_basis, step_times};

use crate::calendar::Calendar;
use crate::event::ClockKind;
use crate::lead::{Cycle, Lead};
use crate::policy::{Basis, Policy, Role, SlaRule};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    /// Running, deadline ahead.
    Running,
    /// Running, deadline passed.
    Breached,
    /// Stopped by its event on or before the deadline.
    Met,
    /// Stopped after the deadline.
    Missed,
    /// Stopped by a stage change (rejected, disqualified…) before the deadline, untouched.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    Assignment,
    Touch,
    Stage,
    /// Nothing stopped it within the lead type's `open_for`: the lead aged out untouched.
    NoResponse,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepView {
    pub index: u32,
    pub name: String,
    pub due_at: DateTime<Utc>,
    pub notify: Vec<Role>,
    /// The clock was still running when the step fell due: the events earned it.
    pub earned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockView {
    pub clock: ClockKind,
    pub cycle: u32,
    pub calendar: String,
    pub basis: Basis,
    pub started_at: DateTime<Utc>,
    /// `None` only when the calendar never opens.
    pub deadline: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub stopped_by: Option<StopCause>,
    pub status: ClockStatus,
    /// Wall-clock seconds from start to stop (or to now while running).
    pub elapsed_seconds: i64,
    /// Open business seconds over the same span.
    pub elapsed_business_seconds: i64,
    pub steps: Vec<StepView>,
}

impl ClockView {
    pub fn is_running(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// Whether a step due at `due` is earned by the events, as of `now`.
    fn earns(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match self.stopped_at {
            Some(stop) => due < stop,
            None => due <= now,
        }
    }
}

fn status(
    stop: Option<(DateTime<Utc>, StopCause)>,
    deadline: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ClockStatus {
    match (stop, deadline) {
        (None, Some(d)) if now > d => ClockStatus::Breached,
        (None, _) => ClockStatus::Running,
        (Some((t, _)), Some(d)) if t > d => ClockStatus::Missed,
        // A lead that aged out untouched was never answered, whatever its deadline.
        (Some((_, StopCause::NoResponse)), _) => ClockStatus::Missed,
        (Some((_, StopCause::Stage)), _) => ClockStatus::Closed,
        (Some(_), _) => ClockStatus::Met,
    }
}

struct Bounds {
    start: DateTime<Utc>,
    stop: Option<(DateTime<Utc>, StopCause)>,
}

fn view(
    clock: ClockKind,
    cycle: &Cycle,
    rule: &SlaRule,
    cal: &Calendar,
    span: Bounds,
    now: DateTime<Utc>,
) -> ClockView {
    let Bounds { start, stop } = span;
    let dl = deadline(rule, cal, start);
    let until = stop.map_or(now, |s| s.0).max(start);
    let mut v = ClockView {
        clock,
        cycle: cycle.index,
        calendar: cal.name.clone(),
        basis: rule_basis(rule),
        started_at: start,
        deadline: dl,
        stopped_at: stop.map(|s| s.0.max(start)),
        stopped_by: stop.map(|s| s.1),
        status: status(stop, dl, now),
        elapsed_seconds: (until - start).num_seconds(),
        elapsed_business_seconds: cal.elapsed(start, until).num_seconds(),
        steps: Vec::new(),
    };
    if let Some(d) = dl {
        let times = step_times(rule, cal, start, d);
        v.steps = times
            .into_iter()
            .zip(&rule.ladder)
            .enumerate()
            .filter_map(|(i, (t, step))| {
                let due_at = t?;
                Some(StepView {
                    index: i as u32,
                    name: step.name.clone(),
                    due_at,
                    notify: step.notify.clone(),
                    earned: v.earns(due_at, now),
                })
            })
            .collect();
    }
    v
}

fn earliest(items: &[Option<(DateTime<Utc>, StopCause)>]) -> Option<(DateTime<Utc>, StopCause)> {
    items.iter().flatten().min_by_key(|(t, _)| *t).copied()
}

/// Calendar of a cycle's assignment clock: no owner yet, so region, else default.
pub fn assignment_calendar<'p>(policy: &'p Policy, cycle: &Cycle) -> &'p Calendar {
    policy.calendar(policy.calendar_name_for(None, None, cycle.region.as_deref()))
}

/// Calendar of a cycle's response clock: the first owner's team, else region, else default.
pub fn response_calendar<'p>(policy: &'p Policy, cycle: &Cycle) -> &'p Calendar {
    let first = cycle.first_stint();
    policy.calendar(policy.calendar_name_for(
        first.map(|s| s.owner.as_str()),
        first.and_then(|s| s.team.as_deref()),
        cycle.region.as_deref(),
    ))
}

/// When an untouched cycle ages out as `no_response`: engagement plus its lead type's
/// `open_for`, unless a qualifying touch or a closing stage came first. Derived from event
/// times alone, so it needs no sweep to write it; it takes effect once `now` reaches it.
pub fn no_response_at(cycle: &Cycle, policy: &Policy) -> Option<DateTime<Utc>> {
    // Checked: no horizon past the end of time (inbound windows keep dates sane; this is the floor).
    let at = cycle
        .engaged_at
        .checked_add_signed(policy.open_for(&cycle.lead_type)?)?;
    let answered = [cycle.first_touch_at, cycle.closed_at]
        .into_iter()
        .flatten()
        .any(|t| t <= at);
    (!answered).then_some(at)
}

/// Both clocks of one cycle (the response clock only once assigned).
pub fn cycle_clocks(cycle: &Cycle, policy: &Policy, now: DateTime<Utc>) -> Vec<ClockView> {
    if cycle.suppressed || cycle.excluded().is_some() {
        return Vec::new();
    }
    let closed = cycle.closed_at.map(|t| (t, StopCause::Stage));
    let touched = cycle.first_touch_at.map(|t| (t, StopCause::Touch));
    let assigned = cycle.first_assigned_at().map(|t| (t, StopCause::Assignment));
    let aged_out = no_response_at(cycle, policy)
        .filter(|t| *t <= now)
        .map(|t| (t, StopCause::NoResponse));
    let mut out = Vec::with_capacity(2);
    let acal = assignment_calendar(policy, cycle);
    let aspan = Bounds {
        start: cycle.engaged_at,
        stop: earliest(&[assigned, touched, closed, aged_out]),
    };
    out.push(view(ClockKind::Assignment, cycle, &policy.assignment, acal, aspan, now));
    // An assignment after the lead aged out starts no clock: the cycle is over.
    let assigned_open = cycle
        .first_assigned_at()
        .filter(|a| aged_out.is_none_or(|(t, _)| *a < t));
    if let (Some(start), Some(lt)) = (assigned_open, policy.lead_types.get(&cycle.lead_type)) {
        let rspan = Bounds {
            start,
            stop: earliest(&[touched, closed, aged_out]),
        };
        out.push(view(
            ClockKind::Response,
            cycle,
            &lt.sla,
            response_calendar(policy, cycle),
            rspan,
            now,
        ));
    }
    out
}

/// Every clock of every cycle, oldest first.
pub fn clocks(lead: &Lead, policy: &Policy, now: DateTime<Utc>) -> Vec<ClockView> {
    lead.cycles.iter().flat_map(|c| cycle_clocks(c, policy, now)).collect()
}

/// A delay on both clocks: wall-clock and open business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Span {
    pub seconds: i64,
    pub business_seconds: i64,
}

impl Span {
    fn between(cal: &Calendar, from: DateTime<Utc>, to: DateTime<Utc>) -> Span {
        let to = to.max(from);
        Span {
            seconds: (to - from).num_seconds(),
            business_seconds: cal.elapsed(from, to).num_seconds(),
        }
    }
}

/// The split the methodology asks for: systems delay (ops), human delay (sales), and the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delays {
    /// Engagement to first assignment.
    pub systems: Option<Span>,
    /// First assignment to first qualifying touch (zero when the touch came first).
    pub human: Option<Span>,
    /// Engagement to first qualifying touch.
    pub speed_to_lead: Option<Span>,
}

pub fn delays(cycle: &Cycle, policy: &Policy) -> Delays {
    let acal = assignment_calendar(policy, cycle);
    let rcal = response_calendar(policy, cycle);
    let assigned = cycle.first_assigned_at();
    let touched = cycle.first_touch_at;
    Delays {
        systems: assigned.map(|a| Span::between(acal, cycle.engaged_at, a)),
        human: assigned.zip(touched).map(|(a, t)| Span::between(rcal, a, t)),
        speed_to_lead: touched
            .map(|t| Span::between(if assigned.is_some() { rcal } else { acal }, cycle.engaged_at, t)),
    }
}
