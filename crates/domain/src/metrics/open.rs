//! The clocks running now.

use crate::clock::{self, ClockStatus, ClockView};
use crate::lead::Lead;
use crate::policy::Judge;
use crate::{ClockKind, LeadId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenSla {
    pub lead_id: String,
    pub lead_type: String,
    pub clock: ClockKind,
    pub owner: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    /// Negative once breached.
    pub seconds_left: Option<i64>,
    pub status: ClockStatus,
}

/// Open SLAs a report lists, soonest deadline first. The count of all of them is reported
/// beside the list: a report, and the nightly rollup item that stores it, stays the same size
/// however many leads are open (at 161 bytes per entry, listing every one passed
/// DynamoDB's 400 KB item limit at about 2,250 open leads).
pub const OPEN_LISTED: usize = 200;

/// A clock running on a lead's current cycle, as far as it can change without another event:
/// it turns breached once `now` passes its deadline and stops when the lead ages out. A host
/// keeps these beside the lead's summary, so a report reads the open list of a lead with no
/// event in its period without reading the lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenClock {
    pub clock: ClockKind,
    pub lead_type: String,
    pub owner: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    /// When the cycle ages out as `no_response` (its lead type's `open_for`), if it does.
    pub ends_at: Option<DateTime<Utc>>,
}

impl OpenClock {
    /// The open SLA this clock is at `now` (at or after the instant it was taken), or `None`
    /// once the lead has aged out.
    pub fn at(&self, lead_id: &LeadId, now: DateTime<Utc>) -> Option<OpenSla> {
        if self.ends_at.is_some_and(|t| t <= now) {
            return None;
        }
        let breached = self.deadline.is_some_and(|d| now > d);
        Some(OpenSla {
            lead_id: lead_id.to_string(),
            lead_type: self.lead_type.clone(),
            clock: self.clock,
            owner: self.owner.clone(),
            deadline: self.deadline,
            seconds_left: self.deadline.map(|d| (d - now).num_seconds()),
            status: if breached {
                ClockStatus::Breached
            } else {
                ClockStatus::Running
            },
        })
    }
}

/// The clocks running now on `lead`'s current cycle.
pub fn open_clocks(lead: &Lead, judge: &dyn Judge, now: DateTime<Utc>) -> Vec<OpenClock> {
    let Some(c) = lead.current_cycle() else {
        return Vec::new();
    };
    let policy = judge.judge(c).0;
    clock::cycle_clocks(c, policy, now)
        .into_iter()
        .filter(ClockView::is_running)
        .map(|v| OpenClock {
            clock: v.clock,
            lead_type: c.lead_type.clone(),
            owner: c.current_stint().map(|s| s.owner.clone()),
            deadline: v.deadline,
            ends_at: clock::no_response_at(c, policy),
        })
        .collect()
}

/// Leads whose clock runs now, soonest deadline first.
pub fn open_slas<'a>(leads: impl IntoIterator<Item = &'a Lead>, judge: &dyn Judge, now: DateTime<Utc>) -> Vec<OpenSla> {
    let mut out: Vec<OpenSla> = leads
        .into_iter()
        .flat_map(|l| {
            open_clocks(l, judge, now)
                .into_iter()
                .filter_map(move |c| c.at(&l.lead_id, now))
        })
        .collect();
    sort_soonest(&mut out);
    out
}

/// The open SLAs of a report being added up: the soonest [`OPEN_LISTED`] and counts of all.
#[derive(Debug, Clone, Default)]
pub(super) struct OpenTally {
    listed: Vec<OpenSla>,
    pub(super) total: u64,
    pub(super) breached: u64,
}

impl OpenTally {
    /// Adds `open` (one lead's clocks in clock order, or [`open_slas`]'s list). Equal
    /// deadlines of one lead keep their order (a stable sort of what came first), so any split
    /// gives one list.
    pub(super) fn add(&mut self, open: Vec<OpenSla>) {
        self.total += open.len() as u64;
        self.breached += open.iter().filter(|o| o.status == ClockStatus::Breached).count() as u64;
        self.listed.extend(open);
        sort_soonest(&mut self.listed);
        self.listed.truncate(OPEN_LISTED);
    }

    pub(super) fn merge(&mut self, o: OpenTally) {
        let (total, breached) = (self.total + o.total, self.breached + o.breached);
        self.add(o.listed);
        (self.total, self.breached) = (total, breached);
    }

    pub(super) fn listed(self) -> Vec<OpenSla> {
        self.listed
    }
}

fn sort_soonest(open: &mut [OpenSla]) {
    open.sort_by(|a, b| {
        (a.deadline.is_none(), a.deadline, &a.lead_id).cmp(&(b.deadline.is_none(), b.deadline, &b.lead_id))
    });
}
