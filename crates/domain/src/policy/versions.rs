//! Effective-dated policies: every version a deployment has judged by, each with the instant it
//! took effect. Each MQL cycle of a lead is judged (SLA targets, ladders, calendars, which
//! touches count) by the version in force when it engaged, so changing the policy never
//! rewrites a past report. Delivery settings (shadow or live, settle, stale, who is paged) are
//! read from the version in force when a step falls due.

use super::Policy;
use crate::event::Event;
use crate::lead::{Cycle, Lead};
use crate::LeadId;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// One version: its number (1, 2, …), the instant it took effect (`None`: since the first
/// event, as for the policy in force before versions were kept), and the policy.
#[derive(Debug, Clone)]
pub struct Version {
    pub number: u32,
    pub effective_from: Option<DateTime<Utc>>,
    pub policy: Arc<Policy>,
}

/// Why a list of versions cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionsError {
    #[error("no policy version")]
    Empty,
    #[error("version {number} takes effect at {at}, not after version {previous}")]
    OutOfOrder { number: u32, previous: u32, at: String },
    #[error("version {number} follows version {previous}: numbers go up by one")]
    Numbering { number: u32, previous: u32 },
    #[error("only version 1 may be in force since the beginning")]
    Unbounded { number: u32 },
}

/// The versions, oldest first; never empty. The last is the current policy.
#[derive(Debug, Clone)]
pub struct Versions {
    list: Vec<Version>,
}

impl Versions {
    /// One policy in force since the beginning: what a deployment without history has.
    pub fn only(policy: Arc<Policy>) -> Self {
        Self {
            list: vec![Version {
                number: 1,
                effective_from: None,
                policy,
            }],
        }
    }

    /// Versions numbered 1, 2, … in order of the instants they took effect.
    pub fn new(list: Vec<Version>) -> Result<Self, VersionsError> {
        let first = list.first().ok_or(VersionsError::Empty)?;
        if first.number != 1 {
            return Err(VersionsError::Numbering {
                number: first.number,
                previous: 0,
            });
        }
        for w in list.windows(2) {
            let (prev, next) = (&w[0], &w[1]);
            if next.number != prev.number + 1 {
                return Err(VersionsError::Numbering {
                    number: next.number,
                    previous: prev.number,
                });
            }
            let at = next
                .effective_from
                .ok_or(VersionsError::Unbounded { number: next.number })?;
            if prev.effective_from.is_some_and(|p| p >= at) {
                return Err(VersionsError::OutOfOrder {
                    number: next.number,
                    previous: prev.number,
                    at: at.to_rfc3339(),
                });
            }
        }
        Ok(Self { list })
    }

    pub fn all(&self) -> &[Version] {
        &self.list
    }

    /// The newest version: the one that classifies new events and sets delivery.
    pub fn current(&self) -> &Version {
        self.list.last().expect("versions are never empty")
    }

    /// The version in force at `t`: the newest that took effect at or before it (version 1
    /// for anything earlier than every version).
    pub fn in_force_at(&self, t: DateTime<Utc>) -> &Version {
        self.list
            .iter()
            .rev()
            .find(|v| v.effective_from.is_none_or(|from| from <= t))
            .unwrap_or(&self.list[0])
    }

    /// The version that judges `cycle`: the one in force at its engagement.
    pub fn judging_cycle(&self, cycle: &Cycle) -> &Version {
        self.in_force_at(cycle.engaged_at)
    }

    /// The version that judges `lead` now: its current cycle's (the current version for a lead
    /// that has not engaged yet).
    pub fn judging(&self, lead: &Lead) -> &Version {
        match lead.cycles.last() {
            Some(c) => self.judging_cycle(c),
            None => self.current(),
        }
    }

    /// Folds a lead's events, each MQL cycle judged by the version in force at its engagement
    /// (so a lead recycled after a policy change is judged by the new version from then on,
    /// and its earlier cycles keep their verdicts); returns the version of its current cycle.
    pub fn fold(&self, lead_id: LeadId, events: &[Event]) -> (Lead, &Version) {
        let lead = Lead::fold_by(lead_id, events, &|t| &self.in_force_at(t).policy);
        let judging = self.judging(&lead);
        (lead, judging)
    }
}

/// Which policy judges a cycle in a report: a single [`Policy`] judges every cycle as version 1;
/// [`Versions`] judge each cycle by the version in force at its engagement.
pub trait Judge {
    /// The policy whose labels, directory and reporting settings a report uses.
    fn current(&self) -> &Policy;
    /// The policy and version number that judge `cycle`.
    fn judge(&self, cycle: &Cycle) -> (&Policy, u32);
    /// When version `number` took effect (`None`: since the beginning).
    fn effective_from(&self, number: u32) -> Option<DateTime<Utc>>;
}

impl Judge for Policy {
    fn current(&self) -> &Policy {
        self
    }
    fn judge(&self, _: &Cycle) -> (&Policy, u32) {
        (self, 1)
    }
    fn effective_from(&self, _: u32) -> Option<DateTime<Utc>> {
        None
    }
}

impl Judge for Versions {
    fn current(&self) -> &Policy {
        &Versions::current(self).policy
    }
    fn judge(&self, cycle: &Cycle) -> (&Policy, u32) {
        let v = self.judging_cycle(cycle);
        (&v.policy, v.number)
    }
    fn effective_from(&self, number: u32) -> Option<DateTime<Utc>> {
        self.list
            .iter()
            .find(|v| v.number == number)
            .and_then(|v| v.effective_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Arc<Policy> {
        Arc::new(Policy::parse(include_str!("../../../../policies/example.toml")).unwrap())
    }
    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn v(number: u32, from: Option<&str>) -> Version {
        Version {
            number,
            effective_from: from.map(t),
            policy: policy(),
        }
    }

    #[test]
    fn the_version_in_force_is_the_newest_that_took_effect() {
        let vs = Versions::new(vec![
            v(1, None),
            v(2, Some("2027-03-01T00:00:00Z")),
            v(3, Some("2027-04-01T00:00:00Z")),
        ])
        .unwrap();
        assert_eq!(vs.in_force_at(t("2020-01-01T00:00:00Z")).number, 1);
        assert_eq!(vs.in_force_at(t("2027-02-28T23:59:59Z")).number, 1);
        assert_eq!(vs.in_force_at(t("2027-03-01T00:00:00Z")).number, 2);
        assert_eq!(vs.in_force_at(t("2027-06-01T00:00:00Z")).number, 3);
        assert_eq!(vs.current().number, 3);
    }

    #[test]
    fn a_version_list_must_be_numbered_and_dated_in_order() {
        let at = |n, s| v(n, Some(s));
        assert_eq!(Versions::new(vec![]).unwrap_err(), VersionsError::Empty);
        assert!(matches!(
            Versions::new(vec![v(1, None), at(3, "2027-01-01T00:00:00Z")]),
            Err(VersionsError::Numbering { number: 3, previous: 1 })
        ));
        assert!(matches!(
            Versions::new(vec![at(1, "2027-02-01T00:00:00Z"), at(2, "2027-01-01T00:00:00Z")]),
            Err(VersionsError::OutOfOrder { number: 2, .. })
        ));
        assert!(matches!(
            Versions::new(vec![v(1, None), v(2, None)]),
            Err(VersionsError::Unbounded { number: 2 })
        ));
    }
}
