//! Merged CRM records (HubSpot's `mergedObjectIds`). A merge is an event stored on the
//! surviving lead and on each merged one; nothing stored is moved. The survivor's timeline is
//! the union of theirs, built when it is read, so a merged contact's events count wherever and
//! whenever they arrive (before the merge, after it, out of order); a merged lead folds to a
//! pointer to the survivor and counts nowhere else.

use crate::event::{EventBody, EventId};
use crate::{Event, LeadId};

/// The most leads one survivor's timeline unions, merges of merges included: far above any
/// real CRM's merge chain, and a bound on the reads one lead costs.
pub const MAX_MERGED: usize = 100;

/// The leads the events' merges fold into `lead`.
pub fn merged_into(lead: &LeadId, events: &[Event]) -> Vec<LeadId> {
    let mut out: Vec<LeadId> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Merge(m) if &m.into == lead => Some(m.merged.iter().filter(|l| *l != lead)),
            _ => None,
        })
        .flatten()
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The lead a merge folded `lead` into, if one did. Should two merges name it (a CRM never
/// merges a record twice), the earliest wins, whatever the arrival order.
pub fn absorbed_by<'a>(lead: &LeadId, events: impl IntoIterator<Item = &'a Event>) -> Option<LeadId> {
    events
        .into_iter()
        .filter(|e| &e.lead_id == lead)
        .filter_map(|e| match &e.body {
            EventBody::Merge(m) if &m.into != lead && m.merged.contains(lead) => {
                Some((e.occurred_at, e.event_id.as_str(), &m.into))
            }
            _ => None,
        })
        .min()
        .map(|(_, _, into)| into.clone())
}

/// The survivor's timeline: its own events, then each merged lead's re-keyed to it — ids
/// prefixed with the merged lead's (`hubspot:1:2>f1`) so two leads' ids never collide, and
/// the references inside them (a correction's target, a superseded id) likewise — less the
/// merges that absorbed them, which would make the survivor absorbed too.
pub fn union(into: &LeadId, own: Vec<Event>, merged: Vec<(LeadId, Vec<Event>)>) -> Vec<Event> {
    let mut out = own;
    for (lead, events) in merged {
        for mut e in events {
            if matches!(&e.body, EventBody::Merge(m) if m.merged.contains(&lead)) || &lead == into {
                continue;
            }
            e.event_id = rekeyed(&lead, &e.event_id);
            e.supersedes = e.supersedes.map(|s| rekeyed(&lead, &s));
            if let EventBody::Void(v) = &mut e.body {
                v.target = rekeyed(&lead, &v.target);
            }
            e.lead_id = into.clone();
            out.push(e);
        }
    }
    out
}

/// `{lead}>{id}`, or the id itself when that would be too long for an id (then a collision
/// with the survivor's own ids is possible but needs a 200-character id).
fn rekeyed(lead: &LeadId, id: &EventId) -> EventId {
    EventId::parse(&format!("{lead}>{id}")).unwrap_or_else(|_| id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Assignment, Merge, Touch};
    use crate::{Lead, Policy};
    use proptest::prelude::*;

    fn id(s: &str) -> LeadId {
        LeadId::parse(s).unwrap()
    }

    fn at(min: i64) -> chrono::DateTime<chrono::Utc> {
        "2026-11-23T15:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap() + chrono::Duration::minutes(min)
    }

    fn event(lead: &str, eid: &str, min: i64, body: EventBody) -> Event {
        Event::new(EventId::parse(eid).unwrap(), id(lead), at(min), body)
    }

    fn merge_on(lead: &str, min: i64) -> Event {
        let m = Merge {
            into: id("hubspot:1:10"),
            merged: vec![id("hubspot:1:20")],
        };
        event(lead, &format!("merge-{lead}"), min, EventBody::Merge(m))
    }

    fn policy() -> Policy {
        Policy::parse(include_str!("../../../policies/example.toml")).unwrap()
    }

    /// The survivor had the form; the merged contact had the assignment and the touch.
    fn story() -> (Vec<Event>, Vec<Event>) {
        let form = crate::event::Form {
            lead_type: "demo_request".into(),
            ..Default::default()
        };
        let survivor = vec![
            event("hubspot:1:10", "f1", 0, EventBody::Form(Box::new(form))),
            merge_on("hubspot:1:10", 30),
        ];
        let merged = vec![
            event(
                "hubspot:1:20",
                "a1",
                5,
                EventBody::Assignment(Assignment {
                    owner: "alice".into(),
                    team: None,
                    manager: None,
                }),
            ),
            event(
                "hubspot:1:20",
                "f1",
                9,
                EventBody::Touch(Touch {
                    owner: Some("alice".into()),
                    channel: "call".into(),
                    outcome: Some("connected".into()),
                }),
            ),
            merge_on("hubspot:1:20", 30),
        ];
        (survivor, merged)
    }

    #[test]
    fn the_survivor_folds_every_merged_event_and_the_merged_lead_points_to_it() {
        let (survivor, merged) = story();
        let (into, gone) = (id("hubspot:1:10"), id("hubspot:1:20"));
        assert_eq!(merged_into(&into, &survivor), vec![gone.clone()]);
        assert_eq!(absorbed_by(&gone, &merged), Some(into.clone()));
        assert_eq!(absorbed_by(&into, &survivor), None);
        let all = union(&into, survivor, vec![(gone.clone(), merged.clone())]);
        let lead = Lead::fold(into.clone(), &all, &policy());
        assert_eq!(lead.merged_into, None);
        let c = lead.current_cycle().unwrap();
        assert_eq!(c.first_assigned_at(), Some(at(5)));
        // The merged lead's "f1" is its own event, not a repeat of the survivor's "f1".
        assert_eq!(c.first_touch_at, Some(at(9)));
        let absorbed = Lead::fold(gone, &merged, &policy());
        assert_eq!(absorbed.merged_into, Some(into));
        assert!(absorbed.cycles.is_empty());
    }

    proptest! {
        /// Whatever order the survivor's and the merged lead's events arrive in, and whatever
        /// is repeated, the survivor folds the same.
        #[test]
        fn the_union_does_not_depend_on_arrival_order(seed in any::<u64>(), repeat in 0usize..4) {
            let (mut survivor, mut merged) = story();
            let (into, gone) = (id("hubspot:1:10"), id("hubspot:1:20"));
            let expected = Lead::fold(into.clone(), &union(&into, survivor.clone(), vec![(gone.clone(), merged.clone())]), &policy());
            let mut rng = seed;
            let mut shuffle = |v: &mut Vec<Event>| {
                for i in (1..v.len()).rev() {
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    v.swap(i, (rng >> 33) as usize % (i + 1));
                }
            };
            shuffle(&mut survivor);
            shuffle(&mut merged);
            if repeat < merged.len() {
                merged.push(merged[repeat].clone());
            }
            let got = Lead::fold(into.clone(), &union(&into, survivor, vec![(gone, merged)]), &policy());
            prop_assert_eq!(got.cycles, expected.cycles);
        }
    }
}
