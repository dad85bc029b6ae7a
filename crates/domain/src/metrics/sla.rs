//! SLA compliance and breach escalation, over the leads first assigned in the period.

use super::bands::{BREACH_ESCALATION_RATE, SLA_COMPLIANCE, SLA_TOO_LENIENT};
use super::rows::{count, Row};
use super::stats::Rate;
use crate::clock::ClockStatus;
use crate::policy::Role;
use crate::ClockKind;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    pub(super) fn add(&mut self, status: ClockStatus) {
        self.assigned += 1;
        match status {
            ClockStatus::Met => self.met += 1,
            ClockStatus::Missed | ClockStatus::Breached => self.missed += 1,
            ClockStatus::Running => self.pending += 1,
            ClockStatus::Closed => self.closed += 1,
        }
    }
    pub(super) fn finish(&mut self) {
        self.rate = Rate::new(self.met, self.met + self.missed).banded(&SLA_COMPLIANCE);
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sla {
    pub by_lead_type: BTreeMap<String, Compliance>,
    pub overall: Compliance,
    /// Compliance within [`SLA_TOO_LENIENT`]: the SLA may be too lenient.
    pub too_lenient: bool,
    /// Share of assigned leads whose escalation reached a manager or exec step.
    pub breach_escalation_rate: Rate,
}

/// Response-clock compliance per lead type and overall, and breach escalation, of `assigned`.
pub(super) fn sla(assigned: &[&Row]) -> Sla {
    let mut by_lead_type: BTreeMap<String, Compliance> = BTreeMap::new();
    let mut overall = Compliance::default();
    for r in assigned {
        if let Some(c) = r.clock(ClockKind::Response) {
            by_lead_type.entry(r.cycle.lead_type.clone()).or_default().add(c.status);
            overall.add(c.status);
        }
    }
    by_lead_type.values_mut().for_each(Compliance::finish);
    overall.finish();
    let escalated = count(assigned, escalated_to_management);
    Sla {
        too_lenient: overall.rate.percent.is_some_and(|p| SLA_TOO_LENIENT.contains(p)),
        breach_escalation_rate: Rate::new(escalated, assigned.len() as u64).banded(&BREACH_ESCALATION_RATE),
        by_lead_type,
        overall,
    }
}

/// Whether the events earned a response-clock step that notifies a manager or exec: the lead
/// breached far enough to reach management, whatever was or was not delivered.
fn escalated_to_management(row: &Row) -> bool {
    row.clock(ClockKind::Response).is_some_and(|c| {
        c.steps
            .iter()
            .any(|s| s.earned && s.notify.iter().any(|r| matches!(r, Role::Manager | Role::Exec)))
    })
}
