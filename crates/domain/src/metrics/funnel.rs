//! The funnel of the period's MQL cohort, whenever its cycles convert.

use super::bands::{
    MQL_TO_SQL, REJECTION, REJECTION_REASON_COMPLETION, SAL_ACCEPTANCE, SAL_TO_SQL, SQL_TO_OPPORTUNITY,
};
use super::judging::{may_reach_opportunity, may_reach_sql, Judging};
use super::rows::{count, Row};
use super::stats::Rate;
use crate::lead::Cycle;
use serde::Serialize;
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

/// The funnel of `cohort`; its conversions are in progress while `judging` says the cohort is
/// younger than the sales cycle.
pub(super) fn funnel(cohort: &[&Row], judging: &Judging) -> Funnel {
    let cycles = |f: fn(&Cycle) -> bool| count(cohort, |r| f(r.cycle));
    let mqls = cohort.len() as u64;
    let sal = cycles(|c| c.sal_at.is_some());
    let rejected = cycles(|c| c.rejected_at.is_some());
    let with_reason = cycles(|c| c.rejected_at.is_some() && c.rejection_reason.is_some());
    let sql = cycles(|c| c.sql_at.is_some());
    let sal_sql = cycles(|c| c.sal_at.is_some() && c.sql_at.is_some());
    let sql_opp = cycles(|c| c.sql_at.is_some() && c.opportunity_at.is_some());
    Funnel {
        mqls,
        sal_acceptance: Rate::new(sal, mqls).banded(&SAL_ACCEPTANCE),
        rejection: Rate::new(rejected, mqls).banded(&REJECTION),
        rejection_reason_completion: Rate::new(with_reason, rejected).banded(&REJECTION_REASON_COMPLETION),
        rejection_reasons: rejection_reasons(cohort),
        sal_to_sql: judging.conversion(
            Rate::new(sal_sql, sal).banded(&SAL_TO_SQL),
            cycles(|c| c.sal_at.is_some() && may_reach_sql(c)),
        ),
        sql_to_opportunity: judging.conversion(
            Rate::new(sql_opp, sql).banded(&SQL_TO_OPPORTUNITY),
            cycles(may_reach_opportunity),
        ),
        mql_to_sql: judging.conversion(Rate::new(sql, mqls).banded(&MQL_TO_SQL), cycles(may_reach_sql)),
        in_progress: cycles(|c| {
            c.sal_at.is_some() && c.sql_at.is_none() && c.closed_at.is_none() && c.rejected_at.is_none()
        }),
        disqualified_after_acceptance: cycles(|c| {
            c.sal_at.is_some() && c.sql_at.is_none() && c.disqualified_at.is_some()
        }),
        awaiting_acceptance: cycles(|c| c.sal_at.is_none() && c.rejected_at.is_none() && c.closed_at.is_none()),
    }
}

/// Rejections per reason given; those without one under `(no reason given)`.
fn rejection_reasons(cohort: &[&Row]) -> BTreeMap<String, u64> {
    let mut reasons = BTreeMap::new();
    for c in cohort.iter().map(|r| r.cycle).filter(|c| c.rejected_at.is_some()) {
        let reason = c.rejection_reason.clone().unwrap_or_else(|| "(no reason given)".into());
        *reasons.entry(reason).or_insert(0) += 1;
    }
    reasons
}
