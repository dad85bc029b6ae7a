//! The outside world, one trait per concern. Local and AWS adapters implement these;
//! handlers take them as generics, so both hosts run the same code.

use crate::error::PortError;
use crate::fold_state::{EncodedOpenClocks, EncodedSnapshot, FoldTag};
use crate::identity::{HeldTouch, Identity, IdentityKey, ToolPerson};
use crate::outbox::{Channel, OutboxMessage, SendFailure};
use crate::raw_hooks::{RawHook, RawHookCursor};
use crate::writeback::WriteBack;
use chrono::{DateTime, NaiveDate, Utc};
use leadclock_domain::metrics::{Dimension, Facts};
use leadclock_domain::steps::{StepKey, StepRecord, StepStatus, Timer};
use leadclock_domain::{Event, EventId, LeadId};
use std::future::Future;

/// Result of storing an event: first time, or an id seen before (with what was stored, so
/// the caller can tell a repeat from a conflicting reuse of the id).
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    New,
    Duplicate(Box<Event>),
    /// Not stored: the lead holds [`EventStore`]'s cap of events already (a repeat of a
    /// stored event is still `Duplicate`, and a correction or void is always stored).
    Full {
        limit: u64,
    },
}

/// Most events one lead may hold. A real lead's handoff is tens of events; a lead past this is
/// an integration in a loop, and every event of it costs a read of its whole timeline.
/// Corrections (`supersedes`) and voids are exempt, so a full lead can still be put right.
pub const MAX_EVENTS_PER_LEAD: u64 = 5_000;

/// Whether the per-lead cap applies to `event`: not to one that corrects or voids another.
pub fn counts_toward_cap(event: &Event) -> bool {
    !(event.supersedes.is_some() || matches!(event.body, leadclock_domain::EventBody::Void(_)))
}

/// What the store keeps about a lead beside its events, for timers, sweeps and reports.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadSummary {
    pub lead_id: LeadId,
    /// Events folded into this summary; a summary older than the events is stale.
    pub events: u64,
    /// Soonest pending escalation step, if any clock runs.
    pub next_due: Option<DateTime<Utc>>,
    /// Engagement of the first cycle.
    pub first_engaged_at: Option<DateTime<Utc>>,
    /// Latest `occurred_at` of any event.
    pub last_activity: DateTime<Utc>,
    /// A clock of the current cycle is running (the lead is on the open-SLA list).
    pub open: bool,
    /// The timers this summary's pass armed: a step armed for its due instant is delivered
    /// at that instant, without a settle window.
    pub armed: Vec<Timer>,
    /// The fold this pass reached, to continue from with the next event and for reports to
    /// read (see [`crate::fold_state`]); `None` (corrections, merges, a snapshot too big, a
    /// lead not summarised since snapshots were kept) re-folds.
    pub snapshot: Option<EncodedSnapshot>,
    /// The clocks running on the current cycle at this pass (`None` when none runs, or for a
    /// summary saved before they were kept): what a report reads of a lead open but quiet in
    /// its period (see [`LeadIndex::open_clocks`]).
    pub open_clocks: Option<EncodedOpenClocks>,
    /// What this pass changes in the store's report facts ([`FactsChange`]); `None` leaves a
    /// store's facts as they are (a store that keeps none ignores it).
    pub facts: Option<FactsChange>,
}

/// Which facts of a lead a store holds in its per-day report aggregate: those its saved
/// snapshot adds under `tag` (see [`crate::fold_state::facts_of`]), worked out at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptFacts {
    pub tag: FoldTag,
    pub at: DateTime<Utc>,
}

/// What a pass changes in a store's per-day report facts: the lead's facts it holds now
/// (`old`) come out and the new ones (`new`) go in, in the summary's own write, so the days
/// always add up the leads whose summaries say their facts are kept.
///
/// Applied only when the row still holds `old` under `tag` (none, if `old` is `None`): a pass
/// that raced another leaves the row as the other saved it (the lead stays marked when the
/// other folded fewer events, so the sweep comes back).
#[derive(Debug, Clone, PartialEq)]
pub struct FactsChange {
    pub tag: FoldTag,
    pub old: Option<(KeptFacts, Facts)>,
    /// `None` when the lead keeps no facts: a clock runs, no snapshot was kept, or it merges.
    pub new: Option<(KeptFacts, Facts)>,
}

impl FactsChange {
    /// Whether the row's kept facts are what this change takes out.
    pub fn applies_to(&self, row: Option<KeptFacts>) -> bool {
        row.filter(|k| k.tag == self.tag) == self.old.as_ref().map(|(k, _)| *k)
    }

    /// The difference to add to the days under `tag`.
    pub fn difference(&self) -> Facts {
        match (&self.old, &self.new) {
            (None, None) => Facts::default(),
            (None, Some((_, new))) => new.clone(),
            (Some((_, old)), None) => Facts::diff(old, &Facts::default()),
            (Some((_, old)), Some((_, new))) => Facts::diff(old, new),
        }
    }
}

/// A lead's saved summary with the count of events the store holds now, read together: the
/// snapshot is continued only when the two say no other event arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub summary: LeadSummary,
    pub stored: u64,
    /// The lead's facts the store holds in its report aggregate, if any (a store that keeps
    /// none: always `None`).
    pub facts: Option<KeptFacts>,
}

/// A lead a report must read in full although the store holds its facts: an event arrived
/// since they were worked out. The report takes them out (from its snapshot) and reads the lead.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleFacts {
    pub kept: KeptFacts,
    pub snapshot: EncodedSnapshot,
    /// The stored events the snapshot folded.
    pub events: u64,
}

/// The durable log of events, keyed by event id.
pub trait EventStore: Send + Sync {
    /// Stores `event` unless its id is already stored, or the lead is at the store's cap
    /// ([`MAX_EVENTS_PER_LEAD`] unless the adapter was built with another; see [`Appended`]).
    /// Durable once this returns `Ok`. Marks the lead for reconciliation until a newer summary
    /// is saved.
    fn append(&self, event: &Event) -> impl Future<Output = Result<Appended, PortError>> + Send;

    /// Every stored event of a lead, in any order.
    fn load(&self, lead: &LeadId) -> impl Future<Output = Result<Vec<Event>, PortError>> + Send;

    /// Stores several events, each unless its id is stored, with [`EventStore::append`]'s
    /// promise for each; a store that can writes them in one transaction. One result per
    /// event, in order.
    fn append_batch(&self, events: &[Event]) -> impl Future<Output = Result<Vec<Appended>, PortError>> + Send {
        async move {
            let mut out = Vec::with_capacity(events.len());
            for e in events {
                out.push(self.append(e).await?);
            }
            Ok(out)
        }
    }
}

/// Per-lead summaries: what needs a timer, and which leads a period touches.
pub trait LeadIndex: Send + Sync {
    /// Saves a summary unless a newer one (more events) is already saved.
    fn save_summary(&self, summary: &LeadSummary) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The saved summary of a lead, if any, with its stored-event count.
    fn saved(&self, lead: &LeadId) -> impl Future<Output = Result<Option<Saved>, PortError>> + Send;

    /// [`LeadIndex::saved`] of each of `leads`, in order; a store that can reads them in a few
    /// requests.
    fn saved_many(&self, leads: &[LeadId]) -> impl Future<Output = Result<Vec<Option<Saved>>, PortError>> + Send {
        async move {
            let mut out = Vec::with_capacity(leads.len());
            for lead in leads {
                out.push(self.saved(lead).await?);
            }
            Ok(out)
        }
    }

    /// The saved summary of a lead, if any.
    fn summary(&self, lead: &LeadId) -> impl Future<Output = Result<Option<LeadSummary>, PortError>> + Send {
        async move { Ok(self.saved(lead).await?.map(|s| s.summary)) }
    }

    /// Leads with an escalation due by `before`, or with events not yet reconciled.
    fn needing_attention(&self, before: DateTime<Utc>) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;

    /// Leads with activity in `[from, to)` or engaged before `to` and active after `from`.
    fn active_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;

    /// Leads with a running clock now.
    fn open_leads(&self) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;

    /// [`LeadIndex::open_leads`], each with the open clocks its saved summary holds when that
    /// summary folded every event stored (`None` otherwise: the report reads the lead). A
    /// store that can answers from its open index alone; the default reads no clocks.
    fn open_clocks(&self) -> impl Future<Output = Result<Vec<(LeadId, Option<EncodedOpenClocks>)>, PortError>> + Send {
        async move { Ok(self.open_leads().await?.into_iter().map(|id| (id, None)).collect()) }
    }

    /// Whether this store keeps report facts (see [`LeadIndex::report_facts`]): passes work
    /// out a lead's facts only for a store that keeps them.
    fn keeps_report_facts(&self) -> bool {
        false
    }

    /// The sum of the kept facts under `tag` of the reporting days `[first, end)`, as one
    /// day's: every count on `first` ([`Facts::add_on`]; a report needs the period's sum, and
    /// a sum by day would hold each figure once a day). The figures outside any group and
    /// those of `dims`' groups, no other group's. A store that keeps no facts
    /// ([`LeadIndex::keeps_report_facts`]) has none: its reports read every lead.
    fn report_facts(
        &self,
        tag: FoldTag,
        first: NaiveDate,
        end: NaiveDate,
        dims: &[Dimension],
    ) -> impl Future<Output = Result<Facts, PortError>> + Send {
        let _ = (tag, first, end, dims);
        async { Ok(Facts::default()) }
    }

    /// [`LeadIndex::active_between`] less the leads whose current facts under `tag` the store
    /// holds: what a report beside [`LeadIndex::report_facts`] reads in full. A lead whose facts
    /// are held but an event arrived since comes with them, to be taken out.
    fn active_without_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tag: FoldTag,
    ) -> impl Future<Output = Result<Vec<(LeadId, Option<StaleFacts>)>, PortError>> + Send {
        let _ = tag;
        async move {
            Ok(self
                .active_between(from, to)
                .await?
                .into_iter()
                .map(|id| (id, None))
                .collect())
        }
    }

    /// Up to `limit` reconciled leads whose last pass was not under `tag` (stored before
    /// facts were kept, or under another policy or release): the backfill passes them again.
    /// Another tag's days are forgotten on the way. A store that keeps no facts: none.
    fn lacking_facts(&self, tag: FoldTag, limit: usize) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send {
        let _ = (tag, limit);
        async { Ok(Vec::new()) }
    }
}

/// Totals for operators and load tests (`GET /v1/stats`).
pub trait EventCount: Send + Sync {
    fn count_events(&self) -> impl Future<Output = Result<u64, PortError>> + Send;
}

/// What was done about each escalation step, and the messages a claim put in the outbox.
pub trait StepLog: Send + Sync {
    /// The lead's step records.
    fn steps(&self, lead: &LeadId) -> impl Future<Output = Result<Vec<StepRecord>, PortError>> + Send;

    /// Writes `records` and `outbox` in one transaction. A record is written only where the
    /// step has no decided record yet (so racing passes agree on one outcome), and the outbox
    /// messages of a step whose record was not written are dropped with it. Returns the steps
    /// written.
    fn record(
        &self,
        lead: &LeadId,
        records: &[StepRecord],
        outbox: &[OutboxMessage],
    ) -> impl Future<Output = Result<Vec<StepKey>, PortError>> + Send;
}

/// The outbox's reading and bookkeeping side, for the dispatcher and the lead view.
pub trait Outbox: Send + Sync {
    /// Pending messages whose next attempt is due by `now`, oldest first, at most `limit`.
    fn due_messages(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, PortError>> + Send;

    /// Every message of one lead.
    fn lead_messages(&self, lead: &LeadId) -> impl Future<Output = Result<Vec<OutboxMessage>, PortError>> + Send;

    /// Takes a due message for one attempt: moves its next attempt to `until`, on condition that
    /// it is still pending with the next attempt `m` was read with. `false` when another pass
    /// (a concurrent sweep, a second process) took it first: only the winner sends, and if it
    /// dies mid-send the message is due again at `until`.
    fn lease_message(
        &self,
        m: &OutboxMessage,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Saves a message after an attempt (its status, attempts, next attempt, last error). When a
    /// durable channel accepted it, the step's `delivering` record becomes `delivered` in the
    /// same transaction.
    fn update_message(&self, message: &OutboxMessage) -> impl Future<Output = Result<(), PortError>> + Send;

    /// How many messages are dead-lettered.
    fn dead_letters(&self) -> impl Future<Output = Result<u64, PortError>> + Send;
}

/// Each lead's pending CRM write-back ([`crate::writeback`]): one per lead, replaced as its
/// figures change.
pub trait WriteBacks: Send + Sync {
    /// The lead's write-back, if it ever had one.
    fn write_back(&self, lead: &LeadId) -> impl Future<Output = Result<Option<WriteBack>, PortError>> + Send;

    /// Saves `w` if the stored revision is still `read` (`None`: none stored yet); `false` when
    /// another pass saved first. Every change (a new want, a lease, an attempt's outcome) goes
    /// through here, so two passes never both send one revision or overwrite a newer want.
    fn save_write_back(&self, w: &WriteBack, read: Option<u64>)
        -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Pending write-backs due by `now`, soonest first, at most `limit`.
    fn due_write_backs(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<WriteBack>, PortError>> + Send;
}

/// The CRM and sales-tool webhooks as received ([`crate::raw_hooks`]), keyed by
/// (`received_at`, `id`): a resend is kept again, and replays of both agree.
pub trait RawHooks: Send + Sync {
    /// Stores `hook`, or replaces the one stored under its key (a replay's new `derived`).
    fn keep_raw_hook(&self, hook: &RawHook) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Hooks received in `[from, to)`, after `after`, in (`received_at`, `id`) order, at most `limit`.
    fn raw_hooks_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&RawHookCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RawHook>, PortError>> + Send;

    /// Deletes every hook whose events named one of `leads` or whose body holds one of
    /// `emails` (lower case); how many.
    fn forget_raw_hooks(
        &self,
        leads: &[LeadId],
        emails: &[String],
    ) -> impl Future<Output = Result<u64, PortError>> + Send;

    /// Deletes every hook received before `cutoff`; how many.
    fn forget_raw_hooks_before(&self, cutoff: DateTime<Utc>) -> impl Future<Output = Result<u64, PortError>> + Send;
}

/// Every store port: what a host's store adapter implements.
pub trait Store:
    EventStore + LeadIndex + StepLog + Outbox + Rollups + PersonalData + Identities + WriteBacks + RawHooks
{
}

impl<T: EventStore + LeadIndex + StepLog + Outbox + Rollups + PersonalData + Identities + WriteBacks + RawHooks> Store
    for T
{
}

/// Personal data: whose leads an email names, events rewritten without it, and how far the
/// retention pass has come.
pub trait PersonalData: Send + Sync {
    /// Leads with a stored form whose contact email is `email`, compared case-insensitively.
    fn leads_with_email(&self, email: &str) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;

    /// Replaces the stored copy of each event (same lead, same id) with the one given, in one
    /// transaction where the store has them. Never adds an event: an id not stored is left
    /// out, so counts and summaries stay what they were.
    fn rewrite(&self, events: &[Event]) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The instant up to which every lead's last activity has been checked for retention.
    fn retention_through(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>, PortError>> + Send;

    /// Records the retention pass's progress.
    fn save_retention_through(&self, at: DateTime<Utc>) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Who the sales tools' people are, and the touches waiting to learn it. Outreach and Salesloft
/// name their own prospect or person, not a CRM lead: a touch is joined to its lead by the
/// person's CRM id or email, learned from the tools' person events or from the lead's forms.
pub trait Identities: Send + Sync {
    /// Leads with a stored form whose contact email is `email` (case-insensitive), from an
    /// index kept as events are stored: cheap enough to ask for every touch.
    fn leads_by_contact(&self, email: &str) -> impl Future<Output = Result<Vec<LeadId>, PortError>> + Send;

    /// Adds what a tool taught about one of its people (emails and CRM ids are added to what
    /// was known, never replaced: a person keeps every address they were seen with).
    fn learn(&self, person: &ToolPerson, identity: &Identity) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Everything learned about a person (empty when nothing was).
    fn identity(&self, person: &ToolPerson) -> impl Future<Output = Result<Identity, PortError>> + Send;

    /// The people a key (an email, a CRM id) identifies.
    fn people_with(&self, key: &IdentityKey) -> impl Future<Output = Result<Vec<ToolPerson>, PortError>> + Send;

    /// Keeps a touch until its person's lead is known. Durable once this returns; holding the
    /// same touch (person and event id) again changes nothing.
    fn hold(&self, touch: &HeldTouch) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The touches held for a person.
    fn held(&self, person: &ToolPerson) -> impl Future<Output = Result<Vec<HeldTouch>, PortError>> + Send;

    /// Drops held touches once their events are stored.
    fn release(&self, person: &ToolPerson, events: &[EventId]) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Erasure: the people `email` identified lose it, and the contact index forgets it.
    fn forget_email(&self, email: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Where nightly rollups are kept.
pub trait Rollups: Send + Sync {
    /// Stores one day's report (JSON), replacing an earlier run for that day.
    fn save_rollup(&self, day: &str, report: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// One-off timers. A timer is named by lead, cycle and clock ([`Timer::key`]); scheduling
/// replaces the pending timer of that name.
pub trait Timers: Send + Sync {
    fn schedule(&self, timer: &Timer) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Best effort: a timer left behind finds nothing due when it fires.
    fn cancel(&self, timer: &Timer) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The channels escalations go out on (a JSON-lines file, Slack, webhooks, SNS…).
pub trait Notifier: Send + Sync {
    /// The channels a step with this status is sent to, durable first. A host that keeps a
    /// record of every outcome (the local JSON-lines file) lists it for every status.
    fn channels_for(&self, status: StepStatus) -> Vec<Channel>;

    /// Sends one message; `Ok` once the channel accepted it.
    fn send(&self, message: &OutboxMessage) -> impl Future<Output = Result<(), SendFailure>> + Send;

    /// New messages are waiting: a host with a background dispatcher wakes it.
    fn wake(&self) {}

    /// Announces a nightly rollup: a readable summary and the full report as JSON.
    fn publish_rollup(
        &self,
        day: &str,
        summary: &str,
        report: &serde_json::Value,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The time, injected so tests never wait for real SLAs.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told: for tests and replays.
#[derive(Debug, Clone)]
pub struct ManualClock(std::sync::Arc<std::sync::Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = t;
    }
    pub fn advance(&self, d: chrono::Duration) {
        let mut g = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
