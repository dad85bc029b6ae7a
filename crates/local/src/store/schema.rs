//! The SQLite schema and its migrations. `PRAGMA user_version` says which version a file is
//! at; every migration runs in one transaction, so a crash mid-upgrade leaves the old version.
//!
//! | version | written by | what |
//! |---|---|---|
//! | 0 (no tables) | — | a new file: the latest schema is created |
//! | 1 (tables, `user_version` 0) | releases before step outcomes | events, leads, rollups; escalation claims as `escalated` events |
//! | 2 | releases before policy versions | + `steps` (step records), `outbox`, `leads.armed` (the timers a pass armed); claims become `delivered` step records |
//! | 3 | releases before personal-data retention | + `policy_versions`; the server records the policy it starts with as version 1, in force since the beginning |
//! | 4 | releases before the sales tools' hooks | + `retention` (how far the retention pass has come); events keep their bodies, erased ones gain `erased_at` |
//! | 5 | releases before CRM write-back | + `tool_identities` (what Outreach and Salesloft taught about their people), `held_touches` (touches waiting for their person's lead), the `events_by_contact` index |
//! | 6 | releases before raw webhooks were kept | + `write_backs` (each lead's SLA figures for its CRM record, until sent) |
//! | 7 | releases before fold snapshots | + `raw_hooks` (CRM and sales-tool webhooks as received, for replay), `raw_hook_keys` (the leads and addresses each names, for erasure) |
//! | 8 | releases before open clocks were kept | + `leads.snapshot` (the fold to continue from with the next event; NULL re-folds, as every lead does once after the upgrade) |
//! | 9 | releases before report facts | + `leads.open_clocks` (the clocks running at the lead's last pass, which a report reads for a lead quiet in its period; NULL reads the lead, until its next pass) |
//! | 10 | this release | + `report_facts` (per fold tag and reporting day, what the settled leads add to each figure) and `report_facts_log` (the changes not yet added in), `leads.facts_tag` and `leads.facts_at` (under which tag the lead's last pass kept its facts, and the instant they were worked out at when they are held); NULL: reports read the lead until the backfill or its next pass |

use rusqlite::{Connection, OptionalExtension};

/// The version this release writes.
pub const VERSION: i64 = 10;

/// Version 1: what releases before step outcomes wrote (and never versioned).
const V1: &str = "
CREATE TABLE IF NOT EXISTS events (
    lead_id     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (lead_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leads (
    lead_id          TEXT PRIMARY KEY,
    stored           INTEGER NOT NULL DEFAULT 0,
    folded           INTEGER NOT NULL DEFAULT 0,
    next_due         INTEGER,
    first_engaged_at INTEGER,
    last_activity    INTEGER,
    open             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS leads_next_due ON leads (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS leads_dirty ON leads (lead_id) WHERE stored > folded;
CREATE INDEX IF NOT EXISTS leads_activity ON leads (last_activity);
CREATE INDEX IF NOT EXISTS leads_open ON leads (lead_id) WHERE open = 1;
CREATE TABLE IF NOT EXISTS rollups (
    day        TEXT PRIMARY KEY,
    report     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// Version 1 → 2: step records and the outbox. Each claim an earlier release stored as an
/// `escalated` event was sent, so it becomes a `delivered` record; the events stay (the fold
/// ignores them) so nothing stored is rewritten.
const V2: &str = "
CREATE TABLE steps (
    lead_id TEXT NOT NULL,
    cycle   INTEGER NOT NULL,
    clock   TEXT NOT NULL,
    step    INTEGER NOT NULL,
    status  TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (lead_id, cycle, clock, step)
) WITHOUT ROWID;
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    lead_id         TEXT NOT NULL,
    status          TEXT NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    body            TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_lead ON outbox (lead_id);
CREATE INDEX outbox_dead ON outbox (status) WHERE status = 'dead';
ALTER TABLE leads ADD COLUMN armed TEXT;
INSERT OR IGNORE INTO steps (lead_id, cycle, clock, step, status, body)
SELECT lead_id,
       json_extract(body, '$.cycle'),
       json_extract(body, '$.clock'),
       json_extract(body, '$.step'),
       'delivered',
       json_object(
           'key', json_object('cycle', json_extract(body, '$.cycle'), 'clock', json_extract(body, '$.clock'),
                              'step', json_extract(body, '$.step')),
           'status', 'delivered',
           'due_at', json_extract(body, '$.occurred_at'),
           'first_seen_at', json_extract(body, '$.occurred_at'),
           'at', json_extract(body, '$.occurred_at'),
           'reason', 'delivered by an earlier release')
FROM events WHERE kind = 'escalated';
";

/// Version 2 → 3: the policy versions. Empty after the migration: the policy the server next
/// starts with becomes version 1, in force since the beginning, so every lead stored before is
/// judged as it was.
const V3: &str = "
CREATE TABLE policy_versions (
    version        INTEGER PRIMARY KEY,
    effective_from INTEGER,
    sha256         TEXT NOT NULL,
    source         TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL
);
";

/// Version 3 → 4: the retention pass's progress, one row. Empty after the migration: the first
/// pass looks back over the bounded first-pass window, as on a new store.
const V4: &str = "
CREATE TABLE retention (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
);
";

/// Version 4 → 5: the sales tools' people and the touches waiting for them, and an index of
/// forms by contact email (an expression index over the stored events, so the address is kept
/// nowhere new and an erasure's rewrite drops it from the index too). Built from the events a
/// file already holds, so leads stored before the upgrade are found by their tools' touches.
const V5: &str = "
CREATE TABLE tool_identities (
    person     TEXT NOT NULL,
    key        TEXT NOT NULL,
    learned_at INTEGER NOT NULL,
    PRIMARY KEY (person, key)
) WITHOUT ROWID;
CREATE INDEX tool_identities_by_key ON tool_identities (key);
CREATE TABLE held_touches (
    person   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    body     TEXT NOT NULL,
    held_at  INTEGER NOT NULL,
    PRIMARY KEY (person, event_id)
) WITHOUT ROWID;
CREATE INDEX events_by_contact ON events (lower(trim(json_extract(body, '$.contact.email'))))
    WHERE kind = 'form';
";

/// Version 5 → 6: CRM write-backs, one row per lead (its newest figures replace the older
/// ones). Empty after the migration: the next pass over each lead writes its figures, and
/// write-back is off until a team configures it.
const V6: &str = "
CREATE TABLE write_backs (
    lead_id         TEXT PRIMARY KEY,
    revision        INTEGER NOT NULL,
    status          TEXT NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    body            TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX write_backs_due ON write_backs (next_attempt_at) WHERE status = 'pending';
";

/// Version 6 → 7: the CRM and sales-tool webhooks as received, for `replay-hooks`, and what
/// each names (`lead:<id>`, `email:<address>`) for erasure. Empty after the migration: the
/// webhooks received before were not kept, so a replay covers only what arrives from now on.
const V7: &str = "
CREATE TABLE raw_hooks (
    received_at INTEGER NOT NULL,
    id          TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (received_at, id)
) WITHOUT ROWID;
CREATE TABLE raw_hook_keys (
    key         TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    id          TEXT NOT NULL,
    PRIMARY KEY (key, received_at, id)
) WITHOUT ROWID;
CREATE INDEX raw_hook_keys_by_hook ON raw_hook_keys (received_at, id);
";

/// Version 7 → 8: each lead's fold snapshot. NULL after the migration: a lead's next pass
/// re-folds it and keeps one from then on.
const V8: &str = "ALTER TABLE leads ADD COLUMN snapshot TEXT;";

/// Version 8 → 9: each open lead's running clocks. NULL after the migration: a report reads
/// such a lead in full, as before, until its next pass (an event or the sweep) keeps them.
const V9: &str = "ALTER TABLE leads ADD COLUMN open_clocks TEXT;";

/// Version 9 → 10: the per-day report facts. Empty after the migration, every lead's
/// `facts_tag` NULL: reports read every lead as before, and the server's backfill passes each
/// settled lead once, which puts its facts in.
const V10: &str = "
ALTER TABLE leads ADD COLUMN facts_tag TEXT;
ALTER TABLE leads ADD COLUMN facts_at INTEGER;
CREATE INDEX leads_facts_tag ON leads (facts_tag);
CREATE TABLE report_facts (
    tag   TEXT NOT NULL,
    day   TEXT NOT NULL,
    path  TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (tag, day, path)
) WITHOUT ROWID;
CREATE TABLE report_facts_log (
    seq     INTEGER PRIMARY KEY,
    tag     TEXT NOT NULL,
    entries TEXT NOT NULL
);
";

/// Which version a file is at.
fn version(c: &Connection) -> rusqlite::Result<i64> {
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v > 0 {
        return Ok(v);
    }
    let has_events: Option<String> = c
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(if has_events.is_some() { 1 } else { 0 })
}

/// Brings a file to [`VERSION`]; refuses a file from a newer release.
pub fn migrate(c: &mut Connection) -> Result<(), String> {
    let from = version(c).map_err(|e| e.to_string())?;
    if from > VERSION {
        return Err(format!(
            "the database is at schema version {from}, newer than this release's {VERSION}: upgrade leadclock"
        ));
    }
    let steps: [(i64, &str); 10] = [
        (1, V1),
        (2, V2),
        (3, V3),
        (4, V4),
        (5, V5),
        (6, V6),
        (7, V7),
        (8, V8),
        (9, V9),
        (10, V10),
    ];
    for (to, sql) in steps.into_iter().filter(|(to, _)| *to > from) {
        let tx = c.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .map_err(|e| format!("migrating to schema version {to}: {e}"))?;
        tx.pragma_update(None, "user_version", to).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        if from > 0 {
            tracing::info!(from, to, "store migrated");
        }
    }
    Ok(())
}
