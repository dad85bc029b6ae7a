//! `write_backs`: each lead's SLA figures for its CRM record, until the CRM accepts them.

use super::{decode, SqliteStore};
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::ports::WriteBacks;
use leadclock_app::writeback::WriteBack;
use leadclock_domain::LeadId;
use rusqlite::{params, OptionalExtension};

impl WriteBacks for SqliteStore {
    async fn write_back(&self, lead: &LeadId) -> Result<Option<WriteBack>, PortError> {
        let id = lead.to_string();
        let body: Option<String> = self
            .with("read write-back", move |c| {
                c.query_row("SELECT body FROM write_backs WHERE lead_id = ?1", params![id], |r| {
                    r.get(0)
                })
                .optional()
            })
            .await?;
        body.map(|b| decode("decode write-back", &b)).transpose()
    }

    async fn save_write_back(&self, w: &WriteBack, read: Option<u64>) -> Result<bool, PortError> {
        let body = serde_json::to_string(w).map_err(|e| PortError::permanent("encode write-back", e))?;
        let row = (
            w.lead_id.to_string(),
            w.revision as i64,
            w.status.as_str(),
            w.next_attempt_at.timestamp_millis(),
        );
        self.with("save write-back", move |c| {
            let changed = match read {
                None => c.execute(
                    "INSERT INTO write_backs (lead_id, revision, status, next_attempt_at, body)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (lead_id) DO NOTHING",
                    params![row.0, row.1, row.2, row.3, body],
                )?,
                Some(read) => c.execute(
                    "UPDATE write_backs SET revision = ?2, status = ?3, next_attempt_at = ?4, body = ?5
                     WHERE lead_id = ?1 AND revision = ?6",
                    params![row.0, row.1, row.2, row.3, body, read as i64],
                )?,
            };
            Ok(changed == 1)
        })
        .await
    }

    async fn due_write_backs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<WriteBack>, PortError> {
        let (now, limit) = (now.timestamp_millis(), limit as i64);
        let bodies: Vec<String> = self
            .with("read due write-backs", move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT body FROM write_backs WHERE status = 'pending' AND next_attempt_at <= ?1
                     ORDER BY next_attempt_at LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now, limit], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        bodies.iter().map(|b| decode("decode write-back", b)).collect()
    }
}
