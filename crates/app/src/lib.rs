//! The handlers every host shares, the ports they drive, and the one HTTP front-end.
//!
//! [`inbound`] turns requests into domain events, [`App`]'s handlers apply the rules through
//! the [`ports`], and [`http`] is the router both hosts serve.

pub mod auth;
pub mod baseline_format;
pub mod error;
pub mod fingerprint;
pub mod fold_state;
pub mod handlers;
pub mod http;
pub mod identity;
pub mod inbound;
pub mod memory;
pub mod message;
pub mod outbox;
pub mod policy_file;
pub mod ports;
pub mod query;
pub mod raw_hooks;
pub mod report_format;
pub mod telemetry;
pub mod view;
pub mod web;
pub mod whatif_format;
pub mod writeback;

use leadclock_domain::policy::Versions;
use leadclock_domain::Policy;
use std::sync::Arc;

/// The handlers, wired to one set of adapters.
pub struct App<S, T, N, C> {
    /// The current policy: classifies new events, sets delivery, names the reporting zone.
    pub policy: Arc<Policy>,
    /// Every version with the instant it took effect: each MQL cycle is judged by the version
    /// in force at its engagement. Just `policy` unless the host keeps versions.
    pub versions: Arc<Versions>,
    /// What a fold snapshot these versions made is tagged with.
    fold_tag: fold_state::FoldTag,
    pub store: S,
    pub timers: T,
    pub notifier: N,
    pub clock: C,
    /// Writes SLA figures back to the CRMs; `None` (the default) writes nothing.
    pub crm: Option<Arc<leadclock_crm::writeback::client::Client>>,
}

impl<S, T, N, C> App<S, T, N, C> {
    pub fn new(policy: Arc<Policy>, store: S, timers: T, notifier: N, clock: C) -> Self {
        let versions = Versions::only(policy.clone());
        Self {
            fold_tag: fold_state::FoldTag::of(&versions),
            versions: Arc::new(versions),
            policy,
            store,
            timers,
            notifier,
            clock,
            crm: None,
        }
    }

    /// The same handlers writing figures back with `client` (when any CRM is configured).
    pub fn with_write_back(mut self, settings: leadclock_crm::writeback::client::Settings) -> Self {
        self.crm = settings
            .is_on()
            .then(|| Arc::new(leadclock_crm::writeback::client::Client::new(settings)));
        self
    }

    /// The tag of the fold these handlers make: what their snapshots and report facts are kept under.
    pub fn fold_tag(&self) -> fold_state::FoldTag {
        self.fold_tag
    }

    /// What `snapshot` (of the first `events` stored events of `lead`, made by these handlers'
    /// fold) adds to each reporting day, settled at `at`; `None` when it is not theirs.
    pub(crate) fn facts_of(
        &self,
        snapshot: &fold_state::EncodedSnapshot,
        lead: &leadclock_domain::LeadId,
        events: u64,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<leadclock_domain::metrics::Facts> {
        let tz = self.policy.reporting_timezone;
        fold_state::facts_of(snapshot, self.fold_tag, lead, events, &self.versions, tz, at)
    }

    /// The facts a store holds for `lead` (`kept`), worked out again from the saved
    /// `snapshot` (of `events` stored events) they were made of: what a pass or a report takes
    /// out. A store holds facts only beside the snapshot they came from, so one that does not
    /// decode is corruption.
    pub(crate) fn kept_facts(
        &self,
        snapshot: Option<&fold_state::EncodedSnapshot>,
        lead: &leadclock_domain::LeadId,
        events: u64,
        kept: ports::KeptFacts,
    ) -> Result<leadclock_domain::metrics::Facts, error::PortError> {
        let facts = snapshot.and_then(|snap| self.facts_of(snap, lead, events, kept.at));
        facts.ok_or_else(|| {
            error::PortError::new(
                "recompute kept report facts",
                format!("{lead}: the saved snapshot does not decode"),
            )
        })
    }

    /// The same handlers judging by `versions`; the newest becomes the current policy.
    pub fn with_versions(mut self, versions: Versions) -> Self {
        self.policy = versions.current().policy.clone();
        self.fold_tag = fold_state::FoldTag::of(&versions);
        self.versions = Arc::new(versions);
        self
    }
}

impl<S, T, N, C: ports::Clock> App<S, T, N, C> {
    /// The version in force now: it classifies new events and sets delivery. Not always the
    /// newest: a deployment may bundle a version that takes effect later.
    pub fn policy_now(&self) -> Arc<Policy> {
        self.versions.in_force_at(self.clock.now()).policy.clone()
    }
}

impl<S, T, N, C> App<S, T, N, C> {
    /// Who is on which team, for deciding what a scoped reader sees: the newest version's
    /// directory, the one reports group teams by, so a lead a page lists is a lead its
    /// report counts.
    pub fn directory(&self) -> &leadclock_domain::policy::Directory {
        &self.versions.current().policy.directory
    }
}
