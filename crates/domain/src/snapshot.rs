//! A lead's fold state kept between events, so that one more event costs one step of the fold
//! instead of a re-fold of the whole history.
//!
//! The fold is a function of the event *set* ([`Lead::fold`]); a snapshot is only a shortcut
//! to it, taken when the shortcut is exact. [`Snapshot::fold_onto`] applies an event after the
//! snapshot's last one and refuses (`None`) every case where appending is not the same as
//! re-folding: an event that sorts before or beside the last one, a correction or void (it
//! may change an earlier verdict), a merge, an escalation record from an earlier release, or a
//! history that holds any of those. The caller then re-folds the whole set, as before.
//!
//! A snapshot keeps only the head of the timeline (what the default page of a lead view shows;
//! later entries only append after it), so its size does not grow with the history.

use crate::event::{Event, EventBody};
use crate::lead::Lead;
use crate::policy::Policy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one more event needs from the history before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The folded lead, its timeline cut to the first `head` entries.
    pub lead: Lead,
    /// Entries in the whole timeline (the lead's own `timeline` holds the head only).
    pub timeline_total: usize,
    /// Entries of the timeline kept.
    pub head: usize,
    /// The last applied event's instant and rank ([`Event::sort_key`] without the id).
    pub last_at: DateTime<Utc>,
    pub last_rank: u8,
}

/// Whether a history holding `e` can be continued by appending: a correction, a void, a merge
/// or a legacy record may change an earlier verdict when one more event arrives.
fn continues_by_appending(e: &Event) -> bool {
    e.voids().is_none()
        && !matches!(
            e.body,
            EventBody::Void(_) | EventBody::Merge(_) | EventBody::Escalated(_)
        )
}

impl Snapshot {
    /// The snapshot of `lead`, the fold of `events` (all of them: the lead's own set); `None`
    /// when that history cannot be continued by appending.
    pub fn of(mut lead: Lead, events: &[Event], head: usize) -> Option<Snapshot> {
        if lead.merged_into.is_some() || !events.iter().all(continues_by_appending) {
            return None;
        }
        let last = events.iter().max_by(|a, b| a.sort_key().cmp(&b.sort_key()))?;
        let timeline_total = lead.timeline.len();
        lead.timeline.truncate(head);
        Some(Snapshot {
            lead,
            timeline_total,
            head,
            last_at: last.occurred_at,
            last_rank: last.body.rank(),
        })
    }

    /// The snapshot after `event`, an event of this lead the snapshot has not folded (one the
    /// store has just told new); `None` when only a re-fold gives the right state.
    pub fn fold_onto<'p>(&self, event: &Event, judge: &dyn Fn(DateTime<Utc>) -> &'p Policy) -> Option<Snapshot> {
        // Strictly after the last instant-and-rank: the fold's same-fact test compares only
        // within one run of equal instant and rank, which the snapshot no longer holds.
        let after = (event.occurred_at, event.body.rank()) > (self.last_at, self.last_rank);
        if !after || event.lead_id != self.lead.lead_id || !continues_by_appending(event) {
            return None;
        }
        let mut next = self.clone();
        // Strictly after every folded event: an earlier live one, if any, stays the first.
        if event.origin.is_live() {
            next.lead.first_live_at.get_or_insert(event.occurred_at);
        }
        next.lead.apply_judged(event, judge);
        next.lead.timeline.truncate(self.head);
        next.timeline_total += 1;
        next.last_at = event.occurred_at;
        next.last_rank = event.body.rank();
        Some(next)
    }
}
