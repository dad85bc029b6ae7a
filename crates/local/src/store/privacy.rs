//! Personal data in SQLite: forms found by contact email, events rewritten in place without
//! their personal data, and the retention pass's progress (`retention`).

use super::{from_millis, millis, EventRow, SqliteStore};
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::ports::PersonalData;
use leadclock_domain::{Event, LeadId};
use rusqlite::{params, OptionalExtension};

impl PersonalData for SqliteStore {
    async fn leads_with_email(&self, email: &str) -> Result<Vec<LeadId>, PortError> {
        // ASCII only, as SQLite's `lower()` folds: the two sides must fold alike.
        let email = email.to_ascii_lowercase();
        let ids: Vec<String> = self
            .with("find leads by email", move |c| {
                // Erasure requests are rare: a scan of the forms beats an index of emails that
                // would itself be personal data to erase.
                let mut stmt = c.prepare_cached(
                    "SELECT DISTINCT lead_id FROM events
                     WHERE kind = 'form' AND lower(json_extract(body, '$.contact.email')) = ?1",
                )?;
                let rows = stmt.query_map(params![email], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        Ok(ids.iter().filter_map(|s| LeadId::parse(s).ok()).collect())
    }

    async fn rewrite(&self, events: &[Event]) -> Result<(), PortError> {
        let rows = events.iter().map(EventRow::of).collect::<Result<Vec<_>, _>>()?;
        self.with("rewrite events", move |c| {
            let tx = c.transaction()?;
            for r in &rows {
                tx.execute(
                    "UPDATE events SET body = ?3 WHERE lead_id = ?1 AND event_id = ?2",
                    params![r.lead, r.id, r.body],
                )?;
            }
            tx.commit()
        })
        .await
    }

    async fn retention_through(&self) -> Result<Option<DateTime<Utc>>, PortError> {
        let ms: Option<i64> = self
            .with("read retention progress", |c| {
                c.query_row("SELECT through FROM retention WHERE id = 1", [], |r| r.get(0))
                    .optional()
            })
            .await?;
        Ok(ms.map(from_millis))
    }

    async fn save_retention_through(&self, at: DateTime<Utc>) -> Result<(), PortError> {
        let ms = millis(at);
        self.with("save retention progress", move |c| {
            c.execute(
                "INSERT INTO retention (id, through) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET through = excluded.through",
                params![ms],
            )
            .map(|_| ())
        })
        .await
    }
}
