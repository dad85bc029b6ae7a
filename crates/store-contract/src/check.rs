//! What a case works with: its store, names unique to the run, and checks that say which
//! promise was broken.

use crate::Adapter;
use leadclock_app::error::PortError;
use leadclock_domain::LeadId;
use std::fmt::Debug;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a case ends with.
pub type Outcome = Result<(), Failure>;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A port call failed.
    #[error("{0}")]
    Port(#[from] PortError),
    /// A promise of the contract was not kept.
    #[error("{0}")]
    Broken(String),
    /// The suite built an id or instant it cannot use: a bug in the suite, not the adapter.
    #[error("bad fixture: {0}")]
    Fixture(String),
}

/// Unique to one run of the suite, so runs sharing a table never see each other's leads.
pub(crate) struct Run {
    tag: String,
    number: u64,
}

impl Run {
    pub(crate) fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Self {
            tag: format!("ct{nanos:x}p{}", std::process::id()),
            number: nanos as u64,
        }
    }
}

/// The store of one case, and the names of what it creates.
pub struct Ctx<A: Adapter> {
    pub store: A::Store,
    /// `{run}.{case}`: every lead id of the case starts with it.
    prefix: String,
    run_number: u64,
}

impl<A: Adapter> Ctx<A> {
    pub(crate) fn new(store: A::Store, run: &Run, case: &str) -> Self {
        Self {
            store,
            prefix: format!("{}.{case}", run.tag),
            run_number: run.number,
        }
    }

    /// The case's lead number `n`.
    pub fn lead(&self, n: u32) -> Result<LeadId, Failure> {
        let id = format!("{}.{n}", self.prefix);
        LeadId::parse(&id).map_err(|e| Failure::Fixture(format!("lead id {id:?}: {e}")))
    }

    /// A rollup day (`yyyy-mm-dd`) of this run, far in the future so no real rollup uses it;
    /// `n` picks one of the run's days.
    pub fn day(&self, n: u32) -> Result<String, Failure> {
        let first = chrono::NaiveDate::from_ymd_opt(2900, 1, 1).ok_or_else(|| Failure::Fixture("year 2900".into()))?;
        let offset = self.run_number % 50_000 + u64::from(n);
        first
            .checked_add_days(chrono::Days::new(offset))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .ok_or_else(|| Failure::Fixture(format!("day {offset} after {first}")))
    }

    /// A fold tag of this run and case alone, so report facts of runs sharing a table never mix.
    pub fn fold_tag(&self) -> Result<leadclock_app::fold_state::FoldTag, Failure> {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.prefix.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        leadclock_app::fold_state::FoldTag::parse(&format!("{h:016x}"))
            .ok_or_else(|| Failure::Fixture(format!("fold tag {h:016x}")))
    }

    /// The report the adapter keeps for `day`.
    pub async fn rollup(&self, day: &str) -> Result<Option<String>, Failure> {
        Ok(A::rollup(&self.store, day).await?)
    }
}

/// Fails with `promise` unless it was `kept`.
pub fn ensure(kept: bool, promise: impl FnOnce() -> String) -> Outcome {
    if kept {
        Ok(())
    } else {
        Err(Failure::Broken(promise()))
    }
}

/// Fails unless `got == want`, showing both.
pub fn ensure_eq<T: PartialEq + Debug>(what: &str, got: T, want: T) -> Outcome {
    ensure(got == want, || format!("{what}: got {got:?}, want {want:?}"))
}

/// Fails unless `query` (its result: `ids`) listed `lead`, for the reason `because`.
pub fn ensure_lists(query: &str, ids: &[LeadId], lead: &LeadId, because: &str) -> Outcome {
    ensure(ids.contains(lead), || format!("{query} must list {lead}: {because}"))
}

/// Fails if `query` (its result: `ids`) listed `lead`, which it must not for the reason `because`.
pub fn ensure_omits(query: &str, ids: &[LeadId], lead: &LeadId, because: &str) -> Outcome {
    ensure(!ids.contains(lead), || {
        format!("{query} must not list {lead}: {because}")
    })
}
