//! One MQL cycle with what the metrics need, computed once per report.

use super::dimension::Dimension;
use crate::clock::{self, ClockView, Delays};
use crate::lead::{Cycle, Lead, Stint};
use crate::policy::{Judge, Mode, Policy};
use crate::steps::mode_of;
use crate::ClockKind;
use chrono::{DateTime, Utc};

pub(super) struct Row<'a> {
    pub(super) cycle: &'a Cycle,
    pub(super) clocks: Vec<ClockView>,
    pub(super) delays: Delays,
    pub(super) team: Option<String>,
    /// Live or shadow, as the policy says now for the cycle's lead type and owner's team.
    pub(super) mode: Mode,
    /// The policy that judges the cycle's lead (the version in force at its engagement).
    pub(super) policy: &'a Policy,
    pub(super) version: u32,
}

impl Row<'_> {
    pub(super) fn clock(&self, kind: ClockKind) -> Option<&ClockView> {
        self.clocks.iter().find(|c| c.clock == kind)
    }

    /// The cycle's value on `dim`; `(none)` when it has none.
    pub(super) fn dimension(&self, dim: Dimension) -> String {
        let v = match dim {
            Dimension::LeadType => Some(self.cycle.lead_type.clone()),
            Dimension::Source => self.cycle.source.clone(),
            Dimension::Region => self.cycle.region.clone(),
            Dimension::Segment => self.cycle.segment.clone(),
            Dimension::Owner => self.cycle.first_stint().map(|s| s.owner.clone()),
            Dimension::Team => self.team.clone(),
        };
        v.unwrap_or_else(|| "(none)".into())
    }
}

/// How many of `rows` satisfy `f`.
pub(super) fn count(rows: &[&Row], f: impl Fn(&Row) -> bool) -> u64 {
    rows.iter().filter(|r| f(r)).count() as u64
}

/// The rows of every counted cycle of `leads`: not over the recycle limit, not excluded.
/// Each cycle is judged by its own version; team and mode come from the current policy (the
/// directory as it is now, delivery as it is now).
pub(super) fn rows<'a>(leads: &'a [Lead], judge: &'a dyn Judge, now: DateTime<Utc>) -> Vec<Row<'a>> {
    let current = judge.current();
    leads
        .iter()
        .flat_map(|l| l.cycles.iter())
        .filter(|c| !c.suppressed && c.excluded().is_none())
        .map(|c| (c, judge.judge(c)))
        .map(|(c, (policy, version))| Row {
            cycle: c,
            clocks: clock::cycle_clocks(c, policy, now),
            delays: clock::delays(c, policy),
            team: team_of(c.first_stint(), current),
            mode: mode_of(current, c),
            policy,
            version,
        })
        .collect()
}

/// The stint's own team, else its owner's team in the directory.
fn team_of(stint: Option<&Stint>, policy: &Policy) -> Option<String> {
    let s = stint?;
    s.team
        .clone()
        .or_else(|| policy.directory.people.get(&s.owner).and_then(|p| p.team.clone()))
}
