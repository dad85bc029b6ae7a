//! Every figure for one slice of leads, one function per figure.

use super::bands::{
    FIVE_MINUTE_RESPONSE_RATE, LEAD_LEAKAGE, RECYCLED_SHARE, RESPONSE_RATE, RESPONSE_TIME, SYSTEMS_DELAY,
};
use super::funnel::{funnel, Funnel};
use super::in_period;
use super::judging::Judging;
use super::rows::{count, Row};
use super::sla::{sla, Sla};
use super::stats::{Rate, Timing};
use crate::clock::StopCause;
use crate::policy::{Mode, Role};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Volume {
    pub mqls: u64,
    pub new: u64,
    pub recycled: u64,
    /// Recycled share of MQLs, banded by [`RECYCLED_SHARE`].
    pub recycled_share: Rate,
    /// Re-engagements over the recycle limit, kept out of the MQL count.
    pub held_in_long_term_nurture: u64,
    pub previous_period_mqls: u64,
    /// (this − previous) / previous × 100.
    pub lead_velocity_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemsDelay {
    pub timing: Timing,
    pub under_5_minutes: Rate,
    pub still_unassigned: u64,
}

/// Every figure for one slice of leads.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Section {
    pub volume: Volume,
    pub systems_delay: SystemsDelay,
    pub human_delay: Timing,
    pub speed_to_lead: Timing,
    pub response_rate: Rate,
    pub five_minute_response_rate: Rate,
    pub lead_leakage: Rate,
    /// MQLs of the period that aged out untouched (their lead type's `open_for` passed): closed
    /// as `no_response`, off the open list, and counted as unanswered in the rates above.
    pub no_response: u64,
    pub sla: Sla,
    pub funnel: Funnel,
    /// The escalation steps the period's MQLs earned, delivered or (in shadow mode) not.
    pub escalations: Escalations,
}

/// What a section counts besides its rows: the previous period's MQLs and the re-engagements
/// held in long-term nurture.
pub(super) struct Context<'a> {
    pub(super) previous_mqls: u64,
    pub(super) held: u64,
    pub(super) judging: &'a Judging,
}

/// The section of `rows` for `[from, to)`. The MQL cohort is the cycles engaged in the period;
/// the assignment cohort is the cycles first assigned in it.
pub(super) fn section(rows: &[&Row], ctx: Context, from: DateTime<Utc>, to: DateTime<Utc>) -> Section {
    let cohort: Vec<&Row> = rows
        .iter()
        .copied()
        .filter(|r| in_period(r.cycle.engaged_at, from, to))
        .collect();
    let assigned: Vec<&Row> = rows
        .iter()
        .copied()
        .filter(|r| r.cycle.first_assigned_at().is_some_and(|t| in_period(t, from, to)))
        .collect();
    let mqls = cohort.len() as u64;
    let judging = ctx.judging;
    let mut s = Section {
        volume: volume(&cohort, ctx),
        systems_delay: systems_delay(&cohort),
        human_delay: human_delay(&assigned),
        speed_to_lead: speed_to_lead(&cohort),
        response_rate: Rate::new(count(&cohort, |r| r.cycle.first_touch_at.is_some()), mqls).banded(&RESPONSE_RATE),
        five_minute_response_rate: five_minute_response_rate(&cohort),
        lead_leakage: lead_leakage(&cohort),
        no_response: count(&cohort, |r| {
            r.clocks.iter().any(|c| c.stopped_by == Some(StopCause::NoResponse))
        }),
        sla: sla(&assigned),
        funnel: funnel(&cohort, judging),
        escalations: escalations(&cohort),
    };
    judging.section(&mut s);
    s
}

fn volume(cohort: &[&Row], ctx: Context) -> Volume {
    let mqls = cohort.len() as u64;
    let recycled = count(cohort, |r| r.cycle.recycled);
    let previous = ctx.previous_mqls;
    Volume {
        mqls,
        new: mqls - recycled,
        recycled,
        recycled_share: Rate::new(recycled, mqls).banded(&RECYCLED_SHARE),
        held_in_long_term_nurture: ctx.held,
        previous_period_mqls: previous,
        lead_velocity_rate: (previous > 0).then(|| (mqls as f64 - previous as f64) * 100.0 / previous as f64),
    }
}

/// Engagement → first assignment, over the MQL cohort.
fn systems_delay(cohort: &[&Row]) -> SystemsDelay {
    let sys: Vec<_> = cohort.iter().filter_map(|r| r.delays.systems).collect();
    SystemsDelay {
        under_5_minutes: Rate::new(sys.iter().filter(|s| s.seconds < 300).count() as u64, sys.len() as u64),
        timing: Timing::of(sys.iter().map(|s| (s.seconds, s.business_seconds)), &SYSTEMS_DELAY),
        still_unassigned: count(cohort, |r| {
            r.cycle.first_assigned_at().is_none() && r.cycle.closed_at.is_none()
        }),
    }
}

/// First assignment → first qualifying touch, over the assignment cohort.
fn human_delay(assigned: &[&Row]) -> Timing {
    let xs = assigned.iter().filter_map(|r| r.delays.human);
    Timing::of(xs.map(|s| (s.seconds, s.business_seconds)), &RESPONSE_TIME)
}

/// Engagement → first qualifying touch, over the MQL cohort.
fn speed_to_lead(cohort: &[&Row]) -> Timing {
    let xs = cohort.iter().filter_map(|r| r.delays.speed_to_lead);
    Timing::of(xs.map(|s| (s.seconds, s.business_seconds)), &RESPONSE_TIME)
}

fn five_minute_response_rate(cohort: &[&Row]) -> Rate {
    let within = count(cohort, |r| r.delays.speed_to_lead.is_some_and(|s| s.seconds <= 300));
    Rate::new(within, cohort.len() as u64).banded(&FIVE_MINUTE_RESPONSE_RATE)
}

/// Assigned MQLs of the cohort never touched, over the cohort's assigned MQLs.
fn lead_leakage(cohort: &[&Row]) -> Rate {
    let assigned: Vec<&Row> = cohort
        .iter()
        .copied()
        .filter(|r| r.cycle.first_assigned_at().is_some())
        .collect();
    let untouched = count(&assigned, |r| r.cycle.first_touch_at.is_none());
    Rate::new(untouched, assigned.len() as u64).banded(&LEAD_LEAKAGE)
}

/// Leads whose events earned escalation steps, on either clock, and how far up they went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Earned {
    /// Leads with at least one earned step.
    pub leads: u64,
    /// Leads that earned a step notifying a manager.
    pub manager: u64,
    /// Leads that earned a step notifying an exec.
    pub exec: u64,
}

/// Earned steps of leads in live mode, and of those in shadow mode: what shadow mode would
/// have escalated. From event times only, like every metric; what was delivered is in the
/// step outcomes, not here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Escalations {
    pub live: Earned,
    pub shadow: Earned,
}

fn escalations(cohort: &[&Row]) -> Escalations {
    let mut out = Escalations::default();
    for r in cohort {
        let earned: Vec<&Role> = r
            .clocks
            .iter()
            .flat_map(|c| c.steps.iter().filter(|s| s.earned))
            .flat_map(|s| s.notify.iter())
            .collect();
        let counted = match r.mode {
            Mode::Live => &mut out.live,
            Mode::Shadow => &mut out.shadow,
        };
        let any_step = r.clocks.iter().any(|c| c.steps.iter().any(|s| s.earned));
        counted.leads += u64::from(any_step);
        counted.manager += u64::from(earned.iter().any(|r| matches!(r, Role::Manager)));
        counted.exec += u64::from(earned.iter().any(|r| matches!(r, Role::Exec)));
    }
    out
}
