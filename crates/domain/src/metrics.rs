//! The methodology's metrics, computed from folded leads for a period.
//!
//! Cohorts follow the methodology: volume, speed and the funnel count the MQL cycles created
//! in the period (whenever they convert); SLA compliance, human delay and breach escalation
//! count the leads that entered sales ownership (first assignment) in the period; rep scores
//! count each owner's own assignments in the period.

use crate::clock::{self, ClockStatus, ClockView, Delays};
use crate::lead::{Cycle, Lead, Stint};
use crate::policy::{Policy, Role};
use crate::ClockKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Benchmark band of a headline figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Good,
    Warning,
    RedFlag,
    /// Systems delay only: 5–10 minutes.
    Watch,
    /// Systems delay only: 10–15 minutes.
    Yellow,
    /// Systems delay only: 15 minutes or more.
    Red,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Good => "good",
            Band::Warning => "warning",
            Band::RedFlag => "red flag",
            Band::Watch => "watch",
            Band::Yellow => "yellow",
            Band::Red => "red",
        }
    }
}

/// Higher is better: good at or above `good`, red flag below `red`.
fn band_up(p: f64, good: f64, red: f64) -> Band {
    if p >= good {
        Band::Good
    } else if p < red {
        Band::RedFlag
    } else {
        Band::Warning
    }
}

/// Lower is better: good at or below `good`, red flag above `red`.
fn band_down(p: f64, good: f64, red: f64) -> Band {
    if p < good {
        Band::Good
    } else if p > red {
        Band::RedFlag
    } else {
        Band::Warning
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub numerator: u64,
    pub denominator: u64,
    /// `None` when the denominator is zero.
    pub percent: Option<f64>,
    pub band: Option<Band>,
}

impl Rate {
    fn new(numerator: u64, denominator: u64) -> Self {
        let percent = (denominator > 0).then(|| numerator as f64 * 100.0 / denominator as f64);
        Rate {
            numerator,
            denominator,
            percent,
            band: None,
        }
    }
    fn banded(mut self, f: impl Fn(f64) -> Band) -> Self {
        self.band = self.percent.map(f);
        self
    }
}

/// Distribution of durations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    pub count: u64,
    pub average: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Stats {
    pub fn of(mut xs: Vec<i64>) -> Stats {
        xs.sort_unstable();
        let n = xs.len();
        let rank = |q: f64| -> Option<f64> {
            // Nearest rank: the smallest value with at least q of the data at or below it.
            let k = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
            xs.get(k - 1).map(|&v| v as f64)
        };
        Stats {
            count: n as u64,
            average: (n > 0).then(|| xs.iter().sum::<i64>() as f64 / n as f64),
            median: rank(0.5),
            p90: rank(0.9),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    pub calendar: Stats,
    pub business: Stats,
    pub band: Option<Band>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Volume {
    pub mqls: u64,
    pub new: u64,
    pub recycled: u64,
    /// Recycled share of MQLs; above 30% is a warning.
    pub recycled_share: Rate,
    /// Re-engagements over the recycle limit, kept out of the MQL count.
    pub held_in_long_term_nurture: u64,
    pub previous_period_mqls: u64,
    /// (this − previous) / previous × 100.
    pub lead_velocity_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemsDelay {
    pub timing: Timing,
    pub under_5_minutes: Rate,
    pub still_unassigned: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compliance {
    pub assigned: u64,
    pub met: u64,
    pub missed: u64,
    /// Still inside their window: not yet met or missed.
    pub pending: u64,
    /// Taken out of the queue by a stage change before the deadline, untouched.
    pub closed: u64,
    /// met / (met + missed).
    pub rate: Rate,
}

impl Compliance {
    fn add(&mut self, status: ClockStatus) {
        self.assigned += 1;
        match status {
            ClockStatus::Met => self.met += 1,
            ClockStatus::Missed | ClockStatus::Breached => self.missed += 1,
            ClockStatus::Running => self.pending += 1,
            ClockStatus::Closed => self.closed += 1,
        }
    }
    fn finish(&mut self) {
        self.rate = Rate::new(self.met, self.met + self.missed).banded(|p| band_up(p, 85.0, 70.0));
    }
}

impl Default for Compliance {
    fn default() -> Self {
        Compliance {
            assigned: 0,
            met: 0,
            missed: 0,
            pending: 0,
            closed: 0,
            rate: Rate::new(0, 0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sla {
    pub by_lead_type: BTreeMap<String, Compliance>,
    pub overall: Compliance,
    /// Above 95%: the SLA may be too lenient.
    pub too_lenient: bool,
    /// Share of assigned leads whose escalation reached a manager or exec step.
    pub breach_escalation_rate: Rate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    pub mqls: u64,
    pub sal_acceptance: Rate,
    pub rejection: Rate,
    pub rejection_reason_completion: Rate,
    pub rejection_reasons: BTreeMap<String, u64>,
    pub sal_to_sql: Rate,
    pub sql_to_opportunity: Rate,
    /// Cohorted: SQLs from this period's MQLs, whenever they converted.
    pub mql_to_sql: Rate,
    /// Accepted, not yet SQL, not disqualified.
    pub in_progress: u64,
    pub disqualified_after_acceptance: u64,
    /// Neither accepted nor rejected yet.
    pub awaiting_acceptance: u64,
}

/// Every figure for one slice of leads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub volume: Volume,
    pub systems_delay: SystemsDelay,
    pub human_delay: Timing,
    pub speed_to_lead: Timing,
    pub response_rate: Rate,
    pub five_minute_response_rate: Rate,
    pub lead_leakage: Rate,
    pub sla: Sla,
    pub funnel: Funnel,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepScore {
    pub owner: String,
    pub leads: u64,
    pub points: u64,
    /// points / (leads × 10) × 100.
    pub score: Option<f64>,
    /// Assignments still inside their window, not scored yet.
    pub pending: u64,
    /// Leads per rubric row: under 5m, 5–15m, 15–60m, 1–4h, 4–8h, 8h+/next day, none.
    pub distribution: [u64; 7],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenSla {
    pub lead_id: String,
    pub lead_type: String,
    pub clock: ClockKind,
    pub owner: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    /// Negative once breached.
    pub seconds_left: Option<i64>,
    pub status: ClockStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub overall: Section,
    pub by: Option<String>,
    pub groups: BTreeMap<String, Section>,
    pub conversion_by_source: BTreeMap<String, Rate>,
    pub reps: Vec<RepScore>,
    pub open_slas: Vec<OpenSla>,
    /// Plain-language warnings from the benchmark bands.
    pub flags: Vec<String>,
}

/// Dimensions a report can break down by.
pub const DIMENSIONS: [&str; 6] = ["lead_type", "source", "region", "team", "owner", "segment"];

/// One MQL cycle with what the metrics need, computed once.
struct Row<'a> {
    cycle: &'a Cycle,
    clocks: Vec<ClockView>,
    delays: Delays,
    team: Option<String>,
}

impl Row<'_> {
    fn clock(&self, kind: ClockKind) -> Option<&ClockView> {
        self.clocks.iter().find(|c| c.clock == kind)
    }
    fn dimension(&self, dim: &str) -> String {
        let v = match dim {
            "lead_type" => Some(self.cycle.lead_type.clone()),
            "source" => self.cycle.source.clone(),
            "region" => self.cycle.region.clone(),
            "segment" => self.cycle.segment.clone(),
            "owner" => self.cycle.first_stint().map(|s| s.owner.clone()),
            "team" => self.team.clone(),
            _ => None,
        };
        v.unwrap_or_else(|| "(none)".into())
    }
}

fn in_period(t: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    from <= t && t < to
}

fn team_of(stint: Option<&Stint>, policy: &Policy) -> Option<String> {
    let s = stint?;
    s.team
        .clone()
        .or_else(|| policy.directory.people.get(&s.owner).and_then(|p| p.team.clone()))
}

fn escalated_to_management(row: &Row, policy: &Policy) -> bool {
    let Some(lt) = policy.lead_types.get(&row.cycle.lead_type) else {
        return false;
    };
    row.cycle.escalations.iter().any(|e| {
        e.clock == ClockKind::Response
            && lt
                .sla
                .ladder
                .get(e.step as usize)
                .is_some_and(|s| s.notify.iter().any(|r| matches!(r, Role::Manager | Role::Exec)))
    })
}

fn timing(xs: impl Iterator<Item = (i64, i64)>, band: impl Fn(f64) -> Band) -> Timing {
    let (cal, bus): (Vec<i64>, Vec<i64>) = xs.unzip();
    let calendar = Stats::of(cal);
    Timing {
        band: calendar.average.map(band),
        calendar,
        business: Stats::of(bus),
    }
}

fn systems_band(avg: f64) -> Band {
    match avg {
        a if a < 300.0 => Band::Good,
        a if a < 600.0 => Band::Watch,
        a if a < 900.0 => Band::Yellow,
        _ => Band::Red,
    }
}

fn response_time_band(avg: f64) -> Band {
    if avg <= 3600.0 {
        Band::Good
    } else if avg >= 24.0 * 3600.0 {
        Band::RedFlag
    } else {
        Band::Warning
    }
}

fn section(
    rows: &[&Row],
    previous_mqls: u64,
    held: u64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    policy: &Policy,
) -> Section {
    let cohort: Vec<&&Row> = rows
        .iter()
        .filter(|r| in_period(r.cycle.engaged_at, from, to))
        .collect();
    let assigned: Vec<&&Row> = rows
        .iter()
        .filter(|r| r.cycle.first_assigned_at().is_some_and(|t| in_period(t, from, to)))
        .collect();
    let mqls = cohort.len() as u64;
    let recycled = cohort.iter().filter(|r| r.cycle.recycled).count() as u64;

    let volume = Volume {
        mqls,
        new: mqls - recycled,
        recycled,
        recycled_share: Rate::new(recycled, mqls).banded(|p| if p > 30.0 { Band::Warning } else { Band::Good }),
        held_in_long_term_nurture: held,
        previous_period_mqls: previous_mqls,
        lead_velocity_rate: (previous_mqls > 0)
            .then(|| (mqls as f64 - previous_mqls as f64) * 100.0 / previous_mqls as f64),
    };

    let sys: Vec<_> = cohort.iter().filter_map(|r| r.delays.systems).collect();
    let systems_delay = SystemsDelay {
        under_5_minutes: Rate::new(sys.iter().filter(|s| s.seconds < 300).count() as u64, sys.len() as u64),
        timing: timing(sys.iter().map(|s| (s.seconds, s.business_seconds)), systems_band),
        still_unassigned: cohort
            .iter()
            .filter(|r| r.cycle.first_assigned_at().is_none() && r.cycle.closed_at.is_none())
            .count() as u64,
    };

    let human_delay = timing(
        assigned
            .iter()
            .filter_map(|r| r.delays.human)
            .map(|s| (s.seconds, s.business_seconds)),
        response_time_band,
    );
    let speed_to_lead = timing(
        cohort
            .iter()
            .filter_map(|r| r.delays.speed_to_lead)
            .map(|s| (s.seconds, s.business_seconds)),
        response_time_band,
    );
    let responded = cohort.iter().filter(|r| r.cycle.first_touch_at.is_some()).count() as u64;
    let within_5m = cohort
        .iter()
        .filter(|r| r.delays.speed_to_lead.is_some_and(|s| s.seconds <= 300))
        .count() as u64;
    let cohort_assigned: Vec<_> = cohort
        .iter()
        .filter(|r| r.cycle.first_assigned_at().is_some())
        .collect();
    let assigned_untouched = cohort_assigned
        .iter()
        .filter(|r| r.cycle.first_touch_at.is_none())
        .count() as u64;

    let mut by_lead_type: BTreeMap<String, Compliance> = BTreeMap::new();
    let mut overall = Compliance::default();
    for r in &assigned {
        if let Some(c) = r.clock(ClockKind::Response) {
            by_lead_type.entry(r.cycle.lead_type.clone()).or_default().add(c.status);
            overall.add(c.status);
        }
    }
    by_lead_type.values_mut().for_each(Compliance::finish);
    overall.finish();
    let escalated = assigned.iter().filter(|r| escalated_to_management(r, policy)).count() as u64;
    let sla = Sla {
        too_lenient: overall.rate.percent.is_some_and(|p| p > 95.0),
        breach_escalation_rate: Rate::new(escalated, assigned.len() as u64).banded(|p| band_down(p, 10.0, 25.0)),
        by_lead_type,
        overall,
    };

    let count = |f: &dyn Fn(&Cycle) -> bool| cohort.iter().filter(|r| f(r.cycle)).count() as u64;
    let sal = count(&|c| c.sal_at.is_some());
    let rejected = count(&|c| c.rejected_at.is_some());
    let with_reason = count(&|c| c.rejected_at.is_some() && c.rejection_reason.is_some());
    let sql = count(&|c| c.sql_at.is_some());
    let sal_sql = count(&|c| c.sal_at.is_some() && c.sql_at.is_some());
    let sql_opp = count(&|c| c.sql_at.is_some() && c.opportunity_at.is_some());
    let dq_after = count(&|c| c.sal_at.is_some() && c.sql_at.is_none() && c.disqualified_at.is_some());
    let in_progress =
        count(&|c| c.sal_at.is_some() && c.sql_at.is_none() && c.closed_at.is_none() && c.rejected_at.is_none());
    let awaiting = count(&|c| c.sal_at.is_none() && c.rejected_at.is_none() && c.closed_at.is_none());
    let mut reasons = BTreeMap::new();
    for r in &cohort {
        if r.cycle.rejected_at.is_some() {
            let reason = r
                .cycle
                .rejection_reason
                .clone()
                .unwrap_or_else(|| "(no reason given)".into());
            *reasons.entry(reason).or_insert(0) += 1;
        }
    }
    let funnel = Funnel {
        mqls,
        sal_acceptance: Rate::new(sal, mqls).banded(|p| band_up(p, 60.0, 40.0)),
        rejection: Rate::new(rejected, mqls).banded(|p| band_down(p, 20.0, 50.0)),
        rejection_reason_completion: Rate::new(with_reason, rejected).banded(|p| band_up(p, 80.0, 50.0)),
        rejection_reasons: reasons,
        sal_to_sql: Rate::new(sal_sql, sal).banded(|p| band_up(p, 75.0, 40.0)),
        sql_to_opportunity: Rate::new(sql_opp, sql).banded(|p| band_up(p, 65.0, 30.0)),
        mql_to_sql: Rate::new(sql, mqls).banded(|p| band_up(p, 20.0, 10.0)),
        in_progress,
        disqualified_after_acceptance: dq_after,
        awaiting_acceptance: awaiting,
    };

    Section {
        volume,
        systems_delay,
        human_delay,
        speed_to_lead,
        response_rate: Rate::new(responded, mqls).banded(|p| band_up(p, 90.0, 50.0)),
        five_minute_response_rate: Rate::new(within_5m, mqls).banded(|p| band_up(p, 40.0, 5.0)),
        lead_leakage: Rate::new(assigned_untouched, cohort_assigned.len() as u64).banded(|p| band_down(p, 10.0, 50.0)),
        sla,
        funnel,
    }
}

/// Rubric points for a response `secs` after assignment; `next_day` when it came on a later
/// business day than the assignment.
pub fn rubric_points(secs: Option<i64>, next_day: bool) -> (u64, usize) {
    match secs {
        None => (0, 6),
        Some(s) if s < 5 * 60 => (10, 0),
        Some(s) if s < 15 * 60 => (8, 1),
        Some(s) if s < 3600 => (6, 2),
        Some(s) if s < 4 * 3600 => (4, 3),
        Some(s) if s < 8 * 3600 && !next_day => (2, 4),
        Some(_) => (1, 5),
    }
}

fn rep_scores(rows: &[Row], from: DateTime<Utc>, to: DateTime<Utc>, policy: &Policy) -> Vec<RepScore> {
    let mut reps: BTreeMap<String, RepScore> = BTreeMap::new();
    for r in rows {
        let response = r.clock(ClockKind::Response);
        let cal = clock::response_calendar(policy, r.cycle);
        for (i, s) in r.cycle.stints.iter().enumerate() {
            if !in_period(s.assigned_at, from, to) {
                continue;
            }
            let e = reps.entry(s.owner.clone()).or_insert_with(|| RepScore {
                owner: s.owner.clone(),
                leads: 0,
                points: 0,
                score: None,
                pending: 0,
                distribution: [0; 7],
            });
            let holding = s.ended_at.is_none() && i + 1 == r.cycle.stints.len();
            let window_open = response.is_some_and(|c| c.status == ClockStatus::Running);
            if s.responded_at.is_none() && holding && window_open && r.cycle.closed_at.is_none() {
                e.pending += 1;
                continue;
            }
            let secs = s.responded_at.map(|t| (t - s.assigned_at).num_seconds().max(0));
            let next_day = s.responded_at.is_some_and(|t| {
                t.with_timezone(&cal.tz).date_naive() > s.assigned_at.with_timezone(&cal.tz).date_naive()
            });
            let (points, row) = rubric_points(secs, next_day);
            e.leads += 1;
            e.points += points;
            e.distribution[row] += 1;
        }
    }
    let mut out: Vec<RepScore> = reps
        .into_values()
        .map(|mut r| {
            r.score = (r.leads > 0).then(|| r.points as f64 * 100.0 / (r.leads as f64 * 10.0));
            r
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.owner.cmp(&b.owner))
    });
    out
}

/// Leads whose clock runs now, soonest deadline first.
pub fn open_slas(leads: &[Lead], policy: &Policy, now: DateTime<Utc>) -> Vec<OpenSla> {
    let mut out: Vec<OpenSla> = leads
        .iter()
        .filter_map(|l| l.current_cycle().map(|c| (l, c)))
        .flat_map(|(l, c)| {
            clock::cycle_clocks(c, policy, now)
                .into_iter()
                .filter(ClockView::is_running)
                .map(move |v| OpenSla {
                    lead_id: l.lead_id.to_string(),
                    lead_type: c.lead_type.clone(),
                    clock: v.clock,
                    owner: c.current_stint().map(|s| s.owner.clone()),
                    deadline: v.deadline,
                    seconds_left: v.deadline.map(|d| (d - now).num_seconds()),
                    status: v.status,
                })
        })
        .collect();
    out.sort_by_key(|o| (o.deadline.is_none(), o.deadline, o.lead_id.clone()));
    out
}

fn flags(s: &Section) -> Vec<String> {
    let mut f = Vec::new();
    let pct = |r: &Rate| r.percent.map(|p| format!("{p:.1}%")).unwrap_or_default();
    if s.sla.too_lenient {
        f.push(format!(
            "SLA compliance {} is above 95%: the SLA may be too lenient; tighten the windows",
            pct(&s.sla.overall.rate)
        ));
    }
    if s.sla.overall.rate.band == Some(Band::RedFlag) {
        f.push(format!(
            "SLA compliance {} is under 70%: SLAs are effectively unenforced",
            pct(&s.sla.overall.rate)
        ));
    }
    if s.volume.recycled_share.band == Some(Band::Warning) {
        f.push(format!(
            "recycled MQLs are {} of volume (over 30%): tighten the original qualification criteria",
            pct(&s.volume.recycled_share)
        ));
    }
    if matches!(s.systems_delay.timing.band, Some(Band::Yellow | Band::Red)) {
        f.push("average systems delay is over 10 minutes: investigate routing and workflow delays".into());
    }
    if s.funnel.sal_acceptance.band == Some(Band::RedFlag) {
        f.push(format!(
            "SAL acceptance {} is under 40%: MQL definition mismatch",
            pct(&s.funnel.sal_acceptance)
        ));
    }
    if s.funnel.rejection.band == Some(Band::RedFlag) {
        f.push(format!(
            "Sales rejects {} of MQLs (over 50%): revise MQL criteria now",
            pct(&s.funnel.rejection)
        ));
    }
    if s.funnel.rejection_reason_completion.band == Some(Band::RedFlag) {
        f.push("fewer than half of rejections give a reason: the feedback loop is broken".into());
    }
    if s.sla.breach_escalation_rate.band == Some(Band::RedFlag) {
        f.push("over 25% of leads escalate to managers: SLAs too aggressive or team under-resourced".into());
    }
    f
}

/// The report for `[from, to)` over `leads` (any leads; those outside the period count only
/// where a cohort rule says so). `by` must be one of [`DIMENSIONS`].
pub fn report(
    leads: &[Lead],
    policy: &Policy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Report {
    let rows: Vec<Row> = leads
        .iter()
        .flat_map(|l| l.cycles.iter())
        .filter(|c| !c.suppressed)
        .map(|c| Row {
            cycle: c,
            clocks: clock::cycle_clocks(c, policy, now),
            delays: clock::delays(c, policy),
            team: team_of(c.first_stint(), policy),
        })
        .collect();
    let len = to - from;
    let prev_from = from - len;
    let previous = |rs: &[&Row]| {
        rs.iter()
            .filter(|r| in_period(r.cycle.engaged_at, prev_from, from))
            .count() as u64
    };
    let held = leads
        .iter()
        .flat_map(|l| l.cycles.iter())
        .filter(|c| c.suppressed && in_period(c.engaged_at, from, to))
        .count() as u64;
    let all: Vec<&Row> = rows.iter().collect();
    let overall = section(&all, previous(&all), held, from, to, policy);

    let mut groups = BTreeMap::new();
    if let Some(dim) = by {
        let mut split: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
        for r in &rows {
            split.entry(r.dimension(dim)).or_default().push(r);
        }
        for (k, rs) in split {
            let s = section(&rs, previous(&rs), 0, from, to, policy);
            let relevant = s.volume.mqls + s.sla.overall.assigned + s.volume.previous_period_mqls;
            if relevant > 0 {
                groups.insert(k, s);
            }
        }
    }
    let mut conversion_by_source: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| in_period(r.cycle.engaged_at, from, to)) {
        let e = conversion_by_source.entry(r.dimension("source")).or_default();
        e.1 += 1;
        e.0 += u64::from(r.cycle.sql_at.is_some());
    }
    let flags = flags(&overall);
    Report {
        from,
        to,
        generated_at: now,
        overall,
        by: by.map(str::to_owned),
        groups,
        conversion_by_source: conversion_by_source
            .into_iter()
            .map(|(k, (n, d))| (k, Rate::new(n, d).banded(|p| band_up(p, 20.0, 10.0))))
            .collect(),
        reps: rep_scores(&rows, from, to, policy),
        open_slas: open_slas(leads, policy, now),
        flags,
    }
}

/// Length of the previous period used for lead velocity.
pub fn previous_period(from: DateTime<Utc>, to: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (from - (to - from), from)
}

/// Helper for callers that must fetch leads: the widest span a report looks at.
pub fn span_needed(from: DateTime<Utc>, to: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (previous_period(from, to).0, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_use_nearest_rank() {
        let s = Stats::of(vec![5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
        assert_eq!(
            (s.count, s.average, s.median, s.p90),
            (10, Some(5.5), Some(5.0), Some(9.0))
        );
        let e = Stats::of(vec![]);
        assert_eq!((e.count, e.average, e.median), (0, None, None));
    }

    #[test]
    fn rubric_rows() {
        assert_eq!(rubric_points(Some(299), false).0, 10);
        assert_eq!(rubric_points(Some(300), false).0, 8);
        assert_eq!(rubric_points(Some(15 * 60), false).0, 6);
        assert_eq!(rubric_points(Some(3600), false).0, 4);
        assert_eq!(rubric_points(Some(4 * 3600), false).0, 2);
        assert_eq!(rubric_points(Some(5 * 3600), true).0, 1);
        assert_eq!(rubric_points(Some(8 * 3600), false).0, 1);
        assert_eq!(rubric_points(None, false).0, 0);
    }

    #[test]
    fn bands() {
        assert_eq!(band_up(85.0, 85.0, 70.0), Band::Good);
        assert_eq!(band_up(69.9, 85.0, 70.0), Band::RedFlag);
        assert_eq!(band_up(76.0, 85.0, 70.0), Band::Warning);
        assert_eq!(systems_band(299.0), Band::Good);
        assert_eq!(systems_band(300.0), Band::Watch);
        assert_eq!(systems_band(899.0), Band::Yellow);
        assert_eq!(systems_band(900.0), Band::Red);
    }
}

/// A breakdown a report can be split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    LeadType,
    Source,
    Region,
    Team,
    Owner,
    Segment,
}

impl Dimension {
    pub const ALL: [Dimension; 6] = [
        Self::LeadType,
        Self::Source,
        Self::Region,
        Self::Team,
        Self::Owner,
        Self::Segment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeadType => "lead_type",
            Self::Source => "source",
            Self::Region => "region",
            Self::Team => "team",
            Self::Owner => "owner",
            Self::Segment => "segment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}
