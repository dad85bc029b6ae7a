//! A lead's fold snapshot as the stores keep it beside the summary, so one more event costs one
//! step of the fold, not a read and re-fold of the whole history.
//!
//! The snapshot is only ever a shortcut to the fold of the stored events; it is used only when
//! it is exactly that ([`leadclock_domain::snapshot`] says when appending equals re-folding)
//! and thrown away whenever it might not be:
//! - it is tagged with the policy versions and the fold's revision that made it: a snapshot
//!   another policy (or another release's fold) made is not continued;
//! - it is used only when the store holds exactly the events it folded, plus at most the one
//!   event the caller has just stored;
//! - a snapshot that does not decode is not an error, only a re-fold.
//!
//! It never holds personal data: the form properties (the only contact data a fold keeps, and
//! read by nothing after it) are left out, so an erasure needs no rewrite of it. Short
//! histories are re-folded (cheap) and keep no snapshot, so most leads' summaries stay small.

use leadclock_domain::policy::Versions;
use leadclock_domain::snapshot::Snapshot;
use leadclock_domain::{Event, Lead};
use serde::{Deserialize, Serialize};

/// Below this many stored events a lead is re-folded and keeps no snapshot.
pub const SNAPSHOT_FROM: usize = 32;

/// Timeline entries a snapshot keeps: the default page of a lead view, so the answer to a
/// POST shows what a GET shows.
pub const SNAPSHOT_HEAD: usize = crate::view::DEFAULT_TIMELINE_PAGE;

/// A snapshot bigger than this is not kept (a DynamoDB item holds 400 KB, and every byte of
/// the summary is written on every event).
pub const MAX_SNAPSHOT_BYTES: usize = 64 * 1024;

/// Bumped whenever the fold's rules change, so snapshots an older fold made are re-folded.
const FOLD_REVISION: u32 = 1;

/// Which policy versions (and fold) a snapshot was made by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldTag(u64);

impl FoldTag {
    /// The tag of `versions`: FNV-1a over the fold revision and every version's number,
    /// start and policy. `Policy` holds no hash maps, so its `Debug` text is the same in every
    /// process of one release.
    pub fn of(versions: &Versions) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let text = format!("{FOLD_REVISION}|{:?}", versions.all());
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        FoldTag(h)
    }
}

/// A snapshot as stored: JSON, opaque to the stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedSnapshot(String);

#[derive(Serialize, Deserialize)]
struct Stored {
    tag: String,
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

    /// The stored form of `snapshot`, without the form properties; `None` when it is too big
    /// to keep.
    pub fn encode(mut snapshot: Snapshot, tag: FoldTag) -> Option<Self> {
        snapshot.lead.attributes.clear();
        let text = serde_json::to_string(&Stored {
            tag: format!("{:016x}", tag.0),
            snapshot,
        })
        .ok()?;
        (text.len() <= MAX_SNAPSHOT_BYTES).then_some(EncodedSnapshot(text))
    }

    /// The snapshot, if `tag` made it and it decodes.
    pub fn decode(&self, tag: FoldTag) -> Option<Snapshot> {
        let stored: Stored = serde_json::from_str(&self.0).ok()?;
        (stored.tag == format!("{:016x}", tag.0)).then_some(stored.snapshot)
    }
}

/// The snapshot to keep after a full fold of `events` (the lead's own stored events).
pub fn after_refold(lead: &Lead, events: &[Event], tag: FoldTag) -> Option<EncodedSnapshot> {
    if events.len() < SNAPSHOT_FROM {
        return None;
    }
    EncodedSnapshot::encode(Snapshot::of(lead.clone(), events, SNAPSHOT_HEAD)?, tag)
}
