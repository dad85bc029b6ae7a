//! The funnel of the period's MQL cohort, whenever its cycles convert.

use super::bands::{
    MQL_TO_SQL, REJECTION, REJECTION_REASON_COMPLETION, SAL_ACCEPTANCE, SAL_TO_SQL, SQL_TO_OPPORTUNITY,
};
use super::judging::{may_reach_opportunity, may_reach_sql, Judging};
use super::stats::Rate;
use crate::lead::Cycle;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The funnel of the period's MQL cohort being added up, a cycle at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct FunnelTally {
    sal: u64,
    rejected: u64,
    rejected_with_reason: u64,
    sql: u64,
    sal_sql: u64,
    sql_opportunity: u64,
    /// Accepted and may still reach SQL.
    sal_open: u64,
    may_reach_sql: u64,
    may_reach_opportunity: u64,
    in_progress: u64,
    disqualified_after_acceptance: u64,
    awaiting_acceptance: u64,
    /// Rejections per reason given; those without one under `(no reason given)`.
    rejection_reasons: BTreeMap<String, u64>,
}

impl FunnelTally {
    pub(super) fn add(&mut self, c: &Cycle) {
        let (sal, sql) = (c.sal_at.is_some(), c.sql_at.is_some());
        let rejected = c.rejected_at.is_some();
        self.sal += u64::from(sal);
        self.rejected += u64::from(rejected);
        self.rejected_with_reason += u64::from(rejected && c.rejection_reason.is_some());
        self.sql += u64::from(sql);
        self.sal_sql += u64::from(sal && sql);
        self.sql_opportunity += u64::from(sql && c.opportunity_at.is_some());
        self.sal_open += u64::from(sal && may_reach_sql(c));
        self.may_reach_sql += u64::from(may_reach_sql(c));
        self.may_reach_opportunity += u64::from(may_reach_opportunity(c));
        self.in_progress += u64::from(sal && !sql && c.closed_at.is_none() && !rejected);
        self.disqualified_after_acceptance += u64::from(sal && !sql && c.disqualified_at.is_some());
        self.awaiting_acceptance += u64::from(!sal && !rejected && c.closed_at.is_none());
        if rejected {
            let reason = c.rejection_reason.clone().unwrap_or_else(|| "(no reason given)".into());
            *self.rejection_reasons.entry(reason).or_insert(0) += 1;
        }
    }

    pub(super) fn merge(&mut self, o: FunnelTally) {
        self.sal += o.sal;
        self.rejected += o.rejected;
        self.rejected_with_reason += o.rejected_with_reason;
        self.sql += o.sql;
        self.sal_sql += o.sal_sql;
        self.sql_opportunity += o.sql_opportunity;
        self.sal_open += o.sal_open;
        self.may_reach_sql += o.may_reach_sql;
        self.may_reach_opportunity += o.may_reach_opportunity;
        self.in_progress += o.in_progress;
        self.disqualified_after_acceptance += o.disqualified_after_acceptance;
        self.awaiting_acceptance += o.awaiting_acceptance;
        for (reason, n) in o.rejection_reasons {
            *self.rejection_reasons.entry(reason).or_insert(0) += n;
        }
    }

    /// The funnel of `mqls` cycles; its conversions are in progress while `judging` says the
    /// cohort is younger than the sales cycle.
    pub(super) fn finish(self, mqls: u64, judging: &Judging) -> Funnel {
        Funnel {
            mqls,
            sal_acceptance: Rate::new(self.sal, mqls).banded(&SAL_ACCEPTANCE),
            rejection: Rate::new(self.rejected, mqls).banded(&REJECTION),
            rejection_reason_completion: Rate::new(self.rejected_with_reason, self.rejected)
                .banded(&REJECTION_REASON_COMPLETION),
            rejection_reasons: self.rejection_reasons,
            sal_to_sql: judging.conversion(Rate::new(self.sal_sql, self.sal).banded(&SAL_TO_SQL), self.sal_open),
            sql_to_opportunity: judging.conversion(
                Rate::new(self.sql_opportunity, self.sql).banded(&SQL_TO_OPPORTUNITY),
                self.may_reach_opportunity,
            ),
            mql_to_sql: judging.conversion(Rate::new(self.sql, mqls).banded(&MQL_TO_SQL), self.may_reach_sql),
            in_progress: self.in_progress,
            disqualified_after_acceptance: self.disqualified_after_acceptance,
            awaiting_acceptance: self.awaiting_acceptance,
        }
    }
}
