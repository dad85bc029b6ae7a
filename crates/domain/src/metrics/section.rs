//! Every figure for one slice of leads, one function per figure.

use super::bands::{
    FIVE_MINUTE_RESPONSE_RATE, LEAD_LEAKAGE, RECYCLED_SHARE, RESPONSE_RATE, RESPONSE_TIME, SYSTEMS_DELAY,
};
use super::funnel::{Funnel, FunnelTally};
use super::judging::Judging;
use super::rows::Row;
use super::sla::{Sla, SlaTally};
use super::stats::{Durations, Rate, Timing};
use super::{in_period, previous_period};
use crate::clock::StopCause;
use crate::policy::{Mode, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// The periods a section counts in: the report's `[from, to)` and the one of equal length
/// before it (lead velocity compares with its MQLs).
#[derive(Debug, Clone, Copy)]
pub(super) struct Periods {
    pub(super) from: DateTime<Utc>,
    pub(super) to: DateTime<Utc>,
    previous: (DateTime<Utc>, DateTime<Utc>),
}

impl Periods {
    pub(super) fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Periods {
        Periods {
            from,
            to,
            previous: previous_period(from, to),
        }
    }

    /// One reporting day's, for what a lead adds to it ([`super::aggregate`]): no period
    /// before it counts (a report over days adds up the days before from their own MQLs).
    pub(super) fn day(from: DateTime<Utc>, to: DateTime<Utc>) -> Periods {
        Periods {
            from,
            to,
            previous: (from, from),
        }
    }

    /// The MQL cohort: cycles engaged in the period.
    pub(super) fn engaged(&self, t: DateTime<Utc>) -> bool {
        in_period(t, self.from, self.to)
    }

    pub(super) fn previous(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        self.previous
    }

    fn engaged_before(&self, t: DateTime<Utc>) -> bool {
        in_period(t, self.previous.0, self.previous.1)
    }
}

/// A section being added up, a row at a time: counts and the delays the distributions are
/// made of. Adding rows in any order or split, then merging, gives the same section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct SectionTally {
    pub(super) mqls: u64,
    recycled: u64,
    pub(super) previous_mqls: u64,
    systems: Durations,
    still_unassigned: u64,
    /// Over the assignment cohort.
    human: Durations,
    speed: Durations,
    touched: u64,
    touched_within_5_minutes: u64,
    /// MQLs of the cohort assigned (whenever), and those of them never touched.
    assigned_mqls: u64,
    assigned_untouched: u64,
    no_response: u64,
    sla: SlaTally,
    funnel: FunnelTally,
    escalations: Escalations,
}

impl SectionTally {
    /// Counts `r` in each cohort it belongs to: the period's MQLs, the previous period's, and
    /// the leads first assigned in the period.
    pub(super) fn add(&mut self, r: &Row, p: &Periods) {
        let engaged = r.cycle.engaged_at;
        if p.engaged_before(engaged) {
            self.previous_mqls += 1;
        }
        if p.engaged(engaged) {
            self.add_mql(r);
        }
        if r.cycle.first_assigned_at().is_some_and(|t| in_period(t, p.from, p.to)) {
            r.delays.human.into_iter().for_each(|s| self.human.add(s));
            self.sla.add(r);
        }
    }

    fn add_mql(&mut self, r: &Row) {
        let c = r.cycle;
        let assigned = c.first_assigned_at().is_some();
        let touched = c.first_touch_at.is_some();
        self.mqls += 1;
        self.recycled += u64::from(c.recycled);
        r.delays.systems.into_iter().for_each(|s| self.systems.add(s));
        self.still_unassigned += u64::from(!assigned && c.closed_at.is_none());
        r.delays.speed_to_lead.into_iter().for_each(|s| self.speed.add(s));
        self.touched += u64::from(touched);
        self.touched_within_5_minutes += u64::from(r.delays.speed_to_lead.is_some_and(|s| s.seconds <= 300));
        self.assigned_mqls += u64::from(assigned);
        self.assigned_untouched += u64::from(assigned && !touched);
        self.no_response += u64::from(r.clocks.iter().any(|c| c.stopped_by == Some(StopCause::NoResponse)));
        self.funnel.add(c);
        self.escalations.add(r);
    }

    pub(super) fn merge(&mut self, o: SectionTally) {
        self.mqls += o.mqls;
        self.recycled += o.recycled;
        self.previous_mqls += o.previous_mqls;
        self.systems.merge(o.systems);
        self.still_unassigned += o.still_unassigned;
        self.human.merge(o.human);
        self.speed.merge(o.speed);
        self.touched += o.touched;
        self.touched_within_5_minutes += o.touched_within_5_minutes;
        self.assigned_mqls += o.assigned_mqls;
        self.assigned_untouched += o.assigned_untouched;
        self.no_response += o.no_response;
        self.sla.merge(o.sla);
        self.funnel.merge(o.funnel);
        self.escalations.merge(o.escalations);
    }

    /// Whether the section has anything in either period: a group with nothing is left out.
    pub(super) fn is_empty(&self) -> bool {
        self.mqls + self.sla.assigned() + self.previous_mqls == 0
    }

    /// The section, `held` re-engagements over the recycle limit beside it, banded as
    /// `judging` allows.
    pub(super) fn finish(self, held: u64, judging: &Judging) -> Section {
        let mqls = self.mqls;
        let mut s = Section {
            volume: volume(mqls, self.recycled, self.previous_mqls, held),
            systems_delay: systems_delay(&self.systems, self.still_unassigned),
            human_delay: Timing::of(&self.human, &RESPONSE_TIME),
            speed_to_lead: Timing::of(&self.speed, &RESPONSE_TIME),
            response_rate: Rate::new(self.touched, mqls).banded(&RESPONSE_RATE),
            five_minute_response_rate: Rate::new(self.touched_within_5_minutes, mqls)
                .banded(&FIVE_MINUTE_RESPONSE_RATE),
            // Assigned MQLs of the cohort never touched, over the cohort's assigned MQLs.
            lead_leakage: Rate::new(self.assigned_untouched, self.assigned_mqls).banded(&LEAD_LEAKAGE),
            no_response: self.no_response,
            sla: self.sla.finish(),
            funnel: self.funnel.finish(mqls, judging),
            escalations: self.escalations,
        };
        judging.section(&mut s);
        s
    }
}

fn volume(mqls: u64, recycled: u64, previous: u64, held: u64) -> Volume {
    Volume {
        mqls,
        new: mqls - recycled,
        recycled,
        recycled_share: Rate::new(recycled, mqls).banded(&RECYCLED_SHARE),
        held_in_long_term_nurture: held,
        previous_period_mqls: previous,
        lead_velocity_rate: (previous > 0).then(|| (mqls as f64 - previous as f64) * 100.0 / previous as f64),
    }
}

/// Engagement → first assignment, over the MQL cohort.
fn systems_delay(sys: &Durations, still_unassigned: u64) -> SystemsDelay {
    SystemsDelay {
        under_5_minutes: Rate::new(sys.under(300), sys.count()),
        timing: Timing::of(sys, &SYSTEMS_DELAY),
        still_unassigned,
    }
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

/// Read back from kept facts, where counts of zero are left out (a manual impl, so the API's
/// schema keeps every field required).
impl<'de> Deserialize<'de> for Escalations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct KeptEarned {
            leads: u64,
            manager: u64,
            exec: u64,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct KeptEscalations {
            live: KeptEarned,
            shadow: KeptEarned,
        }
        let k = KeptEscalations::deserialize(d)?;
        let earned = |e: KeptEarned| Earned {
            leads: e.leads,
            manager: e.manager,
            exec: e.exec,
        };
        Ok(Escalations {
            live: earned(k.live),
            shadow: earned(k.shadow),
        })
    }
}

impl Earned {
    fn merge(&mut self, o: Earned) {
        self.leads += o.leads;
        self.manager += o.manager;
        self.exec += o.exec;
    }
}

impl Escalations {
    /// Counts the steps `r`'s events earned, on either clock, under its mode.
    fn add(&mut self, r: &Row) {
        let earned: Vec<&Role> = r
            .clocks
            .iter()
            .flat_map(|c| c.steps.iter().filter(|s| s.earned))
            .flat_map(|s| s.notify.iter())
            .collect();
        let counted = match r.mode {
            Mode::Live => &mut self.live,
            Mode::Shadow => &mut self.shadow,
        };
        let any_step = r.clocks.iter().any(|c| c.steps.iter().any(|s| s.earned));
        counted.leads += u64::from(any_step);
        counted.manager += u64::from(earned.iter().any(|r| matches!(r, Role::Manager)));
        counted.exec += u64::from(earned.iter().any(|r| matches!(r, Role::Exec)));
    }

    fn merge(&mut self, o: Escalations) {
        self.live.merge(o.live);
        self.shadow.merge(o.shadow);
    }
}
