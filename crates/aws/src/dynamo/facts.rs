//! Report facts on DynamoDB: per fold tag and reporting day, the sum of what each settled lead
//! adds to that day's report ([`leadclock_app::ports::FactsChange`]), so a report reads a
//! bounded number of items a day rather than every lead of its span.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | a pass's change | `FACTSLOG#{tag}#{day}` | `{lead}#{events}#{old at}#{new at}` | `facts` (the day's difference, JSON), `aux_pk` = `FACTSLOG#{tag}`, `aux_sk` = `{day}#{logged ms}` |
//! | a day's sum | `FACTS#{tag}#{day}` | `HEAD`, `PART#{i}` | head: `gen`, `parts`; part: `gen`, `facts` (JSON, at most [`PART_BYTES`]) |
//! | a tag's state | `FACTS#{tag}` | `STATE` | `first_seen` (ms), `version`, `cursor_pk`/`cursor_sk`, `found`, `complete_at` (ms) |
//!
//! and on the summary: `facts_tag`, `facts_at` (ms: the facts held, worked out from the
//! snapshot item at that instant), and `aux_pk` = `NOFACTS#{tag}`, `aux_sk` = its last activity
//! (13-digit ms) when its last pass kept no facts.
//!
//! Why a log: a pass writes its change as one small item per day, in the transaction that
//! updates its summary and snapshot, so the days always add up the leads whose summaries say
//! their facts are held. Adding it into a day's sum item in place would make every pass rewrite
//! that item (DynamoDB bills a write by the whole item) and conflict with every other pass of
//! the day. The sweep adds a day's log into its sum ([`DynamoStore::compact_facts`]) once it
//! holds [`COMPACT_AT_LOGS`] changes or its oldest is [`COMPACT_AFTER`] old, in one transaction
//! that rewrites the sum's parts under the next `gen` and deletes the changes it added: a crash
//! or a race adds a change exactly once. A read takes a day's parts, then its log, then checks
//! the head's `gen` did not move meanwhile.
//!
//! Upgrading a deployed stack, and every release (the tag holds the crate version):
//! - for [`FACTS_QUIET`] after a tag's first use, passes keep no facts under it and leave the
//!   facts attributes alone: the previous release may still be finishing passes, and a pass of
//!   a release that keeps no facts (or another tag's) would leave the days holding facts its
//!   snapshot no longer makes;
//! - then the sweep's backfill ([`DynamoStore::lacking`]) Scans for summaries not passed under
//!   the tag, a time budget a sweep, until one whole Scan finds none: the tag is complete;
//! - until then reports read every lead of their span, as before facts were kept.

use super::{lead_pk, n, number, s, DynamoStore, Item, Transacted, SNAPSHOT_SK};
use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::{stream, StreamExt, TryStreamExt};
use leadclock_app::error::PortError;
use leadclock_app::fold_state::FoldTag;
use leadclock_app::ports::{FactsChange, KeptFacts, LeadSummary, StaleFacts};
use leadclock_domain::metrics::Facts;
use leadclock_domain::LeadId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The sparse index of changes not yet added into their days (`FACTSLOG#…`) and of the leads
/// whose last pass kept no facts (`NOFACTS#…`).
pub const INDEX_FACTS: &str = "facts";

/// How long after a tag's first use passes start keeping facts under it: longer than a deploy
/// and the longest function timeout (the rollup's 300 s), so no pass of the release before is
/// still running.
pub const FACTS_QUIET: Duration = Duration::minutes(15);

/// The most a day's sum part holds: parts stay well under DynamoDB's 400 KB item limit.
pub const PART_BYTES: usize = 48 * 1024;

/// Changes in a day's log past which the sweep adds it into the day's sum.
pub const COMPACT_AT_LOGS: usize = 64;

/// Age of a day's oldest change past which the sweep adds its log in anyway.
pub const COMPACT_AFTER: Duration = Duration::minutes(10);

/// Days the sweep adds in a call (the others wait for the next sweep).
const COMPACT_DAYS_PER_CALL: usize = 16;

/// Items in one DynamoDB transaction, and the bytes a compaction writes in one (of its 4 MB).
const TRANSACTION_ITEMS: usize = 100;
const TRANSACTION_BYTES: usize = 3 * 1024 * 1024;

/// The most a change's day item holds; a lead whose facts exceed it keeps none.
const LOG_BYTES: usize = 300 * 1024;

/// How long the backfill Scans a sweep.
const SCAN_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Day reads a report keeps in flight.
const DAY_READS_IN_FLIGHT: usize = 8;

/// How often a process reads a tag's state again while the tag is not complete.
const STATE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a tag's facts stand ([`DynamoStore::facts_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagState {
    pub first_seen: DateTime<Utc>,
    pub complete: bool,
}

/// What a store knows of the tags' states, shared by its clones.
#[derive(Clone)]
pub(super) struct FactsGate {
    quiet: Duration,
    /// A table no release before facts wrote to (the store contract's): facts are kept and read
    /// from the first pass.
    from_start: bool,
    cache: Arc<Mutex<HashMap<String, (TagState, std::time::Instant)>>>,
}

impl Default for FactsGate {
    fn default() -> Self {
        Self {
            quiet: FACTS_QUIET,
            from_start: false,
            cache: Arc::default(),
        }
    }
}

fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn state_pk(tag: FoldTag) -> String {
    format!("FACTS#{}", tag.text())
}

/// The partition of `day`'s sum under `tag` (its head and parts).
pub fn sum_pk(tag: FoldTag, day: NaiveDate) -> String {
    format!("FACTS#{}#{}", tag.text(), day_key(day))
}

fn log_pk(tag: FoldTag, day: NaiveDate) -> String {
    format!("FACTSLOG#{}#{}", tag.text(), day_key(day))
}

/// The `aux_pk` of the leads whose last pass under `tag` kept no facts.
fn without_pk(tag: FoldTag) -> String {
    format!("NOFACTS#{}", tag.text())
}

/// An instant as a sort key that sorts as instants do.
fn ms_key(t: DateTime<Utc>) -> String {
    format!("{:013}", t.timestamp_millis().max(0))
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

fn text<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn build_err(op: &'static str) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> PortError {
    move |e| PortError::permanent(op, e)
}

/// The facts a summary item says it holds.
pub(super) fn kept_of(item: &Item) -> Option<KeptFacts> {
    Some(KeptFacts {
        tag: FoldTag::parse(text(item, "facts_tag")?)?,
        at: DateTime::from_timestamp_millis(number(item, "facts_at")?)?,
    })
}

/// A summary update's expression parts, to which a change's facts add theirs.
pub(super) struct SummaryWrite {
    pub set: Vec<String>,
    pub remove: Vec<String>,
    pub condition: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl SummaryWrite {
    pub fn expression(&self) -> String {
        let mut expr = format!("SET {}", self.set.join(", "));
        if !self.remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", self.remove.join(", ")));
        }
        expr
    }

    /// The row's facts after `change`, on the condition that it holds what `change` takes out
    /// ([`FactsChange::applies_to`]).
    fn with_facts(mut self, change: &FactsChange, last_activity: DateTime<Utc>) -> Self {
        self.set.push("facts_tag = :ft".into());
        self.values.insert(":ft".into(), s(change.tag.text()));
        match &change.new {
            Some((k, _)) => {
                self.set.push("facts_at = :fat".into());
                self.values.insert(":fat".into(), n(k.at.timestamp_millis()));
                self.remove.push("aux_pk, aux_sk".into());
            }
            None => {
                self.remove.push("facts_at".into());
                self.set.push("aux_pk = :nofacts, aux_sk = :lastkey".into());
                self.values.insert(":nofacts".into(), s(without_pk(change.tag)));
                self.values.insert(":lastkey".into(), s(ms_key(last_activity)));
            }
        }
        let holds = match &change.old {
            None => {
                "(attribute_not_exists(facts_at) OR attribute_not_exists(facts_tag) OR facts_tag <> :ft)".to_owned()
            }
            Some((k, _)) => {
                self.values.insert(":fold".into(), n(k.at.timestamp_millis()));
                "(facts_tag = :ft AND facts_at = :fold)".to_owned()
            }
        };
        self.condition = format!("({}) AND {holds}", self.condition);
        self
    }
}

/// A change's difference, one log item a day; `None` when it does not fit a transaction.
fn log_puts(table: &str, summary: &LeadSummary, change: &FactsChange) -> Result<Option<Vec<Put>>, PortError> {
    let op = "log report facts";
    let difference = change.difference();
    let days: Vec<NaiveDate> = difference.days().collect();
    // The summary and the snapshot are the transaction's other two items.
    if days.len() + 2 > TRANSACTION_ITEMS {
        return Ok(None);
    }
    let at = |k: Option<&(KeptFacts, Facts)>| k.map_or(0, |(k, _)| k.at.timestamp_millis());
    let sk = format!(
        "{}#{}#{}#{}",
        summary.lead_id,
        summary.events,
        at(change.old.as_ref()),
        at(change.new.as_ref())
    );
    let logged = ms_key(Utc::now());
    let mut puts = Vec::with_capacity(days.len());
    for day in days {
        let json = encode_facts(op, &difference.between(day, day + Duration::days(1)))?;
        if json.len() > LOG_BYTES {
            return Ok(None);
        }
        let put = Put::builder()
            .table_name(table)
            .item("PK", s(log_pk(change.tag, day)))
            .item("SK", s(&sk))
            .item("facts", s(json))
            .item("aux_pk", s(format!("FACTSLOG#{}", change.tag.text())))
            .item("aux_sk", s(format!("{}#{logged}", day_key(day))))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err(op))?;
        puts.push(put);
    }
    Ok(Some(puts))
}

/// A day's sum as read: its `gen` and parts' count, and the facts its parts add up to.
struct DaySum {
    gen: i64,
    parts: usize,
    facts: Facts,
}

/// Facts as stored here: `{day: {head: {tail: count}}}`, each path split at its last comma,
/// so the figures of one histogram share their path's text once (a day's sum is about a
/// seventh of the size of the flat form).
type Stored = BTreeMap<NaiveDate, BTreeMap<String, BTreeMap<String, i64>>>;

fn encode_facts(op: &'static str, facts: &Facts) -> Result<String, PortError> {
    let mut stored: Stored = BTreeMap::new();
    for (day, path, n) in facts.entries() {
        let (head, tail) = path.rsplit_once(',').unwrap_or((path, ""));
        let tails = stored.entry(day).or_default().entry(head.to_owned()).or_default();
        tails.insert(tail.to_owned(), n);
    }
    serde_json::to_string(&stored).map_err(|e| PortError::permanent(op, e))
}

fn decode_facts(op: &'static str, text: &str) -> Result<Facts, PortError> {
    let stored: Stored = serde_json::from_str(text).map_err(|e| PortError::permanent(op, e))?;
    let mut entries = Vec::new();
    for (day, heads) in stored {
        for (head, tails) in heads {
            for (tail, n) in tails {
                let path = match tail.is_empty() {
                    true => head.clone(),
                    false => format!("{head},{tail}"),
                };
                entries.push((day, path, n));
            }
        }
    }
    Ok(Facts::from_entries(entries))
}

/// Facts from a stored attribute.
fn facts_attr(op: &'static str, item: &Item) -> Result<Facts, PortError> {
    let text = text(item, "facts").ok_or_else(|| PortError::new(op, "item without `facts`"))?;
    decode_facts(op, text)
}

/// `facts` in parts of at most [`PART_BYTES`] each, as JSON.
fn parts_of(op: &'static str, facts: &Facts) -> Result<Vec<String>, PortError> {
    // A string's length as a JSON key: quoted, its quotes and backslashes escaped.
    let key_len = |s: &str| s.len() + 2 + s.matches(['"', '\\']).count();
    let mut parts = Vec::new();
    let mut chunk: Vec<(NaiveDate, String, i64)> = Vec::new();
    let (mut bytes, mut at) = (0, (None, ""));
    let mut flush = |chunk: &mut Vec<(NaiveDate, String, i64)>| -> Result<(), PortError> {
        if !chunk.is_empty() {
            parts.push(encode_facts(op, &Facts::from_entries(std::mem::take(chunk)))?);
        }
        Ok(())
    };
    for (day, path, count) in facts.entries() {
        // `"tail":count,`; its head once a run of them (entries come sorted by day and path),
        // `"head":{…},`; its day once a run, `"yyyy-mm-dd":{…},`.
        let (h, tail) = path.rsplit_once(',').unwrap_or((path, ""));
        let opens = match at {
            (Some(d), ah) if d == day && ah == h => 0,
            (Some(d), _) if d == day => key_len(h) + 3,
            _ => 16 + key_len(h) + 3,
        };
        let size = key_len(tail) + 2 + count.abs().to_string().len() + opens;
        if bytes + size > PART_BYTES - 64 {
            flush(&mut chunk)?;
            bytes = 16 + key_len(h) + 3;
        }
        at = (Some(day), h);
        bytes += size;
        chunk.push((day, path.to_owned(), count));
    }
    flush(&mut chunk)?;
    Ok(parts)
}

impl DynamoStore {
    /// Whether passes keep facts under `tag` now: past its quiet period.
    pub(super) async fn keeping_facts(&self, tag: FoldTag) -> Result<bool, PortError> {
        if self.facts.from_start {
            return Ok(true);
        }
        let state = self.facts_state(tag).await?;
        Ok(state.first_seen + self.facts.quiet <= Utc::now())
    }

    /// Whether reports read `tag`'s facts: every summary has been passed under it since its
    /// quiet period ended.
    pub(super) async fn reading_facts(&self, tag: FoldTag) -> Result<bool, PortError> {
        if self.facts.from_start {
            return Ok(true);
        }
        // Read only (the read-api may not write): a tag no pass used yet is not complete. The
        // answer is kept a minute, so the reads of one report agree.
        let cached = self.facts.cache.lock().ok().and_then(|c| c.get(&tag.text()).copied());
        if let Some((state, read)) = cached {
            if state.complete || read.elapsed() < STATE_TTL {
                return Ok(state.complete);
            }
        }
        // Not used yet: its quiet period starts when a pass first uses it.
        let Some(state) = self.read_state(tag).await?.map(|i| state_of(&i)) else {
            return Ok(false);
        };
        if let Ok(mut c) = self.facts.cache.lock() {
            c.insert(tag.text(), (state, std::time::Instant::now()));
        }
        Ok(state.complete)
    }

    /// `tag`'s state, made on its first use; kept in memory once complete, read again a
    /// minute later otherwise.
    pub async fn facts_state(&self, tag: FoldTag) -> Result<TagState, PortError> {
        let cached = self.facts.cache.lock().ok().and_then(|c| c.get(&tag.text()).copied());
        if let Some((state, read)) = cached {
            if state.complete || read.elapsed() < STATE_TTL {
                return Ok(state);
            }
        }
        let state = match self.read_state(tag).await? {
            Some(item) => state_of(&item),
            None => self.first_use(tag).await?,
        };
        if let Ok(mut c) = self.facts.cache.lock() {
            c.insert(tag.text(), (state, std::time::Instant::now()));
        }
        Ok(state)
    }

    async fn read_state(&self, tag: FoldTag) -> Result<Option<Item>, PortError> {
        let op = "read report facts state";
        let resp = with_retries(op, || {
            self.client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key(state_pk(tag), "STATE")))
                .consistent_read(true)
                .send()
        })
        .await
        .map_err(|e| port_err(op, e))?;
        Ok(resp.item().cloned())
    }

    /// Records `tag`'s first use now, unless another process did first (then its record).
    async fn first_use(&self, tag: FoldTag) -> Result<TagState, PortError> {
        let op = "start report facts";
        let now = Utc::now();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(state_pk(tag)))
            .item("SK", s("STATE"))
            .item("first_seen", n(now.timestamp_millis()))
            .item("version", n(0))
            .item("found", n(0))
            .condition_expression("attribute_not_exists(PK)");
        match put.send().await {
            Ok(_) => {
                tracing::info!(tag = %tag.text(), "report facts: first use of this release and policy");
                Ok(TagState {
                    first_seen: now,
                    complete: false,
                })
            }
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception,
                ) =>
            {
                let item = self.read_state(tag).await?;
                item.map(|i| state_of(&i))
                    .ok_or_else(|| PortError::transient(op, "state item not readable yet"))
            }
            Err(e) => Err(port_err(op, e)),
        }
    }

    /// Saves `summary` with its facts `change` in one transaction: the summary (on the
    /// condition that it folded every stored event and holds what `change` takes out), its
    /// snapshot, and the change's log items. A change that does not fit a transaction is
    /// saved as one that keeps no facts. A summary a newer pass or another pass's facts beat
    /// changes nothing.
    pub(super) async fn save_with_facts(
        &self,
        summary: &LeadSummary,
        write: SummaryWrite,
        change: &FactsChange,
    ) -> Result<(), PortError> {
        let op = "save summary";
        let (change, logs) = match log_puts(&self.table, summary, change)? {
            Some(logs) => (change.clone(), logs),
            None => {
                tracing::warn!(lead_id = %summary.lead_id, "report facts too big for a transaction; the lead keeps none");
                let none = FactsChange {
                    new: None,
                    ..change.clone()
                };
                let logs = log_puts(&self.table, summary, &none)?
                    .ok_or_else(|| PortError::new(op, "facts held are too big to take out"))?;
                (none, logs)
            }
        };
        let write = write.with_facts(&change, summary.last_activity);
        let update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(lead_pk(&summary.lead_id)))
            .key("SK", s("SUMMARY"))
            .update_expression(write.expression())
            .condition_expression(&write.condition)
            .set_expression_attribute_names(Some(write.names.clone()))
            .set_expression_attribute_values(Some(write.values.clone()))
            .build()
            .map_err(build_err(op))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        // Unconditional: the summary's condition says no pass folded more events than this one.
        items.push(match &summary.snapshot {
            Some(x) => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .item("PK", s(lead_pk(&summary.lead_id)))
                    .item("SK", s(SNAPSHOT_SK))
                    .item("events", n(summary.events as i64))
                    .item("snapshot", s(x.as_str()))
                    .build()
                    .map_err(build_err(op))?;
                TransactWriteItem::builder().put(put).build()
            }
            None => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(lead_pk(&summary.lead_id), SNAPSHOT_SK)))
                    .build()
                    .map_err(build_err(op))?;
                TransactWriteItem::builder().delete(delete).build()
            }
        });
        items.extend(logs.into_iter().map(|p| TransactWriteItem::builder().put(p).build()));
        match self.transact(op, items).await? {
            Transacted::Written => Ok(()),
            // A newer summary, or another pass's facts: that pass's save stands.
            Transacted::Cancelled { failed, .. } if failed.iter().any(|f| *f) => Ok(()),
            Transacted::Cancelled { error, .. } => Err(error),
        }
    }

    /// The sum of `tag`'s facts of the days `[first, end)`, as one day's (on `first`), every
    /// group (the report keeps the ones it shows).
    pub(super) async fn facts_of_days(
        &self,
        tag: FoldTag,
        first: NaiveDate,
        end: NaiveDate,
    ) -> Result<Facts, PortError> {
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d < end).collect();
        // Summed onto `first` as they come: the room of the period's figures, not its days'.
        stream::iter(days)
            .map(|day| self.read_day(tag, day))
            .buffered(DAY_READS_IN_FLIGHT)
            .try_fold(Facts::default(), |mut sum, f| async move {
                sum.add_on(first, &f);
                Ok(sum)
            })
            .await
    }

    /// A day's sum and its log, read as of one `gen` of the sum.
    async fn read_day(&self, tag: FoldTag, day: NaiveDate) -> Result<Facts, PortError> {
        let op = "read report facts";
        for _ in 0..crate::retry::MAX_ATTEMPTS {
            let Some(mut sum) = self.day_sum(tag, day).await? else {
                continue;
            };
            for (_, change) in self.day_log(tag, day).await? {
                sum.facts.add(&change);
            }
            if self.head_gen(tag, day).await? == sum.gen {
                return Ok(sum.facts);
            }
        }
        Err(PortError::transient(
            op,
            format!("the sum of {day} did not read whole (a compaction each time?)"),
        ))
    }

    /// Every item of the partition `pk`, read strongly consistent (`partition` in
    /// [`super::identities`] reads those of a sort-key prefix; these have none in common).
    async fn whole_partition(&self, op: &'static str, pk: String) -> Result<Vec<Item>, PortError> {
        self.query_all(op, || {
            self.client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(&pk))
        })
        .await
    }

    /// A day's sum, or `None` when its parts were read across a compaction.
    async fn day_sum(&self, tag: FoldTag, day: NaiveDate) -> Result<Option<DaySum>, PortError> {
        let op = "read report facts";
        let items = self.whole_partition(op, sum_pk(tag, day)).await?;
        let head = items.iter().find(|i| text(i, "SK") == Some("HEAD"));
        let gen = head.and_then(|h| number(h, "gen")).unwrap_or(0);
        let parts = head.and_then(|h| number(h, "parts")).unwrap_or(0) as usize;
        let mut facts = Facts::default();
        let mut read = 0;
        for part in items
            .iter()
            .filter(|i| text(i, "SK").is_some_and(|k| k.starts_with("PART#")))
        {
            if number(part, "gen") != Some(gen) {
                continue;
            }
            facts.add(&facts_attr(op, part)?);
            read += 1;
        }
        Ok((read == parts).then_some(DaySum { gen, parts, facts }))
    }

    /// A day's changes not yet added into its sum, each with its key.
    async fn day_log(&self, tag: FoldTag, day: NaiveDate) -> Result<Vec<(Item, Facts)>, PortError> {
        let op = "read report facts log";
        let items = self.whole_partition(op, log_pk(tag, day)).await?;
        items
            .iter()
            .map(|i| {
                let k = ["PK", "SK"].map(|a| (a.to_owned(), i.get(a).cloned().unwrap_or_else(|| s(""))));
                Ok((HashMap::from(k), facts_attr(op, i)?))
            })
            .collect()
    }

    async fn head_gen(&self, tag: FoldTag, day: NaiveDate) -> Result<i64, PortError> {
        let op = "read report facts";
        let resp = with_retries(op, || {
            self.client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key(sum_pk(tag, day), "HEAD")))
                .consistent_read(true)
                .send()
        })
        .await
        .map_err(|e| port_err(op, e))?;
        Ok(resp.item().and_then(|h| number(h, "gen")).unwrap_or(0))
    }

    /// Adds into their days' sums the logs of up to [`COMPACT_DAYS_PER_CALL`] days due for it
    /// ([`COMPACT_AT_LOGS`], [`COMPACT_AFTER`]). Returns the days added in. A day another
    /// process added meanwhile is left for the next call.
    pub async fn compact_facts(&self, tag: FoldTag) -> Result<usize, PortError> {
        let op = "find report facts to add in";
        let items = self
            .query_all(op, || {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(INDEX_FACTS)
                    .key_condition_expression("aux_pk = :p")
                    .expression_attribute_values(":p", s(format!("FACTSLOG#{}", tag.text())))
            })
            .await?;
        // Per day: its changes, and the oldest one's instant.
        let mut days: BTreeMap<NaiveDate, (usize, i64)> = BTreeMap::new();
        for i in &items {
            let Some((day, at)) = text(i, "aux_sk").and_then(|k| k.split_once('#')) else {
                continue;
            };
            let (Ok(day), Ok(at)) = (NaiveDate::parse_from_str(day, "%Y-%m-%d"), at.parse::<i64>()) else {
                continue;
            };
            let e = days.entry(day).or_insert((0, i64::MAX));
            *e = (e.0 + 1, e.1.min(at));
        }
        let old = (Utc::now() - COMPACT_AFTER).timestamp_millis();
        let due: Vec<NaiveDate> = days
            .into_iter()
            .filter(|(_, (count, oldest))| *count >= COMPACT_AT_LOGS || *oldest <= old)
            .map(|(d, _)| d)
            .take(COMPACT_DAYS_PER_CALL)
            .collect();
        let mut added = 0;
        for day in due {
            match self.compact_day(tag, day).await {
                Ok(true) => added += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(%day, error = %e, "report facts: could not add a day's log in"),
            }
        }
        Ok(added)
    }

    /// Adds `day`'s log into its sum: the parts rewritten under the next `gen`, the changes
    /// added deleted, in one transaction. `false` when there was nothing to add, or another
    /// process moved the sum first.
    pub async fn compact_day(&self, tag: FoldTag, day: NaiveDate) -> Result<bool, PortError> {
        let op = "add report facts in";
        let Some(sum) = self.day_sum(tag, day).await? else {
            return Ok(false);
        };
        let log = self.day_log(tag, day).await?;
        if log.is_empty() {
            return Ok(false);
        }
        let mut take = log.len().min(TRANSACTION_ITEMS - 1);
        let parts = loop {
            let mut facts = sum.facts.clone();
            for (_, change) in &log[..take] {
                facts.add(change);
            }
            let parts = parts_of(op, &facts)?;
            let bytes: usize = parts.iter().map(String::len).sum();
            let items = 1 + parts.len().max(sum.parts) + take;
            if items <= TRANSACTION_ITEMS && bytes <= TRANSACTION_BYTES {
                break parts;
            }
            if take <= 1 {
                return Err(PortError::new(
                    op,
                    format!("the sum of {day} no longer fits a transaction"),
                ));
            }
            take /= 2;
        };
        let gen = sum.gen + 1;
        let pk = sum_pk(tag, day);
        let mut items = Vec::with_capacity(TRANSACTION_ITEMS);
        let head = Put::builder()
            .table_name(&self.table)
            .item("PK", s(&pk))
            .item("SK", s("HEAD"))
            .item("gen", n(gen))
            .item("parts", n(parts.len() as i64))
            .condition_expression("attribute_not_exists(PK) OR gen = :g")
            .expression_attribute_values(":g", n(sum.gen))
            .build()
            .map_err(build_err(op))?;
        items.push(TransactWriteItem::builder().put(head).build());
        for (i, part) in parts.iter().enumerate() {
            let put = Put::builder()
                .table_name(&self.table)
                .item("PK", s(&pk))
                .item("SK", s(format!("PART#{i:04}")))
                .item("gen", n(gen))
                .item("facts", s(part))
                .build()
                .map_err(build_err(op))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        for i in parts.len()..sum.parts {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), &format!("PART#{i:04}"))))
                .build()
                .map_err(build_err(op))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        for (k, _) in &log[..take] {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(k.clone()))
                .condition_expression("attribute_exists(PK)")
                .build()
                .map_err(build_err(op))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        // Cancelled: another process moved the sum (or added a change in) first.
        Ok(matches!(self.transact(op, items).await?, Transacted::Written))
    }

    /// The leads active in `[from, to)` a report reads in full beside `tag`'s facts (see
    /// [`leadclock_app::ports::LeadIndex::active_without_facts`]): those whose last pass kept
    /// no facts (the `NOFACTS` index, from `from` on), and those with events not passed yet
    /// (the `due` index), with the facts they hold.
    pub(super) async fn without_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tag: FoldTag,
    ) -> Result<Vec<(LeadId, Option<StaleFacts>)>, PortError> {
        let op = "find leads without facts";
        let flagged = self
            .query_all(op, || {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(INDEX_FACTS)
                    .key_condition_expression("aux_pk = :p AND aux_sk >= :from")
                    .expression_attribute_values(":p", s(without_pk(tag)))
                    .expression_attribute_values(":from", s(ms_key(from)))
            })
            .await?;
        let to_ms = to.timestamp_millis();
        let mut out: BTreeMap<LeadId, Option<StaleFacts>> = BTreeMap::new();
        for i in &flagged {
            let last = text(i, "aux_sk").and_then(|k| k.parse::<i64>().ok());
            let engaged = number(i, "first_engaged_at").or(last);
            if engaged.is_some_and(|e| e >= to_ms) {
                continue;
            }
            if let Some(id) = text(i, "lead_id").and_then(|id| LeadId::parse(id).ok()) {
                out.insert(id, None);
            }
        }
        let values = HashMap::from([(":d".to_owned(), s("DUE")), (":z".to_owned(), n(0))]);
        let unpassed = self
            .query_ids(op, super::INDEX_DUE, "due_pk = :d AND next_due <= :z", values)
            .await?;
        let saved = leadclock_app::ports::LeadIndex::saved_many(self, &unpassed).await?;
        for (id, saved) in unpassed.into_iter().zip(saved) {
            let stale = saved.as_ref().and_then(|s| {
                let kept = s.facts.filter(|k| k.tag == tag)?;
                Some(StaleFacts {
                    kept,
                    snapshot: s.summary.snapshot.clone()?,
                    events: s.summary.events,
                })
            });
            let in_span = saved.as_ref().is_none_or(|s| {
                let sm = &s.summary;
                sm.last_activity >= from && sm.first_engaged_at.unwrap_or(sm.last_activity) < to
            });
            if in_span || stale.is_some() {
                out.insert(id, stale);
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Up to `limit` summaries not passed under `tag` since its quiet period, the Scan going on
    /// from where the last call left it, for [`SCAN_BUDGET`]. A whole Scan that finds none
    /// completes the tag: its reports read facts from then on.
    pub(super) async fn lacking(&self, tag: FoldTag, limit: usize) -> Result<Vec<LeadId>, PortError> {
        let op = "find leads lacking facts";
        if self.facts.from_start || !self.keeping_facts(tag).await? || self.reading_facts(tag).await? {
            return Ok(Vec::new());
        }
        let state = self
            .read_state(tag)
            .await?
            .ok_or_else(|| PortError::transient(op, "state item not readable yet"))?;
        let version = number(&state, "version").unwrap_or(0);
        let found_before = number(&state, "found").unwrap_or(0);
        let mut cursor = match (text(&state, "cursor_pk"), text(&state, "cursor_sk")) {
            (Some(pk), Some(sk)) => Some(key(pk.to_owned(), sk)),
            _ => None,
        };
        let started = std::time::Instant::now();
        let mut ids = Vec::new();
        loop {
            let page = with_retries(op, || {
                self.client
                    .scan()
                    .table_name(&self.table)
                    .filter_expression(
                        "SK = :summary AND attribute_exists(events_folded) AND (attribute_not_exists(facts_tag) OR facts_tag <> :t)",
                    )
                    .projection_expression("lead_id")
                    .expression_attribute_values(":summary", s("SUMMARY"))
                    .expression_attribute_values(":t", s(tag.text()))
                    .set_exclusive_start_key(cursor.clone())
                    .send()
            })
            .await
            .map_err(|e| port_err(op, e))?;
            ids.extend(
                page.items()
                    .iter()
                    .filter_map(|i| text(i, "lead_id"))
                    .filter_map(|id| LeadId::parse(id).ok()),
            );
            cursor = page.last_evaluated_key().filter(|k| !k.is_empty()).cloned();
            if cursor.is_none() || ids.len() >= limit || started.elapsed() >= SCAN_BUDGET {
                break;
            }
        }
        self.scanned(tag, version, cursor.as_ref(), found_before + ids.len() as i64)
            .await?;
        Ok(ids)
    }

    /// Records where the backfill's Scan got to, unless another process moved it meanwhile:
    /// at the end of a Scan that found nothing the tag is complete; at the end of one that
    /// found leads, the next starts again from the top.
    async fn scanned(&self, tag: FoldTag, version: i64, cursor: Option<&Item>, found: i64) -> Result<(), PortError> {
        let op = "record report facts backfill";
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(state_pk(tag), "STATE")))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":next", n(version + 1));
        req = match cursor {
            Some(c) => req
                .update_expression("SET version = :next, cursor_pk = :cpk, cursor_sk = :csk, found = :found")
                .expression_attribute_values(":cpk", c.get("PK").cloned().unwrap_or_else(|| s("")))
                .expression_attribute_values(":csk", c.get("SK").cloned().unwrap_or_else(|| s("")))
                .expression_attribute_values(":found", n(found)),
            None if found == 0 => {
                tracing::info!(tag = %tag.text(), "report facts complete: reports read them from now on");
                req.update_expression("SET version = :next, complete_at = :now REMOVE cursor_pk, cursor_sk")
                    .expression_attribute_values(":now", n(Utc::now().timestamp_millis()))
            }
            None => req
                .update_expression("SET version = :next, found = :zero REMOVE cursor_pk, cursor_sk")
                .expression_attribute_values(":zero", n(0)),
        };
        match req.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception,
                ) => {}
            Err(e) => return Err(port_err(op, e)),
        }
        // This process reads the state again at once (its cache may hold it from before).
        if let Ok(mut c) = self.facts.cache.lock() {
            c.remove(&tag.text());
        }
        Ok(())
    }
}

fn state_of(item: &Item) -> TagState {
    TagState {
        first_seen: number(item, "first_seen")
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_default(),
        complete: item.contains_key("complete_at"),
    }
}

impl DynamoStore {
    /// The same store on a table no release before report facts wrote to: passes keep facts
    /// and reports read them from the first pass, without a quiet period or a backfill (the
    /// store contract's shared table).
    pub fn with_report_facts_from_start(mut self) -> Self {
        self.facts.from_start = true;
        self
    }

    /// The same store with another quiet period before a tag's facts are kept (a test stack's).
    pub fn with_facts_quiet(mut self, quiet: Duration) -> Self {
        self.facts.quiet = quiet;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn parts_hold_every_count_and_stay_under_their_size() {
        let entries = (0..20_000).map(|i| (day(1 + i % 3), format!(r#"["delays","{i:06}"]"#), i64::from(i % 7 + 1)));
        let facts = Facts::from_entries(entries.collect::<Vec<_>>());
        let parts = parts_of("test", &facts).unwrap();
        assert!(parts.len() > 5, "{} parts", parts.len());
        let mut sum = Facts::default();
        for p in &parts {
            assert!(p.len() <= PART_BYTES, "part of {} bytes", p.len());
            sum.add(&decode_facts("test", p).unwrap());
        }
        assert_eq!(sum, facts);
        assert!(parts_of("test", &Facts::default()).unwrap().is_empty());
    }

    #[test]
    fn stored_facts_read_back_as_the_same_facts() {
        let facts = Facts::from_entries(vec![
            (day(1), r#"["overall","mqls"]"#.to_owned(), 3),
            (day(1), r#"["overall","speed","business","42"]"#.to_owned(), 2),
            (day(1), r#"["overall","speed","business","43"]"#.to_owned(), -1),
            (
                day(2),
                r#"["groups","owner","a,b","speed","calendar","7"]"#.to_owned(),
                1,
            ),
            (day(2), r#"["lonely"]"#.to_owned(), 5),
        ]);
        let text = encode_facts("test", &facts).unwrap();
        assert_eq!(decode_facts("test", &text).unwrap(), facts);
        assert!(
            text.matches("speed").count() == 2,
            "a histogram's head is stored once: {text}"
        );
    }

    #[test]
    fn instants_sort_as_keys_as_they_do_in_time() {
        let a = DateTime::from_timestamp_millis(999).unwrap();
        let b = DateTime::from_timestamp_millis(1_000_000_000_000).unwrap();
        assert!(ms_key(a) < ms_key(b));
        assert_eq!(ms_key(b).len(), 13);
    }
}
