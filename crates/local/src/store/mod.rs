//! SQLite store: one file in the data dir, WAL with full sync, so an accepted event or a
//! claimed step survives `kill -9` and power loss.
//!
//! Tables (see [`schema`] for versions and migrations): `events` (the log; an event id is
//! unique within its lead), `leads` (one summary row per lead: how many events are stored, how
//! many the saved summary folded, the next wake-up, the timers armed, the fold snapshot), `steps` (what was done
//! about each escalation step), `outbox` (each step's messages until their channel accepts
//! them), `rollups` and `report_facts` (per fold tag and reporting day, what the settled leads
//! add to each figure, kept with each summary: see [`facts`]). A lead whose `stored` count is
//! ahead of its summary has unreconciled events.

mod facts;
mod identities;
mod outbox;
mod policies;
mod privacy;
mod raw_hooks;
pub mod schema;
mod steps;
mod write_backs;

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::fold_state::{EncodedOpenClocks, EncodedSnapshot, FoldTag};
use leadclock_app::ports::{Appended, EventCount, EventStore, LeadIndex, LeadSummary, Rollups, Saved, StaleFacts};
use leadclock_domain::metrics::{Dimension, Facts};
use leadclock_domain::{Event, LeadId};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A stored JSON body back to its type; a body that does not decode is corruption, not input.
fn decode<T: serde::de::DeserializeOwned>(op: &'static str, body: &str) -> Result<T, PortError> {
    serde_json::from_str(body).map_err(|e| PortError::permanent(op, e))
}

/// Failures worth retrying: a lock held by another connection, a full disk, an I/O error, a
/// file that cannot be opened right now. Each answers 503 with `Retry-After`, since the write was
/// not made durable and the sender should send it again, not drop it.
fn err(op: &'static str) -> impl Fn(rusqlite::Error) -> PortError {
    use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DatabaseLocked, DiskFull, SystemIoFailure};
    move |e| match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked | DiskFull | SystemIoFailure | CannotOpen) => {
            PortError::transient(op, e.to_string())
        }
        _ => PortError::new(op, e.to_string()),
    }
}

/// The database file's name inside the data dir.
pub const DB_FILE: &str = "leadclock.db";

/// Which file a path names: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(FileId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// A SQLite-backed [`EventStore`] and [`LeadIndex`]. Clones share one connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// The database file, and which file it was when opened (see [`SqliteStore::health`]).
    path: Arc<std::path::PathBuf>,
    opened: FileId,
    /// Most events a lead may hold ([`leadclock_app::ports::MAX_EVENTS_PER_LEAD`]).
    event_cap: u64,
    /// Report facts changes logged since the log was last added into the days, and how many
    /// set that off (see [`facts`]).
    facts_logged: Arc<std::sync::atomic::AtomicU64>,
    compact_at: u64,
}

impl SqliteStore {
    /// Opens (creating if needed) `DIR/leadclock.db`.
    pub fn open(dir: &Path) -> Result<Self, PortError> {
        std::fs::create_dir_all(dir).map_err(|e| PortError::new("open store", format!("{}: {e}", dir.display())))?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(err("open store"))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")
            .map_err(err("configure store"))?;
        let mut conn = conn;
        schema::migrate(&mut conn).map_err(|e| PortError::new("migrate store", e))?;
        // Recorded after the schema is written, so the file surely exists.
        let opened = FileId::of(&path).map_err(|e| PortError::new("open store", format!("{}: {e}", path.display())))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path),
            opened,
            event_cap: leadclock_app::ports::MAX_EVENTS_PER_LEAD,
            facts_logged: Arc::default(),
            compact_at: facts::COMPACT_AT,
        })
    }

    /// Whether the store can keep what it acknowledges: the database answers a cheap read, and
    /// `DATA/leadclock.db` is still the file that was opened. A deleted or replaced file still
    /// answers through the open handle, but nothing written to it survives a restart, so that
    /// is reported as a failure (not transient: it needs an operator and a restart).
    pub async fn health(&self) -> Result<(), PortError> {
        self.ping().await?;
        let path = self.path.clone();
        match FileId::of(&path) {
            Ok(now) if now == self.opened => Ok(()),
            Ok(_) => Err(PortError::new(
                "store health",
                format!(
                    "{} was replaced since the server opened it; restart the server",
                    path.display()
                ),
            )),
            Err(e) => Err(PortError::new(
                "store health",
                format!(
                    "{} is gone since the server opened it ({e}); restart the server",
                    path.display()
                ),
            )),
        }
    }

    /// Runs `f` on the connection off the async threads.
    async fn with<R: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    ) -> Result<R, PortError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard).map_err(err(op))
        })
        .await
        .map_err(|e| PortError::new(op, e.to_string()))?
    }

    /// A cheap read that proves the database answers.
    pub async fn ping(&self) -> Result<(), PortError> {
        self.with("ping", |c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    /// Total events stored (for load tests and the health endpoint).
    /// The same store adding its report facts log into the days past `rows` rows (tests).
    pub fn with_compact_at(mut self, rows: u64) -> Self {
        self.compact_at = rows;
        self
    }

    /// The same store with another per-lead cap (tests of the cap).
    pub fn with_event_cap(mut self, cap: u64) -> Self {
        self.event_cap = cap;
        self
    }

    pub async fn count_events(&self) -> Result<u64, PortError> {
        self.with("count events", |c| {
            c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
        .await
    }

    pub async fn rollup(&self, day: &str) -> Result<Option<String>, PortError> {
        let day = day.to_owned();
        self.with("read rollup", move |c| {
            c.query_row("SELECT report FROM rollups WHERE day = ?1", params![day], |r| r.get(0))
                .optional()
        })
        .await
    }
}

impl EventCount for SqliteStore {
    async fn count_events(&self) -> Result<u64, PortError> {
        SqliteStore::count_events(self).await
    }
}

/// A `leads` row as [`LeadIndex::saved`] reads it.
struct SummaryRow {
    folded: i64,
    next_due: Option<i64>,
    engaged: Option<i64>,
    last: Option<i64>,
    open: bool,
    armed: Option<String>,
    stored: i64,
    snapshot: Option<String>,
    open_clocks: Option<String>,
    facts_tag: Option<String>,
    facts_at: Option<i64>,
}

impl SummaryRow {
    fn read(r: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(SummaryRow {
            folded: r.get(0)?,
            next_due: r.get(1)?,
            engaged: r.get(2)?,
            last: r.get(3)?,
            open: r.get(4)?,
            armed: r.get(5)?,
            stored: r.get(6)?,
            snapshot: r.get(7)?,
            open_clocks: r.get(8)?,
            facts_tag: r.get(9)?,
            facts_at: r.get(10)?,
        })
    }

    fn into_saved(self, lead: &LeadId) -> Result<Saved, PortError> {
        Ok(Saved {
            summary: LeadSummary {
                lead_id: lead.clone(),
                events: self.folded as u64,
                next_due: self.next_due.map(from_millis),
                first_engaged_at: self.engaged.map(from_millis),
                last_activity: from_millis(self.last.unwrap_or_default()),
                open: self.open,
                armed: self
                    .armed
                    .as_deref()
                    .map(|a| decode("decode timers", a))
                    .transpose()?
                    .unwrap_or_default(),
                snapshot: self.snapshot.map(EncodedSnapshot::from_stored),
                open_clocks: self.open_clocks.map(EncodedOpenClocks::from_stored),
                facts: None,
            },
            stored: self.stored as u64,
            facts: facts::kept(self.facts_tag.as_deref(), self.facts_at),
        })
    }
}

/// An event as the `events` table holds it.
struct EventRow {
    id: String,
    lead: String,
    at: i64,
    kind: &'static str,
    body: String,
    capped: bool,
}

/// What [`EventRow::insert`] did.
enum Inserted {
    New,
    /// The id was stored: its body.
    Was(String),
    Full,
}

impl EventRow {
    fn of(event: &Event) -> Result<EventRow, PortError> {
        Ok(EventRow {
            id: event.event_id.to_string(),
            lead: event.lead_id.to_string(),
            at: millis(event.occurred_at),
            kind: event.body.kind(),
            body: serde_json::to_string(event).map_err(|e| PortError::permanent("encode event", e))?,
            capped: leadclock_app::ports::counts_toward_cap(event),
        })
    }

    /// Stores the event unless its id is stored (the stored body) or its lead holds `cap`
    /// events already.
    fn insert(&self, tx: &rusqlite::Transaction, cap: u64) -> rusqlite::Result<Inserted> {
        let stored_body = |tx: &rusqlite::Transaction| {
            tx.query_row(
                "SELECT body FROM events WHERE lead_id = ?1 AND event_id = ?2",
                params![self.lead, self.id],
                |r| r.get(0),
            )
            .optional()
        };
        if self.capped {
            let held: Option<i64> = tx
                .query_row("SELECT stored FROM leads WHERE lead_id = ?1", params![self.lead], |r| {
                    r.get(0)
                })
                .optional()?;
            if held.is_some_and(|n| n as u64 >= cap) {
                return Ok(stored_body(tx)?.map_or(Inserted::Full, Inserted::Was));
            }
        }
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO events (event_id, lead_id, occurred_at, kind, body, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![self.id, self.lead, self.at, self.kind, self.body, millis(Utc::now())],
        )?;
        if inserted == 1 {
            tx.execute(
                "INSERT INTO leads (lead_id, stored, last_activity) VALUES (?1, 1, ?2)
                 ON CONFLICT (lead_id) DO UPDATE SET stored = stored + 1,
                    last_activity = MAX(COALESCE(last_activity, ?2), ?2)",
                params![self.lead, self.at],
            )?;
            return Ok(Inserted::New);
        }
        stored_body(tx)?
            .map(Inserted::Was)
            .ok_or(rusqlite::Error::QueryReturnedNoRows)
    }
}

impl EventStore for SqliteStore {
    async fn append(&self, event: &Event) -> Result<Appended, PortError> {
        let mut all = self.append_batch(std::slice::from_ref(event)).await?;
        all.pop().ok_or_else(|| PortError::new("append event", "no result"))
    }

    /// One transaction for the whole batch: one commit (one fsync) however many events.
    async fn append_batch(&self, events: &[Event]) -> Result<Vec<Appended>, PortError> {
        let rows = events.iter().map(EventRow::of).collect::<Result<Vec<_>, _>>()?;
        let cap = self.event_cap;
        let stored: Vec<Inserted> = self
            .with("append events", move |c| {
                let tx = c.transaction()?;
                let stored = rows.iter().map(|r| r.insert(&tx, cap)).collect::<Result<Vec<_>, _>>()?;
                tx.commit()?;
                Ok(stored)
            })
            .await?;
        stored
            .into_iter()
            .map(|s| match s {
                Inserted::New => Ok(Appended::New),
                Inserted::Was(body) => Ok(Appended::Duplicate(Box::new(decode("decode event", &body)?))),
                Inserted::Full => Ok(Appended::Full { limit: cap }),
            })
            .collect()
    }

    async fn load(&self, lead: &LeadId) -> Result<Vec<Event>, PortError> {
        let lead = lead.to_string();
        let rows: Vec<String> = self
            .with("load lead", move |c| {
                let mut stmt = c.prepare_cached("SELECT body FROM events WHERE lead_id = ?1")?;
                let rows = stmt.query_map(params![lead], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        rows.iter().map(|b| decode("decode event", b)).collect()
    }
}

impl LeadIndex for SqliteStore {
    async fn save_summary(&self, s: &LeadSummary) -> Result<(), PortError> {
        let armed = serde_json::to_string(&s.armed).map_err(|e| PortError::permanent("encode timers", e))?;
        let (lead, folded, next_due, engaged, last, open) = (
            s.lead_id.to_string(),
            s.events as i64,
            s.next_due.map(millis),
            s.first_engaged_at.map(millis),
            millis(s.last_activity),
            s.open,
        );
        let snapshot = s.snapshot.as_ref().map(|x| x.as_str().to_owned());
        let clocks = s.open_clocks.as_ref().map(|x| x.as_str().to_owned());
        let change = s.facts.clone();
        let (logged, compact_at) = (self.facts_logged.clone(), self.compact_at);
        self.with("save summary", move |c| {
            let tx = c.transaction()?;
            let row: Option<(i64, Option<String>, Option<i64>)> = tx
                .prepare_cached("SELECT folded, facts_tag, facts_at FROM leads WHERE lead_id = ?1")?
                .query_row(params![lead], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            // No row (no event stored), a newer summary saved, or facts another pass changed
            // since this one read them: left as it is (see `FactsChange`).
            let applies = |(was, tag, at): &(i64, Option<String>, Option<i64>)| {
                *was <= folded
                    && change
                        .as_ref()
                        .is_none_or(|ch| ch.applies_to(facts::kept(tag.as_deref(), *at)))
            };
            if !row.as_ref().is_some_and(applies) {
                return Ok(());
            }
            tx.prepare_cached(
                "UPDATE leads SET folded = ?2, next_due = ?3, first_engaged_at = ?4,
                    last_activity = MAX(COALESCE(last_activity, ?5), ?5), open = ?6, armed = ?7,
                    snapshot = ?8, open_clocks = ?9
                 WHERE lead_id = ?1",
            )?
            .execute(params![
                lead, folded, next_due, engaged, last, open, armed, snapshot, clocks
            ])?;
            let mut rows = 0;
            if let Some(change) = &change {
                let (tag, at) = facts::columns(change);
                tx.prepare_cached("UPDATE leads SET facts_tag = ?2, facts_at = ?3 WHERE lead_id = ?1")?
                    .execute(params![lead, tag, at])?;
                rows = facts::apply(&tx, change)?;
            }
            tx.commit()?;
            // The summary is saved: adding the log in is the days' own transaction.
            use std::sync::atomic::Ordering::Relaxed;
            if rows > 0 && logged.fetch_add(rows, Relaxed) + rows >= compact_at {
                logged.store(0, Relaxed);
                // Not this save's failure: the next read of the days adds the log in again.
                if let Err(e) = facts::compact(c) {
                    tracing::warn!(error = %e, "could not add the report facts log into the days");
                }
            }
            Ok(())
        })
        .await
    }

    async fn saved(&self, lead: &LeadId) -> Result<Option<Saved>, PortError> {
        let mut all = self.saved_many(std::slice::from_ref(lead)).await?;
        Ok(all.pop().flatten())
    }

    /// One statement, prepared once, for every lead: a report reads thousands of summaries.
    async fn saved_many(&self, leads: &[LeadId]) -> Result<Vec<Option<Saved>>, PortError> {
        let ids: Vec<String> = leads.iter().map(ToString::to_string).collect();
        let rows = self
            .with("read summary", move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT folded, next_due, first_engaged_at, last_activity, open, armed, stored, snapshot,
                        open_clocks, facts_tag, facts_at
                     FROM leads WHERE lead_id = ?1 AND folded > 0",
                )?;
                ids.iter()
                    .map(|id| stmt.query_row(params![id], SummaryRow::read).optional())
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        leads
            .iter()
            .zip(rows)
            .map(|(lead, row)| row.map(|r| r.into_saved(lead)).transpose())
            .collect()
    }

    async fn needing_attention(&self, before: DateTime<Utc>) -> Result<Vec<LeadId>, PortError> {
        let before = millis(before);
        let ids: Vec<String> = self
            .with("find due leads", move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT lead_id FROM leads WHERE next_due IS NOT NULL AND next_due <= ?1
                     UNION SELECT lead_id FROM leads WHERE stored > folded",
                )?;
                let rows = stmt.query_map(params![before], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        Ok(ids.iter().filter_map(|s| LeadId::parse(s).ok()).collect())
    }

    async fn active_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<LeadId>, PortError> {
        let (from, to) = (millis(from), millis(to));
        let ids: Vec<String> = self
            .with("find active leads", move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT lead_id FROM leads WHERE last_activity >= ?1 AND COALESCE(first_engaged_at, last_activity) < ?2",
                )?;
                let rows = stmt.query_map(params![from, to], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        Ok(ids.iter().filter_map(|s| LeadId::parse(s).ok()).collect())
    }

    async fn open_leads(&self) -> Result<Vec<LeadId>, PortError> {
        let ids: Vec<String> = self
            .with("find open leads", |c| {
                let mut stmt = c.prepare_cached("SELECT lead_id FROM leads WHERE open = 1")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        Ok(ids.iter().filter_map(|s| LeadId::parse(s).ok()).collect())
    }

    /// The open index's answer alone: no summary or snapshot is read.
    async fn open_clocks(&self) -> Result<Vec<(LeadId, Option<EncodedOpenClocks>)>, PortError> {
        let rows: Vec<(String, Option<String>)> = self
            .with("find open leads", |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT lead_id, CASE WHEN stored = folded THEN open_clocks END FROM leads WHERE open = 1",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, clocks)| Some((LeadId::parse(&id).ok()?, clocks.map(EncodedOpenClocks::from_stored))))
            .collect())
    }

    fn keeps_report_facts(&self) -> bool {
        true
    }

    async fn report_facts(
        &self,
        tag: FoldTag,
        first: NaiveDate,
        end: NaiveDate,
        dims: &[Dimension],
    ) -> Result<Facts, PortError> {
        let dims = dims.to_vec();
        self.with("read report facts", move |c| facts::read(c, tag, first, end, &dims))
            .await
    }

    async fn active_without_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tag: FoldTag,
    ) -> Result<Vec<(LeadId, Option<StaleFacts>)>, PortError> {
        let rows = self.with("find leads without facts", move |c| {
            facts::active_without(c, from, to, tag)
        });
        Ok(facts::lead_ids(rows.await?))
    }

    async fn lacking_facts(&self, tag: FoldTag, limit: usize) -> Result<Vec<LeadId>, PortError> {
        self.facts_logged.store(0, std::sync::atomic::Ordering::Relaxed);
        let ids = self
            .with("find leads lacking facts", move |c| facts::lacking(c, tag, limit))
            .await?;
        Ok(ids.iter().filter_map(|s| LeadId::parse(s).ok()).collect())
    }
}

impl Rollups for SqliteStore {
    async fn save_rollup(&self, day: &str, report: &str) -> Result<(), PortError> {
        let (day, report) = (day.to_owned(), report.to_owned());
        self.with("save rollup", move |c| {
            c.execute(
                "INSERT INTO rollups (day, report, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (day) DO UPDATE SET report = excluded.report, created_at = excluded.created_at",
                params![day, report, millis(Utc::now())],
            )
            .map(|_| ())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_domain::event::Touch;
    use leadclock_domain::{EventBody, EventId};

    fn touch(id: &str, lead: &str, secs: i64) -> Event {
        let body = EventBody::Touch(Touch {
            owner: None,
            channel: "call".into(),
            outcome: None,
        });
        let at = from_millis(1_790_000_000_000 + secs * 1000);
        Event::new(EventId::parse(id).unwrap(), LeadId::parse(lead).unwrap(), at, body)
    }

    #[tokio::test]
    async fn health_fails_once_the_database_file_is_deleted_or_replaced() {
        let dir = tempdir();
        let store = SqliteStore::open(&dir).unwrap();
        store.health().await.unwrap();
        let db = dir.join(DB_FILE);
        std::fs::rename(&db, dir.join("moved.db")).unwrap();
        let gone = store.health().await.unwrap_err();
        assert!(!gone.transient && gone.to_string().contains("is gone"), "{gone}");
        std::fs::write(&db, b"").unwrap();
        let replaced = store.health().await.unwrap_err();
        assert!(replaced.to_string().contains("was replaced"), "{replaced}");
        std::fs::remove_file(&db).unwrap();
        std::fs::rename(dir.join("moved.db"), &db).unwrap();
        store.health().await.unwrap();
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_full_database_is_a_transient_failure() {
        let dir = tempdir();
        let store = SqliteStore::open(&dir).unwrap();
        store.append(&touch("e0", "L", 0)).await.unwrap();
        // No page may be added: the next write that needs one fails with SQLITE_FULL.
        store
            .with("cap", |c| {
                let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                c.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            })
            .await
            .unwrap();
        let mut big = touch("e1", "L", 1);
        if let EventBody::Touch(t) = &mut big.body {
            t.channel = "x".repeat(64 * 1024);
        }
        let e = store.append(&big).await.unwrap_err();
        assert!(e.transient, "{e}");
        assert!(e.to_string().contains("full"), "{e}");
        let wrapped = leadclock_app::error::IngestError::Store(e);
        use leadclock_app::error::HttpError;
        assert_eq!((wrapped.status(), wrapped.retry_after()), (503, Some(5)));
        // What was acknowledged before is intact.
        assert_eq!(store.load(&LeadId::parse("L").unwrap()).await.unwrap().len(), 1);
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn report_facts_changes_are_logged_then_added_into_the_days_past_the_threshold() {
        use leadclock_app::ports::{FactsChange, KeptFacts};
        let dir = tempdir();
        let store = SqliteStore::open(&dir).unwrap().with_compact_at(2);
        let tag = FoldTag::parse("00000000000000ab").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 9, 23).unwrap();
        let facts = |owner: &str| {
            Facts::from_entries([
                (day, r#"["overall","mqls"]"#.to_owned(), 1),
                (day, format!(r#"["groups","owner",{owner:?},"mqls"]"#), 1),
                (day, r#"["overall","speed","calendar","90"]"#.to_owned(), 1),
            ])
        };
        let log_rows = || {
            let c = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
            c.query_row("SELECT COUNT(*) FROM report_facts_log", [], |r| r.get::<_, i64>(0))
                .unwrap()
        };
        let mut want = Facts::default();
        for (i, owner) in ["ann", "bo", "ann", "cy"].iter().enumerate() {
            let e = touch(&format!("e{i}"), &format!("L{i}"), i as i64);
            store.append(&e).await.unwrap();
            let kept = KeptFacts { tag, at: e.occurred_at };
            let summary = LeadSummary {
                lead_id: e.lead_id.clone(),
                events: 1,
                next_due: None,
                first_engaged_at: Some(e.occurred_at),
                last_activity: e.occurred_at,
                open: false,
                armed: Vec::new(),
                snapshot: Some(EncodedSnapshot::from_stored("{}".into())),
                open_clocks: None,
                facts: Some(FactsChange {
                    tag,
                    old: None,
                    new: Some((kept, facts(owner))),
                }),
            };
            store.save_summary(&summary).await.unwrap();
            want.add(&facts(owner));
            // A row a save: the second reaches the threshold and the log is added in.
            assert_eq!(log_rows(), [1, 0, 1, 0][i], "after save {i}");
        }
        let days = store
            .report_facts(tag, day, day.succ_opt().unwrap(), &[Dimension::Owner])
            .await
            .unwrap();
        assert_eq!(days, want);
        assert_eq!(log_rows(), 0, "a read adds the log in first");
        std::fs::remove_dir_all(dir).ok();
    }

    pub fn tempdir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("leadclock-store-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }
}
