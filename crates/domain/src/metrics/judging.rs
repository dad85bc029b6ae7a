//! When a figure may carry a band: "no false red". A band drawn on three leads, or on a
//! cohort that has not had time to convert, sends a manager after a problem that is not there
//! (a same-day SQL read "SQL → opportunity 0%: red flag"; one lead met in time read
//! "compliance 100%: the SLA may be too lenient").
//!
//! Two rules, both from the policy's `[reports]`:
//! - a conversion figure of a cohort younger than `sales_cycle` is *in progress*: shown with
//!   the leads still open and the instant it becomes final, never banded;
//! - no figure is banded, and so no flag raised, on fewer than `min_sample` leads.

use super::section::Section;
use super::stats::{Held, Rate, Timing};
use crate::lead::Cycle;
use crate::policy::Reports;
use chrono::{DateTime, Utc};

/// The band rules for one report.
#[derive(Debug, Clone, Copy)]
pub(super) struct Judging {
    min_sample: u64,
    /// When the period's MQL cohort has had a full sales cycle.
    final_from: DateTime<Utc>,
    now: DateTime<Utc>,
}

impl Judging {
    pub(super) fn new(reports: &Reports, to: DateTime<Utc>, now: DateTime<Utc>) -> Judging {
        Judging {
            min_sample: reports.min_sample,
            final_from: to + reports.sales_cycle,
            now,
        }
    }

    /// A conversion rate of the period's cohort, `still_open` of whose leads may yet convert.
    pub(super) fn conversion(&self, mut r: Rate, still_open: u64) -> Rate {
        if self.now < self.final_from {
            r.hold(Held::InProgress {
                still_open,
                final_from: self.final_from,
            });
        }
        r
    }

    fn small(&self) -> Held {
        Held::SmallSample {
            min_sample: self.min_sample,
        }
    }

    pub(super) fn rate(&self, r: &mut Rate) {
        if r.denominator < self.min_sample {
            r.hold(self.small());
        }
    }

    fn timing(&self, t: &mut Timing) {
        if t.calendar.count < self.min_sample {
            t.hold(self.small());
        }
    }

    /// Takes away every band of `s` drawn on fewer than `min_sample` leads. Every banded
    /// figure of a section is listed here (a test walks a report's JSON for any band left).
    pub(super) fn section(&self, s: &mut Section) {
        self.rate(&mut s.volume.recycled_share);
        self.timing(&mut s.systems_delay.timing);
        self.timing(&mut s.human_delay);
        self.timing(&mut s.speed_to_lead);
        for r in [
            &mut s.response_rate,
            &mut s.five_minute_response_rate,
            &mut s.lead_leakage,
            &mut s.sla.breach_escalation_rate,
            &mut s.sla.overall.rate,
        ] {
            self.rate(r);
        }
        s.sla.by_lead_type.values_mut().for_each(|c| self.rate(&mut c.rate));
        if s.sla.overall.rate.denominator < self.min_sample {
            s.sla.too_lenient = false;
        }
        let f = &mut s.funnel;
        for r in [
            &mut f.sal_acceptance,
            &mut f.rejection,
            &mut f.rejection_reason_completion,
            &mut f.sal_to_sql,
            &mut f.sql_to_opportunity,
            &mut f.mql_to_sql,
        ] {
            self.rate(r);
        }
    }

    /// A rate standing alone (conversion by source).
    pub(super) fn alone(&self, mut r: Rate) -> Rate {
        self.rate(&mut r);
        r
    }
}

/// Not converted to SQL and not closed: the cycle may still reach SQL.
pub(super) fn may_reach_sql(c: &Cycle) -> bool {
    c.sql_at.is_none() && c.closed_at.is_none()
}

/// An SQL with no opportunity that is not lost, won, disqualified or nurtured yet.
pub(super) fn may_reach_opportunity(c: &Cycle) -> bool {
    c.sql_at.is_some()
        && c.opportunity_at.is_none()
        && [c.lost_at, c.won_at, c.disqualified_at, c.nurture_at]
            .iter()
            .all(Option::is_none)
}
