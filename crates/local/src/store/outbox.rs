//! `outbox`: each step's messages until their channel accepts them.

use super::{decode, SqliteStore};
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::outbox::{OutboxMessage, OutboxStatus};
use leadclock_app::ports::Outbox;
use leadclock_domain::steps::{StepRecord, StepStatus};
use leadclock_domain::LeadId;
use rusqlite::{params, OptionalExtension};

impl SqliteStore {
    async fn messages(
        &self,
        op: &'static str,
        sql: &'static str,
        arg: String,
    ) -> Result<Vec<OutboxMessage>, PortError> {
        let bodies: Vec<String> = self
            .with(op, move |c| {
                let mut stmt = c.prepare_cached(sql)?;
                let rows = stmt.query_map(params![arg], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        bodies.iter().map(|b| decode("decode outbox message", b)).collect()
    }
}

/// The step's record once a durable channel accepted its message.
fn delivered(mut r: StepRecord, m: &OutboxMessage) -> Option<StepRecord> {
    (r.status == StepStatus::Delivering).then(|| {
        r.status = StepStatus::Delivered;
        r.at = m.sent_at.unwrap_or(r.at);
        r.reason = format!("delivered to {}", m.channel.as_str());
        r
    })
}

impl SqliteStore {
    /// Makes every pending message due at `now`. For start-up only: one server owns a data dir
    /// ([`crate::lock`]), so a lease found then belongs to a process that died mid-send, and
    /// its message should not wait for the lease to end. Backoff restarts too: a restart
    /// retries what is pending at once.
    pub async fn release_leases(&self, now: DateTime<Utc>) -> Result<usize, PortError> {
        let now = now.timestamp_millis();
        self.with("release outbox leases", move |c| {
            c.execute(
                "UPDATE outbox SET next_attempt_at = ?1,
                   body = json_set(body, '$.next_attempt_at', strftime('%Y-%m-%dT%H:%M:%fZ', ?1 / 1000.0, 'unixepoch'))
                 WHERE status = 'pending' AND next_attempt_at > ?1",
                params![now],
            )
        })
        .await
    }
}

impl Outbox for SqliteStore {
    async fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>, PortError> {
        let (now, limit) = (now.timestamp_millis(), limit as i64);
        let bodies: Vec<String> = self
            .with("read due messages", move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT body FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1
                     ORDER BY next_attempt_at LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now, limit], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        bodies.iter().map(|b| decode("decode outbox message", b)).collect()
    }

    async fn lead_messages(&self, lead: &LeadId) -> Result<Vec<OutboxMessage>, PortError> {
        self.messages(
            "read lead messages",
            "SELECT body FROM outbox WHERE lead_id = ?1",
            lead.to_string(),
        )
        .await
    }

    async fn lease_message(&self, m: &OutboxMessage, until: DateTime<Utc>) -> Result<bool, PortError> {
        let mut leased = m.clone();
        leased.next_attempt_at = until;
        let body = serde_json::to_string(&leased).map_err(|e| PortError::permanent("encode outbox message", e))?;
        let (id, read_at, until) = (m.id(), m.next_attempt_at.timestamp_millis(), until.timestamp_millis());
        self.with("lease outbox message", move |c| {
            c.execute(
                "UPDATE outbox SET next_attempt_at = ?3, body = ?4
                 WHERE id = ?1 AND status = 'pending' AND next_attempt_at = ?2",
                params![id, read_at, until, body],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn update_message(&self, m: &OutboxMessage) -> Result<(), PortError> {
        let body = serde_json::to_string(m).map_err(|e| PortError::permanent("encode outbox message", e))?;
        let m = m.clone();
        self.with("update outbox message", move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE outbox SET status = ?2, next_attempt_at = ?3, body = ?4 WHERE id = ?1",
                params![m.id(), m.status.as_str(), m.next_attempt_at.timestamp_millis(), body],
            )?;
            if m.status == OutboxStatus::Sent && m.channel.is_durable() {
                let key = (m.lead_id.to_string(), m.step.cycle, m.step.clock.as_str(), m.step.step);
                let old: Option<String> = tx
                    .query_row(
                        "SELECT body FROM steps WHERE lead_id = ?1 AND cycle = ?2 AND clock = ?3 AND step = ?4",
                        params![key.0, key.1, key.2, key.3],
                        |r| r.get(0),
                    )
                    .optional()?;
                let updated = old.and_then(|b| serde_json::from_str::<StepRecord>(&b).ok()).and_then(|r| delivered(r, &m));
                if let Some(r) = updated {
                    let body = serde_json::to_string(&r).unwrap_or_default();
                    tx.execute(
                        "UPDATE steps SET status = ?5, body = ?6 WHERE lead_id = ?1 AND cycle = ?2 AND clock = ?3 AND step = ?4",
                        params![key.0, key.1, key.2, key.3, r.status.as_str(), body],
                    )?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn dead_letters(&self) -> Result<u64, PortError> {
        self.with("count dead letters", |c| {
            c.query_row("SELECT COUNT(*) FROM outbox WHERE status = 'dead'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        })
        .await
    }
}
