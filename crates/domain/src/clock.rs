//! SLA clocks, their deadlines and escalation ladders, derived from a folded [`Lead`].
//!
//! Nothing here is stored: timers are recomputed from state, so a timer that fires late or
//! twice, or for a lead touched since, finds nothing due.

use crate::calendar::Calendar;
use crate::event::{ClockKind, LeadId};
use crate::lead::{Cycle, Lead};
use crate::policy::{Anchor, Basis, Policy, Role, SlaRule, Step, Target};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    Assignment,
    Touch,
    Stage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepView {
    pub index: u32,
    pub name: String,
    pub due_at: DateTime<Utc>,
    pub notify: Vec<&'static str>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockView {
    pub clock: ClockKind,
    pub cycle: u32,
    pub calendar: String,
    pub basis: &'static str,
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
}

fn basis_str(b: Basis) -> &'static str {
    match b {
        Basis::Business => "business",
        Basis::Calendar => "calendar",
    }
}

fn rule_basis(rule: &SlaRule) -> Basis {
    match rule.target {
        Target::Within { basis, .. } => basis,
        Target::EndOfBusinessDay => Basis::Business,
    }
}

/// The deadline of a rule started at `start` on `cal`.
pub fn deadline(rule: &SlaRule, cal: &Calendar, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match rule.target {
        Target::Within {
            duration,
            basis: Basis::Business,
        } => cal.due(start, duration).ok(),
        Target::Within {
            duration,
            basis: Basis::Calendar,
        } => Some(start + duration),
        Target::EndOfBusinessDay => cal.end_of_business_day(start).ok(),
    }
}

/// Due instants of a ladder's steps, never earlier than the step before.
pub fn step_times(
    rule: &SlaRule,
    cal: &Calendar,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Vec<Option<DateTime<Utc>>> {
    let basis = rule_basis(rule);
    let mut prev: Option<DateTime<Utc>> = None;
    rule.ladder
        .iter()
        .map(|step| {
            let t = step_time(step, rule, basis, cal, start, deadline, prev)?;
            let t = prev.map_or(t, |p| t.max(p));
            prev = Some(t);
            Some(t)
        })
        .collect()
}

fn step_time(
    step: &Step,
    rule: &SlaRule,
    basis: Basis,
    cal: &Calendar,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
    prev: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let anchor = match step.anchor {
        Anchor::Deadline => deadline,
        Anchor::EndOfBusinessDay => cal.end_of_business_day(prev.unwrap_or(deadline)).ok()?,
    };
    let off = step.offset;
    if off == Duration::zero() {
        return Some(anchor);
    }
    if off > Duration::zero() {
        return match basis {
            Basis::Business => cal.due(anchor, off).ok(),
            Basis::Calendar => Some(anchor + off),
        };
    }
    // Before the deadline of a business-time target: the same business time less, from the start.
    match (step.anchor, &rule.target) {
        (
            Anchor::Deadline,
            Target::Within {
                duration,
                basis: Basis::Business,
            },
        ) => cal.due(start, (*duration + off).max(Duration::zero())).ok(),
        _ => Some((anchor + off).max(start)),
    }
}

fn view(
    clock: ClockKind,
    cycle: &Cycle,
    rule: &SlaRule,
    cal: &Calendar,
    start: DateTime<Utc>,
    stop: Option<(DateTime<Utc>, StopCause)>,
    now: DateTime<Utc>,
) -> ClockView {
    let dl = deadline(rule, cal, start);
    let until = stop.map(|s| s.0).unwrap_or(now).max(start);
    let status = match (stop, dl) {
        (None, Some(d)) if now > d => ClockStatus::Breached,
        (None, _) => ClockStatus::Running,
        (Some((t, _)), Some(d)) if t > d => ClockStatus::Missed,
        (Some((_, StopCause::Stage)), _) => ClockStatus::Closed,
        (Some(_), _) => ClockStatus::Met,
    };
    let steps = match dl {
        Some(d) => step_times(rule, cal, start, d)
            .into_iter()
            .zip(&rule.ladder)
            .enumerate()
            .filter_map(|(i, (t, step))| {
                let sent = cycle
                    .escalations
                    .iter()
                    .find(|e| e.clock == clock && e.step == i as u32);
                Some(StepView {
                    index: i as u32,
                    name: step.name.clone(),
                    due_at: t?,
                    notify: step.notify.iter().map(|r| r.as_str()).collect(),
                    sent_at: sent.map(|s| s.sent_at),
                })
            })
            .collect(),
        None => Vec::new(),
    };
    ClockView {
        clock,
        cycle: cycle.index,
        calendar: cal.name.clone(),
        basis: basis_str(rule_basis(rule)),
        started_at: start,
        deadline: dl,
        stopped_at: stop.map(|s| s.0.max(start)),
        stopped_by: stop.map(|s| s.1),
        status,
        elapsed_seconds: (until - start).num_seconds(),
        elapsed_business_seconds: cal.elapsed(start, until).num_seconds(),
        steps,
    }
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

/// Both clocks of one cycle (the response clock only once assigned).
pub fn cycle_clocks(cycle: &Cycle, policy: &Policy, now: DateTime<Utc>) -> Vec<ClockView> {
    if cycle.suppressed {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(2);
    let closed = cycle.closed_at.map(|t| (t, StopCause::Stage));
    let touched = cycle.first_touch_at.map(|t| (t, StopCause::Touch));
    let acal = assignment_calendar(policy, cycle);
    let assigned = cycle.first_assigned_at().map(|t| (t, StopCause::Assignment));
    out.push(view(
        ClockKind::Assignment,
        cycle,
        &policy.assignment,
        acal,
        cycle.engaged_at,
        earliest(&[assigned, touched, closed]),
        now,
    ));
    if let (Some(start), Some(lt)) = (cycle.first_assigned_at(), policy.lead_types.get(&cycle.lead_type)) {
        let rcal = response_calendar(policy, cycle);
        out.push(view(
            ClockKind::Response,
            cycle,
            &lt.sla,
            rcal,
            start,
            earliest(&[touched, closed]),
            now,
        ));
    }
    out
}

/// Every clock of every cycle, oldest first.
pub fn clocks(lead: &Lead, policy: &Policy, now: DateTime<Utc>) -> Vec<ClockView> {
    lead.cycles.iter().flat_map(|c| cycle_clocks(c, policy, now)).collect()
}

/// The one pending timer of a running clock: its next unsent step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Timer {
    pub lead_id: LeadId,
    pub cycle: u32,
    pub clock: ClockKind,
    pub step: u32,
    pub due_at: DateTime<Utc>,
}

impl Timer {
    /// Stable name for the timer of one lead, cycle and clock.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.lead_id, self.cycle, self.clock.as_str())
    }
}

/// Timers the lead needs now: one per running clock of its current cycle.
pub fn timers(lead: &Lead, policy: &Policy, now: DateTime<Utc>) -> Vec<Timer> {
    let Some(cycle) = lead.current_cycle() else {
        return Vec::new();
    };
    cycle_clocks(cycle, policy, now)
        .into_iter()
        .filter(ClockView::is_running)
        .filter_map(|c| {
            let next = c.steps.iter().find(|s| s.sent_at.is_none())?;
            Some(Timer {
                lead_id: lead.lead_id.clone(),
                cycle: c.cycle,
                clock: c.clock,
                step: next.index,
                due_at: next.due_at,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recipient {
    pub id: String,
    pub role: &'static str,
    pub name: Option<String>,
    pub slack: Option<String>,
}

/// An escalation step that is due now: what to send and to whom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    pub lead_id: LeadId,
    pub cycle: u32,
    pub clock: ClockKind,
    pub step: u32,
    pub step_name: String,
    pub steps_total: u32,
    pub severity: &'static str,
    pub lead_type: String,
    pub lead_type_label: String,
    pub owner: Option<String>,
    pub recipients: Vec<Recipient>,
    pub engaged_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Seconds since engagement when the step fell due.
    pub age_seconds: i64,
}

impl Escalation {
    /// One readable line, free of contact data.
    pub fn line(&self) -> String {
        let who: Vec<String> = self
            .recipients
            .iter()
            .map(|r| format!("{} ({})", r.id, r.role))
            .collect();
        format!(
            "ESCALATION [{}] lead {} ({}) {} clock step {}/{} \"{}\": owner {}, age {}, deadline {} -> notify {}",
            self.severity,
            self.lead_id,
            self.lead_type,
            self.clock.as_str(),
            self.step + 1,
            self.steps_total,
            self.step_name,
            self.owner.as_deref().unwrap_or("unassigned"),
            human_duration(self.age_seconds),
            self.deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            who.join(", "),
        )
    }
}

/// `2h05m`, `45s`: short and readable.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m{sec:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

fn severity(step: usize, total: usize) -> &'static str {
    if total > 1 && step + 1 == total {
        "critical"
    } else if step == 0 {
        "warning"
    } else {
        "high"
    }
}

/// People a role reaches on this cycle, following the current owner's chain.
pub fn resolve(role: Role, cycle: &Cycle, policy: &Policy) -> Vec<Recipient> {
    let dir = &policy.directory;
    let stint = cycle.current_stint();
    let owner = stint.map(|s| s.owner.as_str());
    let person = owner.and_then(|o| dir.people.get(o));
    let team_name = stint
        .and_then(|s| s.team.as_deref())
        .or(person.and_then(|p| p.team.as_deref()));
    let team = team_name.and_then(|t| dir.teams.get(t));
    let ids: Vec<String> = match role {
        Role::Owner => owner.map(str::to_owned).into_iter().collect(),
        Role::Manager => stint
            .and_then(|s| s.manager.clone())
            .or_else(|| person.and_then(|p| p.manager.clone()))
            .or_else(|| team.and_then(|t| t.manager.clone()))
            .map(|m| vec![m])
            .unwrap_or_else(|| dir.manager.clone()),
        Role::Exec => team
            .and_then(|t| t.exec.clone())
            .map(|e| vec![e])
            .unwrap_or_else(|| dir.exec.clone()),
        Role::Ops => dir.ops.clone(),
    };
    ids.into_iter()
        .map(|id| {
            let p = dir.people.get(&id);
            Recipient {
                role: role.as_str(),
                name: p.and_then(|p| p.name.clone()),
                slack: p.and_then(|p| p.slack.clone()),
                id,
            }
        })
        .collect()
}

fn recipients(step: &Step, cycle: &Cycle, policy: &Policy) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    for role in &step.notify {
        for r in resolve(*role, cycle, policy) {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
    }
    if out.is_empty() {
        // Nobody to tell (e.g. "owner" before assignment): ops hears it rather than no one.
        out = resolve(Role::Ops, cycle, policy);
    }
    out
}

/// Steps of the current cycle's running clocks that are due at `now` and not yet sent, in order.
pub fn due_escalations(lead: &Lead, policy: &Policy, now: DateTime<Utc>) -> Vec<Escalation> {
    let Some(cycle) = lead.current_cycle() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in cycle_clocks(cycle, policy, now)
        .into_iter()
        .filter(ClockView::is_running)
    {
        let rule = match c.clock {
            ClockKind::Assignment => &policy.assignment,
            ClockKind::Response => match policy.lead_types.get(&cycle.lead_type) {
                Some(lt) => &lt.sla,
                None => continue,
            },
        };
        let Some(deadline) = c.deadline else { continue };
        let total = rule.ladder.len();
        for s in c.steps.iter().filter(|s| s.sent_at.is_none() && s.due_at <= now) {
            let step = &rule.ladder[s.index as usize];
            out.push(Escalation {
                lead_id: lead.lead_id.clone(),
                cycle: cycle.index,
                clock: c.clock,
                step: s.index,
                step_name: step.name.clone(),
                steps_total: total as u32,
                severity: severity(s.index as usize, total),
                lead_type: cycle.lead_type.clone(),
                lead_type_label: policy
                    .lead_types
                    .get(&cycle.lead_type)
                    .map(|l| l.label.clone())
                    .unwrap_or_default(),
                owner: cycle.current_stint().map(|s| s.owner.clone()),
                recipients: recipients(step, cycle, policy),
                engaged_at: cycle.engaged_at,
                started_at: c.started_at,
                deadline,
                due_at: s.due_at,
                age_seconds: (s.due_at - cycle.engaged_at).num_seconds(),
            });
        }
    }
    out
}

/// A delay on both clocks: wall-clock and open business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
