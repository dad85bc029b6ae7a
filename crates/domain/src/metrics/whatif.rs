//! What-if: the same stored events judged under two policies, side by side. The events do
//! not change, so every difference is the policy's: compliance per lead type, how many leads
//! would have earned each escalation step, and rep scores.

use super::report::report;
use super::rows::rows;
use super::{in_period, Compliance, RepScore};
use crate::event::ClockKind;
use crate::lead::Lead;
use crate::policy::Policy;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many of the period's MQLs earned one ladder step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepVolume {
    pub clock: ClockKind,
    /// 1-based, as notifications number them.
    pub step: u32,
    pub name: String,
    pub leads: u64,
}

/// One policy's judgement of the events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    pub compliance: BTreeMap<String, Compliance>,
    pub overall: Compliance,
    pub steps: Vec<StepVolume>,
    pub reps: Vec<RepScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub actual: Judged,
    pub proposed: Judged,
}

/// Escalation steps earned by the MQL cycles engaged in `[from, to)`, per (clock, step).
pub fn step_volume(
    leads: &[Lead],
    policy: &Policy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<StepVolume> {
    let mut counts: BTreeMap<(ClockKind, u32), (String, u64)> = BTreeMap::new();
    for row in rows(leads, policy, now)
        .iter()
        .filter(|r| in_period(r.cycle.engaged_at, from, to))
    {
        for c in &row.clocks {
            for s in c.steps.iter().filter(|s| s.earned) {
                counts
                    .entry((c.clock, s.index + 1))
                    .or_insert_with(|| (s.name.clone(), 0))
                    .1 += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|((clock, step), (name, leads))| StepVolume {
            clock,
            step,
            name,
            leads,
        })
        .collect()
}

fn judged(leads: &[Lead], policy: &Policy, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> Judged {
    let r = report(leads, policy, from, to, None, now);
    Judged {
        compliance: r.overall.sla.by_lead_type,
        overall: r.overall.sla.overall,
        steps: step_volume(leads, policy, from, to, now),
        reps: r.reps,
    }
}

/// `actual` folded under the policy in force, `proposed` the same events under the other.
pub fn what_if(
    actual: (&[Lead], &Policy),
    proposed: (&[Lead], &Policy),
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> WhatIf {
    WhatIf {
        from,
        to,
        generated_at: now,
        actual: judged(actual.0, actual.1, from, to, now),
        proposed: judged(proposed.0, proposed.1, from, to, now),
    }
}
