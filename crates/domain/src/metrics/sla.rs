//! SLA compliance and breach escalation, over the leads first assigned in the period.

use super::bands::{BREACH_ESCALATION_RATE, SLA_COMPLIANCE, SLA_TOO_LENIENT};
use super::rows::Row;
use super::stats::Rate;
use crate::clock::ClockStatus;
use crate::policy::Role;
use crate::ClockKind;
use serde::{Deserialize, Serialize};
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

/// A [`Compliance`] being added up: its counts.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct ComplianceTally {
    assigned: u64,
    met: u64,
    missed: u64,
    pending: u64,
    closed: u64,
}

impl ComplianceTally {
    pub(super) fn add(&mut self, status: ClockStatus) {
        self.assigned += 1;
        match status {
            ClockStatus::Met => self.met += 1,
            ClockStatus::Missed | ClockStatus::Breached => self.missed += 1,
            ClockStatus::Running => self.pending += 1,
            ClockStatus::Closed => self.closed += 1,
        }
    }
    fn merge(&mut self, o: &ComplianceTally) {
        self.assigned += o.assigned;
        self.met += o.met;
        self.missed += o.missed;
        self.pending += o.pending;
        self.closed += o.closed;
    }
    pub(super) fn finish(self) -> Compliance {
        Compliance {
            assigned: self.assigned,
            met: self.met,
            missed: self.missed,
            pending: self.pending,
            closed: self.closed,
            rate: Rate::new(self.met, self.met + self.missed).banded(&SLA_COMPLIANCE),
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

/// Compliance and breach escalation being added up over the leads first assigned in the period.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct SlaTally {
    by_lead_type: BTreeMap<String, ComplianceTally>,
    overall: ComplianceTally,
    assigned: u64,
    escalated: u64,
}

impl SlaTally {
    /// Counts `r`, a lead first assigned in the period: its response clock and how far up it
    /// escalated.
    pub(super) fn add(&mut self, r: &Row) {
        self.assigned += 1;
        if let Some(c) = r.clock(ClockKind::Response) {
            self.by_lead_type
                .entry(r.cycle.lead_type.clone())
                .or_default()
                .add(c.status);
            self.overall.add(c.status);
        }
        self.escalated += u64::from(escalated_to_management(r));
    }

    pub(super) fn merge(&mut self, o: SlaTally) {
        for (lead_type, c) in o.by_lead_type {
            self.by_lead_type.entry(lead_type).or_default().merge(&c);
        }
        self.overall.merge(&o.overall);
        self.assigned += o.assigned;
        self.escalated += o.escalated;
    }

    /// Leads first assigned in the period.
    pub(super) fn assigned(&self) -> u64 {
        self.overall.assigned
    }

    /// Response-clock compliance per lead type and overall, and breach escalation.
    pub(super) fn finish(self) -> Sla {
        let overall = self.overall.finish();
        Sla {
            too_lenient: overall.rate.percent.is_some_and(|p| SLA_TOO_LENIENT.contains(p)),
            breach_escalation_rate: Rate::new(self.escalated, self.assigned).banded(&BREACH_ESCALATION_RATE),
            by_lead_type: self.by_lead_type.into_iter().map(|(t, c)| (t, c.finish())).collect(),
            overall,
        }
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
