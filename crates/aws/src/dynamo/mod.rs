//! DynamoDB adapter: one on-demand table holds every lead's events, its summary, a per-day
//! index and the nightly rollups.
//!
//! Item layout (all keys are strings):
//!
//! | item | PK | SK | other attributes |
//! |---|---|---|---|
//! | event | `LEAD#{lead}` | `EVT#{event_id}` | `body` (event JSON), `occurred_at` (ms), `kind` |
//! | summary | `LEAD#{lead}` | `SUMMARY` | `lead_id`, `events_stored` (events written), `events_folded` (events the saved summary folded), `next_due` (ms), `due_pk`, `open_pk`, `open_clocks` (the clocks running at the last pass, JSON), `first_engaged_at`, `last_activity` |
//! | snapshot | `LEAD#{lead}` | `SNAPSHOT` | `snapshot` (the fold to continue from with the next event, and that reports read: JSON, at most 64 KB, no personal data, naming the count of events it folded), `events` (that count) |
//! | day index | `LEAD#{lead}` | `DAY#{yyyy-mm-dd}` | `lead_id`, `gsi_day` = `DAY#{yyyy-mm-dd}` (UTC date of an event) |
//! | rollup | `ROLLUP#{yyyy-mm-dd}` | `ROLLUP` | `report` (JSON) |
//! | contact, identity, held touch | `CONTACT#…`, `PERSON#…`, `IDKEY#…` | see [`identities`] | the sales tools' people |
//! | step record | `LEAD#{lead}` | `STEP#{cycle}#{clock}#{step}` | `status`, `body` (record JSON) |
//! | outbox message | `LEAD#{lead}` | `OUT#{message id}` | `status`, `body` (message JSON), `lead_id`, `outbox_pk` = `OUTBOX` while pending / `DEAD` once dead-lettered, `outbox_due` (ms) |
//! | report facts: a pass's change, a day's sum, a release's state | `FACTSLOG#…`, `FACTS#…` | see [`facts`] | the summary's `facts_tag`, `facts_at` and `aux_pk`/`aux_sk` |
//!
//! The summary also keeps `armed`: the timers its pass armed (JSON), so a step armed for its
//! due instant is delivered at once when it fires.
//!
//! A lead without a snapshot item (every lead a release before snapshots wrote) is re-folded
//! from its events, and its next pass writes one.
//!
//! Indexes (sparse):
//! - `by_day` (`gsi_day`, `lead_id`): the leads with an event on a date — reports and the rollup
//!   Query one day at a time, never Scan.
//! - `due` (`due_pk` = `DUE`, `next_due`): leads with an escalation step due by an instant, or
//!   with events not yet reconciled (`next_due` = 0) — the sweep.
//! - `open` (`open_pk` = `OPEN`, `lead_id`): leads with a running clock — the open-SLA list.
//! - `open_with_clocks` (the same keys, with `open_clocks`, `events_stored`, `events_folded`):
//!   the open leads with the clocks their last pass saw, so a report counts a lead quiet in
//!   its period from the index alone. Added in place by a stack update; while DynamoDB is
//!   still backfilling it, reports read the open leads in full as before.
//! - `outbox` (`outbox_pk`, `outbox_due`, with `body`): messages to send, oldest due first — the
//!   dispatcher; and the dead letters (`DEAD`), counted for health.
//! - `facts` (`aux_pk`, `aux_sk`, with `lead_id`, `first_engaged_at`): report facts' changes not
//!   yet added into their days, and the leads whose last pass kept no facts (see [`facts`]).
//!
//! Stacks written by releases before step outcomes hold escalation claims as `escalated`
//! events; the reconcile pass turns each into a `delivered` record the first time it visits the
//! lead, so a deployed stack upgrades in place.
//!
//! Access patterns: append = one transaction (conditional put of the event on its id, one more
//! `events_stored` and the "needs attention" mark on the summary, the day index, a form's contact
//! items); load = Query on
//! the lead's partition with strong consistency; save summary = UpdateItem conditional on having folded
//! every stored event (optimistic concurrency: a summary older than the events never clears the
//! mark); with report facts to keep, that update, the snapshot and the change's log items in one
//! transaction. Transaction conflicts and throttling are retried a bounded number of times with jitter.

mod facts;
mod identities;
mod outbox;
mod privacy;
mod raw_hooks;
mod steps;
mod write_backs;

use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::{stream, StreamExt, TryStreamExt};
use leadclock_app::error::PortError;
use leadclock_app::fold_state::{EncodedOpenClocks, EncodedSnapshot, FoldTag};
use leadclock_app::ports::{Appended, EventStore, LeadIndex, LeadSummary, Rollups, Saved, StaleFacts};
use leadclock_domain::metrics::{Dimension, Facts};
use leadclock_domain::{Event, LeadId};
use std::collections::HashMap;

/// Day Queries a report's lead lookup keeps in flight at once.
const DAY_QUERIES_IN_FLIGHT: usize = 8;

/// BatchGetItem requests (50 leads' summaries and snapshots each) a report keeps in flight.
const BATCH_GETS_IN_FLIGHT: usize = 4;

/// The sort key of a lead's fold snapshot item.
const SNAPSHOT_SK: &str = "SNAPSHOT";

pub const INDEX_BY_DAY: &str = "by_day";
pub const INDEX_DUE: &str = "due";
pub const INDEX_OPEN: &str = "open";
pub const INDEX_OPEN_WITH_CLOCKS: &str = "open_with_clocks";
pub const INDEX_OUTBOX: &str = "outbox";
pub use facts::{sum_pk as facts_sum_key, TagState, FACTS_QUIET, INDEX_FACTS};

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Most events a lead may hold ([`leadclock_app::ports::MAX_EVENTS_PER_LEAD`]).
    event_cap: u64,
    /// When report facts are kept and read ([`facts`]).
    facts: facts::FactsGate,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// One item's attributes.
type Item = HashMap<String, AttributeValue>;

fn lead_pk(lead: &LeadId) -> String {
    format!("LEAD#{lead}")
}

/// A stored JSON attribute back to its type.
fn decode<T: serde::de::DeserializeOwned>(op: &'static str, item: &Item, attr: &str) -> Result<T, PortError> {
    let body = item
        .get(attr)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| PortError::new(op, format!("item without `{attr}`")))?;
    serde_json::from_str(body).map_err(|e| PortError::permanent(op, e))
}

fn encode<T: serde::Serialize>(op: &'static str, v: &T) -> Result<String, PortError> {
    serde_json::to_string(v).map_err(|e| PortError::permanent(op, e))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            event_cap: leadclock_app::ports::MAX_EVENTS_PER_LEAD,
            facts: facts::FactsGate::default(),
        }
    }

    /// The same store with another per-lead cap (tests of the cap).
    pub fn with_event_cap(mut self, cap: u64) -> Self {
        self.event_cap = cap;
        self
    }

    /// Every item a query returns, page after page. `query` builds the request; the pager
    /// adds the start key of each next page.
    async fn query_all(
        &self,
        op: &'static str,
        query: impl Fn() -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, PortError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let resp = with_retries(op, || query().set_exclusive_start_key(start.clone()).send())
                .await
                .map_err(|e| port_err(op, e))?;
            out.extend(resp.items().iter().cloned());
            match resp.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    /// The lead ids an index query returns.
    async fn query_ids(
        &self,
        op: &'static str,
        index: &str,
        key_condition: &str,
        values: HashMap<String, AttributeValue>,
    ) -> Result<Vec<LeadId>, PortError> {
        let items = self
            .query_all(op, || {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(index)
                    .key_condition_expression(key_condition)
                    .set_expression_attribute_values(Some(values.clone()))
            })
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| i.get("lead_id").and_then(|v| v.as_s().ok()))
            .filter_map(|id| LeadId::parse(id).ok())
            .collect())
    }

    async fn open_index_with_clocks(&self) -> Result<Vec<Item>, PortError> {
        self.query_all("find open leads", || {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(INDEX_OPEN_WITH_CLOCKS)
                .key_condition_expression("open_pk = :o")
                .expression_attribute_values(":o", s("OPEN"))
        })
        .await
    }

    /// The items of one lead whose sort key starts with `prefix`, read strongly consistent.
    async fn lead_items(&self, op: &'static str, lead: &LeadId, prefix: &str) -> Result<Vec<Item>, PortError> {
        self.query_all(op, || {
            self.client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(lead_pk(lead)))
                .expression_attribute_values(":prefix", s(prefix))
        })
        .await
    }

    async fn stored_event(&self, event: &Event) -> Result<Event, PortError> {
        self.stored_event_if_any(event)
            .await?
            .ok_or_else(|| PortError::transient("read stored event", "the event is not readable yet"))
    }

    /// The stored event with `event`'s id, if there is one.
    async fn stored_event_if_any(&self, event: &Event) -> Result<Option<Event>, PortError> {
        let resp = with_retries("read stored event", || {
            self.client
                .get_item()
                .table_name(&self.table)
                .consistent_read(true)
                .key("PK", s(lead_pk(&event.lead_id)))
                .key("SK", s(format!("EVT#{}", event.event_id)))
                .send()
        })
        .await
        .map_err(|e| port_err("read stored event", e))?;
        resp.item().map(|item| decode("decode event", item, "body")).transpose()
    }

    pub async fn rollup(&self, day: &str) -> Result<Option<String>, PortError> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(format!("ROLLUP#{day}")))
            .key("SK", s("ROLLUP"))
            .send()
            .await
            .map_err(|e| port_err("read rollup", e))?;
        Ok(resp
            .item()
            .and_then(|i| i.get("report"))
            .and_then(|v| v.as_s().ok())
            .cloned())
    }
}

impl EventStore for DynamoStore {
    async fn append(&self, event: &Event) -> Result<Appended, PortError> {
        let body = serde_json::to_string(event).map_err(|e| PortError::new("encode event", e.to_string()))?;
        let pk = lead_pk(&event.lead_id);
        let day = event.occurred_at.format("%Y-%m-%d").to_string();
        let put = |x: Put| TransactWriteItem::builder().put(x).build();
        let event_item = Put::builder()
            .table_name(&self.table)
            .item("PK", s(&pk))
            .item("SK", s(format!("EVT#{}", event.event_id)))
            .item("body", s(body))
            .item("occurred_at", n(event.occurred_at.timestamp_millis()))
            .item("kind", s(event.body.kind()))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| PortError::new("append event", e.to_string()))?;
        let mut summary = Update::builder()
            .table_name(&self.table)
            .key("PK", s(&pk))
            .key("SK", s("SUMMARY"))
            .update_expression(
                "SET #stored = if_not_exists(#stored, :zero) + :one, lead_id = :lead, due_pk = :due, next_due = :zero",
            )
            .expression_attribute_names("#stored", "events_stored")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":lead", s(event.lead_id.as_str()))
            .expression_attribute_values(":due", s("DUE"));
        if leadclock_app::ports::counts_toward_cap(event) {
            // The cap, in the same transaction: no count read first, no race past it.
            summary = summary
                .condition_expression("attribute_not_exists(#stored) OR #stored < :cap")
                .expression_attribute_values(":cap", n(self.event_cap as i64));
        }
        let summary = summary
            .build()
            .map_err(|e| PortError::new("append event", e.to_string()))?;
        let day_item = Put::builder()
            .table_name(&self.table)
            .item("PK", s(&pk))
            .item("SK", s(format!("DAY#{day}")))
            .item("gsi_day", s(format!("DAY#{day}")))
            .item("lead_id", s(event.lead_id.as_str()))
            .build()
            .map_err(|e| PortError::new("append event", e.to_string()))?;
        let mut items = vec![
            put(event_item),
            TransactWriteItem::builder().update(summary).build(),
            put(day_item),
        ];
        items.extend(identities::contact_puts(&self.table, event)?);
        let (failed, error) = match self.transact("append event", items).await? {
            Transacted::Written => return Ok(Appended::New),
            Transacted::Cancelled { failed, error } => (failed, error),
        };
        // Item 0 is the event (its id is stored), item 1 the summary (the lead is full).
        if failed.first() == Some(&true) {
            Ok(Appended::Duplicate(Box::new(self.stored_event(event).await?)))
        } else if failed.get(1) == Some(&true) {
            // A repeat at the cap is still a repeat, however the reasons were reported.
            match self.stored_event_if_any(event).await? {
                Some(stored) => Ok(Appended::Duplicate(Box::new(stored))),
                None => Ok(Appended::Full { limit: self.event_cap }),
            }
        } else {
            Err(error)
        }
    }

    async fn load(&self, lead: &LeadId) -> Result<Vec<Event>, PortError> {
        let items = self.lead_items("load lead", lead, "EVT#").await?;
        items.iter().map(|i| decode("decode event", i, "body")).collect()
    }
}

/// What a transaction came to: written, or cancelled, with which of its items failed their
/// condition (in order) and the error itself for a caller that takes it as a failure.
enum Transacted {
    Written,
    Cancelled { failed: Vec<bool>, error: PortError },
}

impl Transacted {
    /// Written, or the cancellation as the store's failure.
    fn written(self) -> Result<(), PortError> {
        match self {
            Transacted::Written => Ok(()),
            Transacted::Cancelled { error, .. } => Err(error),
        }
    }
}

impl DynamoStore {
    /// Writes `items` in one transaction, conflicts and throttling retried; any failure but a
    /// cancellation (after the retries) is the store's.
    async fn transact(&self, op: &'static str, items: Vec<TransactWriteItem>) -> Result<Transacted, PortError> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        let result = with_retries(op, || {
            self.client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(Transacted::Written),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(tc)) => Ok(Transacted::Cancelled {
                    failed: failed_conditions(tc),
                    error: port_err(op, e),
                }),
                _ => Err(port_err(op, e)),
            },
        }
    }
}

/// Which items of a cancelled transaction failed their condition, in order. Without per-item
/// reasons (some emulators), the message lists them: `…[None, ConditionalCheckFailed, None]`.
fn failed_conditions(tc: &aws_sdk_dynamodb::types::error::TransactionCanceledException) -> Vec<bool> {
    let reasons = tc.cancellation_reasons();
    if !reasons.is_empty() {
        return reasons
            .iter()
            .map(|r| r.code() == Some("ConditionalCheckFailed"))
            .collect();
    }
    let listed = tc
        .message()
        .and_then(|m| m.split_once('['))
        .and_then(|(_, r)| r.split(']').next());
    listed
        .map(|l| l.split(',').map(|r| r.trim() == "ConditionalCheckFailed").collect())
        .unwrap_or_default()
}

impl DynamoStore {
    /// The summary and snapshot items of up to 50 leads (distinct), by key, read strongly
    /// consistent. Keys DynamoDB leaves unprocessed (throttling, the 16 MB response limit) are
    /// asked again, with backoff, a bounded number of times.
    async fn summaries(&self, leads: &[LeadId]) -> Result<HashMap<(String, String), Item>, PortError> {
        let op = "read summaries";
        let mut keys: Vec<Item> = leads
            .iter()
            .flat_map(|l| {
                ["SUMMARY", SNAPSHOT_SK]
                    .map(|sk| HashMap::from([("PK".to_owned(), s(lead_pk(l))), ("SK".to_owned(), s(sk))]))
            })
            .collect();
        let mut found = HashMap::with_capacity(keys.len());
        let mut delay = std::time::Duration::from_millis(20);
        for _ in 0..crate::retry::MAX_ATTEMPTS {
            if keys.is_empty() {
                return Ok(found);
            }
            let ask = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .consistent_read(true)
                .build()
                .map_err(|e| PortError::permanent(op, e))?;
            let resp = with_retries(op, || {
                self.client
                    .batch_get_item()
                    .request_items(&self.table, ask.clone())
                    .send()
            })
            .await
            .map_err(|e| port_err(op, e))?;
            for item in resp.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                let key = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                if let (Some(pk), Some(sk)) = (key("PK"), key("SK")) {
                    found.insert((pk, sk), item.clone());
                }
            }
            keys = resp
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
            if !keys.is_empty() {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        match keys.is_empty() {
            true => Ok(found),
            false => Err(PortError::transient(
                op,
                format!("{} summaries still unprocessed", keys.len()),
            )),
        }
    }
}

impl DynamoStore {
    /// The lead's snapshot item (deleted when the pass made none), unless a newer one is
    /// stored. Its own item, not an attribute of the summary: every append updates the summary
    /// in a transaction, which DynamoDB bills by the whole item's size. Written after the
    /// summary and read beside it; the snapshot names the count it folded, so an order of the
    /// two writes, or a pass that fails between them, never makes it current where it is not.
    async fn save_snapshot(&self, lead: &LeadId, events: u64, x: Option<&EncodedSnapshot>) -> Result<(), PortError> {
        let newer_kept = "attribute_not_exists(events) OR events <= :n";
        match x {
            Some(x) => {
                let put = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .item("PK", s(lead_pk(lead)))
                    .item("SK", s(SNAPSHOT_SK))
                    .item("events", n(events as i64))
                    .item("snapshot", s(x.as_str()))
                    .condition_expression(newer_kept)
                    .expression_attribute_values(":n", n(events as i64));
                unless_newer_kept("save snapshot", put.send().await.map(|_| ()))
            }
            None => {
                let delete = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .key("PK", s(lead_pk(lead)))
                    .key("SK", s(SNAPSHOT_SK))
                    .condition_expression(newer_kept)
                    .expression_attribute_values(":n", n(events as i64));
                unless_newer_kept("drop snapshot", delete.send().await.map(|_| ()))
            }
        }
    }
}

/// A summary item (and the lead's snapshot item, if any) as the store reads it; `None` for an
/// item no pass has summarised.
/// A snapshot write's outcome: done, or not wanted because a newer snapshot is stored (its
/// condition failed); any other failure is the store's.
fn unless_newer_kept<E>(op: &'static str, r: Result<(), E>) -> Result<(), PortError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Err(e) if e.code() != Some("ConditionalCheckFailedException") => Err(port_err(op, e)),
        _ => Ok(()),
    }
}

/// A number attribute of `item`.
fn number(item: &Item, key: &str) -> Option<i64> {
    item.get(key).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// The open clocks a summary item keeps.
fn open_clocks_attr(item: &Item) -> Option<EncodedOpenClocks> {
    let text = item.get("open_clocks").and_then(|v| v.as_s().ok())?;
    Some(EncodedOpenClocks::from_stored(text.clone()))
}

/// An open index entry: the lead, and its clocks when its summary folded every stored event.
fn open_clocks_of(item: &Item) -> Option<(LeadId, Option<EncodedOpenClocks>)> {
    let lead = LeadId::parse(item.get("lead_id")?.as_s().ok()?).ok()?;
    let stored = number(item, "events_stored");
    let current = stored.is_some() && stored == number(item, "events_folded");
    Some((lead, open_clocks_attr(item).filter(|_| current)))
}

fn saved_of(lead: &LeadId, item: &Item, snapshot: Option<&Item>) -> Result<Option<Saved>, PortError> {
    let num = |k: &str| number(item, k);
    let time = |k: &str| num(k).and_then(DateTime::from_timestamp_millis);
    let Some(folded) = num("events_folded") else {
        return Ok(None);
    };
    let armed = match item.get("armed") {
        Some(_) => decode("decode timers", item, "armed")?,
        None => Vec::new(),
    };
    let snapshot = snapshot
        .and_then(|i| i.get("snapshot"))
        .and_then(|v| v.as_s().ok())
        .map(|x| EncodedSnapshot::from_stored(x.clone()));
    Ok(Some(Saved {
        summary: LeadSummary {
            lead_id: lead.clone(),
            events: folded as u64,
            next_due: time("next_due").filter(|t| t.timestamp_millis() > 0),
            first_engaged_at: time("first_engaged_at"),
            last_activity: time("last_activity").unwrap_or_default(),
            open: item.contains_key("open_pk"),
            armed,
            snapshot,
            open_clocks: open_clocks_attr(item),
            facts: None,
        },
        // Every append counts itself; a summary without the count is never taken as current.
        stored: num("events_stored").map_or(u64::MAX, |n| n as u64),
        facts: facts::kept_of(item),
    }))
}

/// A summary's update: what every pass sets and removes, on the condition that it folded
/// every stored event (only such a summary may clear the "needs attention" mark).
fn summary_write(summary: &LeadSummary) -> Result<facts::SummaryWrite, PortError> {
    let mut set: Vec<String> = [
        "#folded = :n",
        "last_activity = :last",
        "lead_id = :lead",
        "armed = :armed",
    ]
    .map(str::to_owned)
    .to_vec();
    let mut remove = Vec::new();
    let names = HashMap::from([
        ("#folded".to_owned(), "events_folded".to_owned()),
        ("#stored".to_owned(), "events_stored".to_owned()),
    ]);
    let mut values = HashMap::from([
        (":n".to_owned(), n(summary.events as i64)),
        (":last".to_owned(), n(summary.last_activity.timestamp_millis())),
        (":lead".to_owned(), s(summary.lead_id.as_str())),
        (":armed".to_owned(), s(encode("encode timers", &summary.armed)?)),
    ]);
    match summary.next_due {
        Some(t) => {
            set.push("next_due = :due, due_pk = :duepk".into());
            values.insert(":due".into(), n(t.timestamp_millis()));
            values.insert(":duepk".into(), s("DUE"));
        }
        None => remove.push("next_due, due_pk".into()),
    }
    if summary.open {
        set.push("open_pk = :open".into());
        values.insert(":open".into(), s("OPEN"));
    } else {
        remove.push("open_pk".into());
    }
    match &summary.open_clocks {
        Some(c) => {
            set.push("open_clocks = :clocks".into());
            values.insert(":clocks".into(), s(c.as_str()));
        }
        None => remove.push("open_clocks".into()),
    }
    if let Some(t) = summary.first_engaged_at {
        set.push("first_engaged_at = :eng".into());
        values.insert(":eng".into(), n(t.timestamp_millis()));
    }
    Ok(facts::SummaryWrite {
        set,
        remove,
        condition: "attribute_not_exists(#stored) OR #stored <= :n".into(),
        names,
        values,
    })
}

impl LeadIndex for DynamoStore {
    /// With a facts change to keep: one transaction ([`DynamoStore::save_with_facts`]).
    /// Otherwise an UpdateItem, then the snapshot ([`DynamoStore::save_snapshot`]).
    async fn save_summary(&self, summary: &LeadSummary) -> Result<(), PortError> {
        let write = summary_write(summary)?;
        if let Some(change) = &summary.facts {
            if self.keeping_facts(change.tag).await? {
                return self.save_with_facts(summary, write, change).await;
            }
        }
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(lead_pk(&summary.lead_id)))
            .key("SK", s("SUMMARY"))
            .update_expression(write.expression())
            .condition_expression(&write.condition)
            .set_expression_attribute_names(Some(write.names))
            .set_expression_attribute_values(Some(write.values));
        match req.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception,
                ) =>
            {
                return Ok(())
            }
            Err(e) => return Err(port_err("save summary", e)),
        }
        self.save_snapshot(&summary.lead_id, summary.events, summary.snapshot.as_ref())
            .await
    }

    /// The summary and the snapshot items in one BatchGetItem.
    async fn saved(&self, lead: &LeadId) -> Result<Option<Saved>, PortError> {
        let mut all = self.saved_many(std::slice::from_ref(lead)).await?;
        Ok(all.pop().flatten())
    }

    /// BatchGetItem, 100 summaries a request, a few requests in flight: a report over
    /// thousands of leads reads their summaries in tens of round trips, not thousands.
    async fn saved_many(&self, leads: &[LeadId]) -> Result<Vec<Option<Saved>>, PortError> {
        // Two items a lead, 100 keys a request.
        let chunks: Vec<Vec<LeadId>> = leads.chunks(50).map(<[LeadId]>::to_vec).collect();
        let per_chunk: Vec<HashMap<(String, String), Item>> = stream::iter(chunks)
            .map(|chunk| async move { self.summaries(&chunk).await })
            .buffered(BATCH_GETS_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut found: HashMap<(String, String), Item> = per_chunk.into_iter().flatten().collect();
        leads
            .iter()
            .map(|lead| {
                let pk = lead_pk(lead);
                let snapshot = found.remove(&(pk.clone(), SNAPSHOT_SK.to_owned()));
                found
                    .remove(&(pk, "SUMMARY".to_owned()))
                    .map_or(Ok(None), |item| saved_of(lead, &item, snapshot.as_ref()))
            })
            .collect()
    }

    async fn needing_attention(&self, before: DateTime<Utc>) -> Result<Vec<LeadId>, PortError> {
        let values = HashMap::from([
            (":d".to_owned(), s("DUE")),
            (":b".to_owned(), n(before.timestamp_millis())),
        ]);
        self.query_ids("find due leads", INDEX_DUE, "due_pk = :d AND next_due <= :b", values)
            .await
    }

    async fn active_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<LeadId>, PortError> {
        let last = (to - Duration::milliseconds(1)).date_naive();
        let days = from.date_naive().iter_days().take_while(|d| *d <= last);
        // One Query per UTC day, a few in flight at once: a 90-day report is 90 round trips,
        // which one after the other passed API Gateway's 29 s.
        let per_day: Vec<Vec<LeadId>> = stream::iter(days)
            .map(|day| {
                let values = HashMap::from([(":d".to_owned(), s(format!("DAY#{}", day.format("%Y-%m-%d"))))]);
                self.query_ids("find active leads", INDEX_BY_DAY, "gsi_day = :d", values)
            })
            .buffered(DAY_QUERIES_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut ids: Vec<LeadId> = per_day.into_iter().flatten().collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    async fn open_leads(&self) -> Result<Vec<LeadId>, PortError> {
        let values = HashMap::from([(":o".to_owned(), s("OPEN"))]);
        self.query_ids("find open leads", INDEX_OPEN, "open_pk = :o", values)
            .await
    }

    /// The open index with clocks: a few hundred leads a page instead of a summary and a
    /// snapshot read per lead.
    async fn open_clocks(&self) -> Result<Vec<(LeadId, Option<EncodedOpenClocks>)>, PortError> {
        let items = match self.open_index_with_clocks().await {
            Ok(items) => items,
            // The index is new: until DynamoDB has backfilled it, read the leads as before.
            Err(e) => {
                tracing::warn!(error = %e, "open index with clocks unreadable; reading open leads in full");
                return Ok(self.open_leads().await?.into_iter().map(|id| (id, None)).collect());
            }
        };
        Ok(items.iter().filter_map(open_clocks_of).collect())
    }

    fn keeps_report_facts(&self) -> bool {
        true
    }

    /// Nothing until the tag is complete ([`facts`]): until then reports read every lead.
    async fn report_facts(
        &self,
        tag: FoldTag,
        first: NaiveDate,
        end: NaiveDate,
        dims: &[Dimension],
    ) -> Result<Facts, PortError> {
        if !self.reading_facts(tag).await? {
            return Ok(Facts::default());
        }
        Ok(self.facts_of_days(tag, first, end).await?.only(dims))
    }

    async fn active_without_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tag: FoldTag,
    ) -> Result<Vec<(LeadId, Option<StaleFacts>)>, PortError> {
        if self.reading_facts(tag).await? {
            return self.without_facts(from, to, tag).await;
        }
        let active = self.active_between(from, to).await?;
        Ok(active.into_iter().map(|id| (id, None)).collect())
    }

    /// Adds the days' logs due for it into their sums first (the sweep calls this), then
    /// goes on with the backfill's Scan.
    async fn lacking_facts(&self, tag: FoldTag, limit: usize) -> Result<Vec<LeadId>, PortError> {
        if let Err(e) = self.compact_facts(tag).await {
            tracing::warn!(error = %e, "report facts: could not add the logs in");
        }
        self.lacking(tag, limit).await
    }
}

impl Rollups for DynamoStore {
    async fn save_rollup(&self, day: &str, report: &str) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(format!("ROLLUP#{day}")))
            .item("SK", s("ROLLUP"))
            .item("report", s(report))
            .item("created_at", n(Utc::now().timestamp_millis()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_err("save rollup", e))
    }
}
