//! A lead's fold snapshot as the stores keep it beside the summary, so one more event costs one
//! step of the fold, not a read and re-fold of the whole history.
//!
//! The snapshot is only ever a shortcut to the fold of the stored events; it is used only when
//! it is exactly that ([`leadclock_domain::snapshot`] says when appending equals re-folding)
//! and thrown away whenever it might not be:
//! - it is tagged with the policy versions and the fold's revision that made it: a snapshot
//!   another policy (or another release's fold) made is not continued;
//! - it carries the count of stored events it folded, and is used only when that is the count
//!   the summary says was folded and the store holds exactly those, plus at most the one event
//!   the caller has just stored (a summary saved by a release that kept no snapshot, beside an
//!   older snapshot, does not match it);
//! - a snapshot that does not decode is not an error, only a re-fold.
//!
//! It never holds personal data: the form properties (the only contact data a fold keeps, and
//! read by nothing after it) are left out, so an erasure needs no rewrite of it.
//!
//! Reports read it too ([`current`]): a lead whose snapshot is current costs one summary read,
//! not a read of its events and a fold.

use crate::ports::Saved;
use leadclock_domain::lead::TimelineEntry;
use leadclock_domain::metrics::{Facts, OpenClock};
use leadclock_domain::policy::Versions;
use leadclock_domain::snapshot::Snapshot;
use leadclock_domain::{Event, Lead, LeadId};
use serde::{Deserialize, Serialize};

/// Timeline entries a snapshot keeps: the default page of a lead view, so the answer to a
/// POST shows what a GET shows.
pub const SNAPSHOT_HEAD: usize = crate::view::DEFAULT_TIMELINE_PAGE;

/// A snapshot bigger than this is not kept (a DynamoDB item holds 400 KB, and every byte of
/// the summary is written on every event).
pub const MAX_SNAPSHOT_BYTES: usize = 64 * 1024;

/// Bumped whenever the fold's rules change, so snapshots an older fold made are re-folded
/// (every release's snapshots are re-folded once anyway: the tag holds the crate version).
const FOLD_REVISION: u32 = 1;

/// Which policy versions (and fold) a snapshot was made by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldTag(u64);

impl FoldTag {
    /// The tag of `versions`: FNV-1a over the release, the fold revision, the head kept and
    /// every version's number, start and policy. `Policy` holds no hash maps, so its `Debug`
    /// text is the same in every process of one release.
    pub fn of(versions: &Versions) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let text = format!(
            "{}|{FOLD_REVISION}|{SNAPSHOT_HEAD}|{:?}",
            env!("CARGO_PKG_VERSION"),
            versions.all()
        );
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        FoldTag(h)
    }

    /// The tag as a store keeps it.
    pub fn text(self) -> String {
        format!("{:016x}", self.0)
    }

    /// A tag a store kept ([`FoldTag::text`]).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 16).then(|| u64::from_str_radix(text, 16).ok().map(FoldTag))?
    }
}

/// A snapshot as stored: JSON, opaque to the stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedSnapshot(String);

/// The stored form: the timeline's head beside the lead rather than inside it, so a report
/// (which reads no timeline) skips it without building its entries.
#[derive(Serialize, Deserialize)]
struct Stored {
    tag: String,
    /// The lead's stored events this snapshot folded.
    events: u64,
    snapshot: Snapshot,
    head: Vec<TimelineEntry>,
}

/// What a report reads of the stored form: `head` is skipped.
#[derive(Deserialize)]
struct StoredLead {
    tag: String,
    events: u64,
    snapshot: Snapshot,
}

impl EncodedSnapshot {
    /// What a store read back.
    pub fn from_stored(text: String) -> Self {
        EncodedSnapshot(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored form of `snapshot`, the fold of the lead's first `events` stored events,
    /// without the form properties; `None` when it is too big to keep.
    pub fn encode(mut snapshot: Snapshot, tag: FoldTag, events: u64) -> Option<Self> {
        snapshot.lead.attributes.clear();
        let head = std::mem::take(&mut snapshot.lead.timeline);
        let text = serde_json::to_string(&Stored {
            tag: tag.text(),
            events,
            snapshot,
            head,
        })
        .ok()?;
        (text.len() <= MAX_SNAPSHOT_BYTES).then_some(EncodedSnapshot(text))
    }

    /// The snapshot, if `tag` made it of `lead`'s first `events` stored events and it decodes.
    pub fn decode(&self, tag: FoldTag, lead: &LeadId, events: u64) -> Option<Snapshot> {
        let mut stored: Stored = serde_json::from_str(&self.0).ok()?;
        stored.snapshot.lead.timeline = stored.head;
        let fits = stored.tag == tag.text() && stored.events == events && &stored.snapshot.lead.lead_id == lead;
        fits.then_some(stored.snapshot)
    }

    /// [`EncodedSnapshot::decode`]'s lead without its timeline.
    fn decode_lead(&self, tag: FoldTag, lead: &LeadId, events: u64) -> Option<Lead> {
        let stored: StoredLead = serde_json::from_str(&self.0).ok()?;
        let fits = stored.tag == tag.text() && stored.events == events && &stored.snapshot.lead.lead_id == lead;
        fits.then_some(stored.snapshot.lead)
    }
}

/// A lead's open clocks as stored beside its summary: JSON, opaque to the stores, tagged like
/// a snapshot so clocks another policy or release computed are not taken as current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedOpenClocks(String);

#[derive(Serialize, Deserialize)]
struct StoredOpen {
    tag: String,
    clocks: Vec<OpenClock>,
}

impl EncodedOpenClocks {
    /// What a store read back.
    pub fn from_stored(text: String) -> Self {
        EncodedOpenClocks(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored form of `clocks`, computed under the versions `tag` names; `None` when no
    /// clock runs (the lead is not open).
    pub fn encode(clocks: &[OpenClock], tag: FoldTag) -> Option<Self> {
        if clocks.is_empty() {
            return None;
        }
        let stored = StoredOpen {
            tag: tag.text(),
            clocks: clocks.to_vec(),
        };
        serde_json::to_string(&stored).ok().map(EncodedOpenClocks)
    }

    /// The clocks, if `tag` computed them and they decode.
    pub fn decode(&self, tag: FoldTag) -> Option<Vec<OpenClock>> {
        let stored: StoredOpen = serde_json::from_str(&self.0).ok()?;
        (stored.tag == tag.text()).then_some(stored.clocks)
    }
}

/// What `snapshot` (of the lead's first `events` stored events, made under `tag`) adds to each
/// reporting day, with the lead settled at `at`: the facts a store keeps for it (see
/// [`crate::ports::FactsChange`]). Worked out from the stored form, not the lead in hand, so the
/// facts a later pass takes out are the ones put in (the form properties and timeline a
/// snapshot leaves out are not read by any figure). `None` when it does not decode under `tag`.
pub fn facts_of(
    snapshot: &EncodedSnapshot,
    tag: FoldTag,
    lead: &LeadId,
    events: u64,
    versions: &Versions,
    tz: chrono_tz::Tz,
    at: chrono::DateTime<chrono::Utc>,
) -> Option<Facts> {
    let lead = snapshot.decode_lead(tag, lead, events)?;
    Some(Facts::of_lead(&lead, versions, tz, at))
}

/// The snapshot to keep after a full fold of `events` (the lead's own stored events).
pub fn after_refold(lead: &Lead, events: &[Event], tag: FoldTag) -> Option<EncodedSnapshot> {
    let count = events.len() as u64;
    EncodedSnapshot::encode(Snapshot::of(lead.clone(), events, SNAPSHOT_HEAD)?, tag, count)
}

/// The lead as its saved snapshot has it, when that is the fold of every stored event under
/// the versions `tag` names: the lead a report would fold, without its timeline.
pub fn current(saved: &Saved, tag: FoldTag) -> Option<Lead> {
    if saved.stored != saved.summary.events {
        return None;
    }
    let s = &saved.summary;
    s.snapshot.as_ref()?.decode_lead(tag, &s.lead_id, s.events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::LeadSummary;
    use chrono::{TimeZone, Utc};
    use leadclock_domain::event::{Assignment, Form};
    use leadclock_domain::{EventBody, EventId, LeadId, Policy};
    use std::sync::Arc;

    fn versions(src: &str) -> Versions {
        Versions::only(Arc::new(Policy::parse(src).unwrap()))
    }

    /// A lead of `n` assignments after a form whose properties hold a contact's detail.
    fn history(n: u32) -> (Lead, Vec<Event>, Versions) {
        let v = versions(include_str!("../../../policies/example.toml"));
        let lead = LeadId::parse("FS-1").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
        let form = EventBody::Form(Box::new(Form {
            lead_type: "demo_request".into(),
            attributes: [("phone".to_owned(), "+1 555 0100".to_owned())].into(),
            ..Form::default()
        }));
        let mut events = vec![Event::new(EventId::parse("f").unwrap(), lead.clone(), at, form)];
        for i in 0..n {
            let owner = EventBody::Assignment(Assignment {
                owner: format!("rep-{i}"),
                team: None,
                manager: None,
            });
            let id = EventId::parse(&format!("a{i}")).unwrap();
            events.push(Event::new(
                id,
                lead.clone(),
                at + chrono::Duration::minutes(i64::from(i) + 1),
                owner,
            ));
        }
        let (folded, _) = v.fold(lead, &events);
        (folded, events, v)
    }

    #[test]
    fn a_snapshot_reads_back_under_its_versions_only_without_personal_data() {
        let (lead, events, v) = history(3);
        let tag = FoldTag::of(&v);
        let encoded = after_refold(&lead, &events, tag).unwrap();
        assert!(!encoded.as_str().contains("555"), "form properties are never kept");
        let back = encoded.decode(tag, &lead.lead_id, 4).unwrap();
        assert!(
            encoded.decode(tag, &lead.lead_id, 5).is_none(),
            "the count it folded is not the summary's"
        );
        assert!(encoded.decode(tag, &LeadId::parse("FS-2").unwrap(), 4).is_none());
        let mut expected = lead.clone();
        expected.attributes.clear();
        assert_eq!(back.lead, expected);
        assert_eq!(back.timeline_total, 4);
        let other = FoldTag::of(&versions(
            &include_str!("../../../policies/example.toml").replace("recycle_limit = 2", "recycle_limit = 3"),
        ));
        assert_ne!(other, tag);
        assert!(encoded.decode(other, &lead.lead_id, 4).is_none());
        assert!(EncodedSnapshot::from_stored("{not json".into())
            .decode(tag, &lead.lead_id, 4)
            .is_none());
    }

    #[test]
    fn a_report_reads_a_current_snapshot_without_its_timeline() {
        let (lead, events, v) = history(3);
        let tag = FoldTag::of(&v);
        let summary = LeadSummary {
            lead_id: lead.lead_id.clone(),
            events: 4,
            next_due: None,
            first_engaged_at: None,
            last_activity: events[3].occurred_at,
            open: false,
            armed: Vec::new(),
            snapshot: after_refold(&lead, &events, tag),
            open_clocks: None,
            facts: None,
        };
        let saved = Saved {
            summary,
            stored: 4,
            facts: None,
        };
        let read = current(&saved, tag).unwrap();
        assert!(read.timeline.is_empty());
        assert_eq!(read.cycles, lead.cycles);
        let behind = Saved {
            stored: 5,
            ..saved.clone()
        };
        assert!(current(&behind, tag).is_none(), "an event the snapshot has not folded");
        // A summary an older release saved (5 folded) beside this release's snapshot of 4.
        let mut older = saved;
        older.summary.events = 5;
        older.stored = 5;
        assert!(
            current(&older, tag).is_none(),
            "a snapshot of fewer events than the summary folded"
        );
    }

    #[test]
    fn a_snapshot_too_big_to_keep_is_not_kept() {
        let (lead, events, v) = history(3_000);
        assert!(after_refold(&lead, &events, FoldTag::of(&v)).is_none());
    }
}
