//! The per-day report facts (`report_facts`, schema 10): per fold tag and reporting day, each
//! figure's count summed over the settled leads whose `leads` row says their facts are held
//! (`facts_tag`, `facts_at`). A summary's save changes both in one transaction, so the days
//! always add up exactly those leads (see [`leadclock_app::ports::FactsChange`]).
//!
//! A save appends its change to `report_facts_log` (one row) rather than updating the days in
//! place, one upsert per figure (a lead has about 140 a day): the log is added into the days in
//! one transaction ([`compact`]) before every read of them, by the server's backfill tick, and
//! whenever it holds [`COMPACT_AT`] changes, so a batch of leads writes each (day, figure) once.
//! Measured on an import of 100,000 leads: 93.6 s this way, 108 s with the log added in every
//! 500 changes (upserting in place was slower still: 75 s for 50,000 leads).

use super::{from_millis, millis};
use chrono::{DateTime, NaiveDate, Utc};
use leadclock_app::fold_state::{EncodedSnapshot, FoldTag};
use leadclock_app::ports::{FactsChange, KeptFacts, StaleFacts};
use leadclock_domain::metrics::{group_prefix, Dimension, Facts, GROUPS};
use leadclock_domain::LeadId;
use rusqlite::{params, Connection, Transaction};

/// A day as the table keys it: ISO dates sort as days do.
fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The facts a row says it holds, from its `facts_tag` and `facts_at`.
pub(super) fn kept(tag: Option<&str>, at: Option<i64>) -> Option<KeptFacts> {
    Some(KeptFacts {
        tag: FoldTag::parse(tag?)?,
        at: from_millis(at?),
    })
}

/// The row's new `facts_tag` and `facts_at` after `change`.
pub(super) fn columns(change: &FactsChange) -> (String, Option<i64>) {
    (change.tag.text(), change.new.as_ref().map(|(k, _)| millis(k.at)))
}

/// Logged changes past which a save adds the log into the days (a few thousand leads').
pub(super) const COMPACT_AT: u64 = 5_000;

/// Logs `change`'s difference to its tag's days, as one row (its facts as JSON). Returns the
/// rows logged (0 when nothing changes).
pub(super) fn apply(tx: &Transaction, change: &FactsChange) -> rusqlite::Result<u64> {
    let difference = change.difference();
    if difference.is_empty() {
        return Ok(0);
    }
    let json = serde_json::to_string(&difference).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.prepare_cached("INSERT INTO report_facts_log (tag, entries) VALUES (?1, ?2)")?
        .execute(params![change.tag.text(), json])?;
    Ok(1)
}

/// Adds the log into the days and empties it, in one transaction: the changes summed first,
/// so each (day, figure) is written once however many leads changed it.
pub(super) fn compact(c: &mut Connection) -> rusqlite::Result<()> {
    let tx = c.transaction()?;
    let mut sum: std::collections::BTreeMap<String, Facts> = Default::default();
    {
        let mut rows = tx.prepare_cached("SELECT tag, entries FROM report_facts_log")?;
        let logged = rows.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in logged {
            let (tag, json) = row?;
            let facts: Facts = serde_json::from_str(&json)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
            sum.entry(tag).or_default().add(&facts);
        }
    }
    if sum.is_empty() {
        return Ok(());
    }
    {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO report_facts (tag, day, path, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tag, day, path) DO UPDATE SET count = count + excluded.count",
        )?;
        for (tag, facts) in &sum {
            let mut key = (None, String::new());
            for (day, path, n) in facts.entries() {
                if key.0 != Some(day) {
                    key = (Some(day), day_key(day));
                }
                upsert.execute(params![tag, key.1, path, n])?;
            }
        }
    }
    tx.execute("DELETE FROM report_facts_log", [])?;
    tx.commit()
}

/// The path ranges a report by `dims` reads: everything outside the groups, and the groups of
/// `dims`. As `[from, to)` bounds (`None`: unbounded); a group's path goes on with `"` (its
/// key, a JSON string) after its dimension's prefix, so `#` (the character after `"`) ends
/// each prefix's range.
fn path_ranges(dims: &[Dimension]) -> Vec<(Option<String>, Option<String>)> {
    // `["groups"]` sorts after every `["groups",…`: `]` comes after `,`.
    let mut ranges = vec![
        (None, Some(GROUPS.to_owned())),
        (Some(r#"["groups"]"#.to_owned()), None),
    ];
    for d in dims {
        let prefix = group_prefix(*d);
        let end = format!("{prefix}#");
        ranges.push((Some(prefix), Some(end)));
    }
    ranges
}

/// The sum of `tag`'s facts of the days `[first, end)`, outside the groups and in `dims`', as
/// one day's (on `first`: see [`leadclock_app::ports::LeadIndex::report_facts`]).
pub(super) fn read(
    c: &mut Connection,
    tag: FoldTag,
    first: NaiveDate,
    end: NaiveDate,
    dims: &[Dimension],
) -> rusqlite::Result<Facts> {
    compact(c)?;
    let mut stmt = c.prepare_cached(
        "SELECT day, path, count FROM report_facts
         WHERE tag = ?1 AND day >= ?2 AND day < ?3 AND path >= COALESCE(?4, '') AND (?5 IS NULL OR path < ?5)",
    )?;
    let first_day = first;
    let (tag, first, end) = (tag.text(), day_key(first), day_key(end));
    let mut entries = Vec::new();
    for (from, to) in path_ranges(dims) {
        let rows = stmt.query_map(params![tag, first, end, from, to], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })?;
        for row in rows {
            let (_, path, n) = row?;
            entries.push((first_day, path, n));
        }
    }
    Ok(Facts::from_entries(entries))
}

/// The leads active in `[from, to)` a report reads in full beside `tag`'s facts: no current
/// facts held, or an event since they were worked out (then with them, to take out).
pub(super) fn active_without(
    c: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tag: FoldTag,
) -> rusqlite::Result<Vec<(String, Option<StaleFacts>)>> {
    let mut stmt = c.prepare_cached(
        "SELECT lead_id, facts_at, snapshot, folded FROM (
             SELECT lead_id, stored, folded, snapshot, CASE WHEN facts_tag = ?3 THEN facts_at END AS facts_at
             FROM leads WHERE last_activity >= ?1 AND COALESCE(first_engaged_at, last_activity) < ?2)
         WHERE facts_at IS NULL OR stored > folded",
    )?;
    let rows = stmt.query_map(params![millis(from), millis(to), tag.text()], |r| {
        let id: String = r.get(0)?;
        let at: Option<i64> = r.get(1)?;
        let snapshot: Option<String> = match at {
            Some(_) => r.get(2)?,
            None => None,
        };
        let stale = at.zip(snapshot).map(|(at, snapshot)| StaleFacts {
            kept: KeptFacts {
                tag,
                at: from_millis(at),
            },
            snapshot: EncodedSnapshot::from_stored(snapshot),
            events: r.get::<_, i64>(3).unwrap_or_default() as u64,
        });
        Ok((id, stale))
    })?;
    rows.collect()
}

/// Up to `limit` reconciled leads whose last pass was not under `tag`; other tags' days are
/// deleted first (no report reads them again).
pub(super) fn lacking(c: &mut Connection, tag: FoldTag, limit: usize) -> rusqlite::Result<Vec<String>> {
    compact(c)?;
    let tx = c.transaction()?;
    let tag = tag.text();
    // Two ranges of the key, not `<>`, which would read every row kept.
    tx.execute("DELETE FROM report_facts WHERE tag < ?1", params![tag])?;
    tx.execute("DELETE FROM report_facts WHERE tag > ?1", params![tag])?;
    // Three ranges of the `facts_tag` index rather than `<>`, which would scan every row.
    let mut stmt = tx.prepare_cached(
        "SELECT lead_id FROM (
             SELECT lead_id, stored, folded FROM leads WHERE facts_tag IS NULL
             UNION ALL SELECT lead_id, stored, folded FROM leads WHERE facts_tag < ?1
             UNION ALL SELECT lead_id, stored, folded FROM leads WHERE facts_tag > ?1)
         WHERE folded > 0 AND stored = folded LIMIT ?2",
    )?;
    let ids = stmt
        .query_map(params![tag, limit as i64], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    drop(stmt);
    tx.commit()?;
    Ok(ids)
}

/// Leads parsed from stored ids (an id no release could store is skipped).
pub(super) fn lead_ids<T>(rows: Vec<(String, T)>) -> Vec<(LeadId, T)> {
    rows.into_iter()
        .filter_map(|(id, x)| Some((LeadId::parse(&id).ok()?, x)))
        .collect()
}
