//! `steps`: what was done about each escalation step, written with its outbox messages in one
//! transaction.

use super::{decode, SqliteStore};
use leadclock_app::error::PortError;
use leadclock_app::memory::replaces;
use leadclock_app::outbox::OutboxMessage;
use leadclock_app::ports::StepLog;
use leadclock_domain::steps::{StepKey, StepRecord};
use leadclock_domain::LeadId;
use rusqlite::{params, OptionalExtension, Transaction};

/// Writes `r` unless the stored record may not be replaced; whether it wrote.
fn write_record(tx: &Transaction, lead: &str, r: &StepRecord, body: &str) -> rusqlite::Result<bool> {
    let key = (lead, r.key.cycle, r.key.clock.as_str(), r.key.step);
    let old: Option<String> = tx
        .query_row(
            "SELECT body FROM steps WHERE lead_id = ?1 AND cycle = ?2 AND clock = ?3 AND step = ?4",
            params![key.0, key.1, key.2, key.3],
            |row| row.get(0),
        )
        .optional()?;
    let old: Option<StepRecord> = old.and_then(|b| serde_json::from_str(&b).ok());
    if !replaces(old.as_ref(), r) {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO steps (lead_id, cycle, clock, step, status, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (lead_id, cycle, clock, step) DO UPDATE SET status = excluded.status, body = excluded.body",
        params![key.0, key.1, key.2, key.3, r.status.as_str(), body],
    )?;
    Ok(true)
}

impl StepLog for SqliteStore {
    async fn steps(&self, lead: &LeadId) -> Result<Vec<StepRecord>, PortError> {
        let id = lead.to_string();
        let bodies: Vec<String> = self
            .with("read steps", move |c| {
                let mut stmt = c.prepare_cached("SELECT body FROM steps WHERE lead_id = ?1")?;
                let rows = stmt.query_map(params![id], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        bodies.iter().map(|b| decode("decode step", b)).collect()
    }

    async fn record(
        &self,
        lead: &LeadId,
        records: &[StepRecord],
        outbox: &[OutboxMessage],
    ) -> Result<Vec<StepKey>, PortError> {
        let encode = |v: &dyn erased::Json| v.json().map_err(|e| PortError::permanent("encode step", e));
        let records: Vec<(StepRecord, String)> = records
            .iter()
            .map(|r| Ok((r.clone(), encode(r)?)))
            .collect::<Result<_, PortError>>()?;
        let outbox: Vec<(OutboxMessage, String)> = outbox
            .iter()
            .map(|m| Ok((m.clone(), encode(m)?)))
            .collect::<Result<_, PortError>>()?;
        let lead = lead.to_string();
        self.with("record steps", move |c| {
            let tx = c.transaction()?;
            let mut written = Vec::new();
            for (r, body) in &records {
                if write_record(&tx, &lead, r, body)? {
                    written.push(r.key);
                }
            }
            for (m, body) in outbox.iter().filter(|(m, _)| written.contains(&m.step)) {
                tx.execute(
                    "INSERT OR IGNORE INTO outbox (id, lead_id, status, next_attempt_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![m.id(), lead, m.status.as_str(), m.next_attempt_at.timestamp_millis(), body],
                )?;
            }
            tx.commit()?;
            Ok(written)
        })
        .await
    }
}

/// Serializing either record type to its stored JSON, behind one closure.
mod erased {
    pub trait Json {
        fn json(&self) -> serde_json::Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Result<String> {
            serde_json::to_string(self)
        }
    }
}
