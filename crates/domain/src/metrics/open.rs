//! The clocks running now.

use crate::clock::{self, ClockStatus, ClockView};
use crate::lead::Lead;
use crate::policy::Judge;
use crate::ClockKind;
use chrono::{DateTime, Utc};
use serde::Serialize;

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

/// Leads whose clock runs now, soonest deadline first.
pub fn open_slas<'a>(leads: impl IntoIterator<Item = &'a Lead>, judge: &dyn Judge, now: DateTime<Utc>) -> Vec<OpenSla> {
    let mut out: Vec<OpenSla> = leads
        .into_iter()
        .filter_map(|l| l.current_cycle().map(|c| (l, c)))
        .flat_map(|(l, c)| {
            clock::cycle_clocks(c, judge.judge(c).0, now)
                .into_iter()
                .filter(ClockView::is_running)
                .map(move |v| OpenSla {
                    lead_id: l.lead_id.to_string(),
                    lead_type: c.lead_type.clone(),
                    clock: v.clock,
                    owner: c.current_stint().map(|s| s.owner.clone()),
                    deadline: v.deadline,
                    seconds_left: v.deadline.map(|d| (d - now).num_seconds()),
                    status: v.status,
                })
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
    /// Adds `open`, soonest first as [`open_slas`] gives them. Equal deadlines of one lead
    /// keep their order (a stable sort of what came first), so any split gives one list.
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
