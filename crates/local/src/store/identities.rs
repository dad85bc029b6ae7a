//! The sales tools' people in SQLite: `tool_identities` (person, identity key), `held_touches`
//! (a touch's body per person and event id), and forms found by contact email through the
//! `events_by_contact` expression index over the stored events.

use super::{decode, millis, SqliteStore};
use chrono::Utc;
use leadclock_app::error::PortError;
use leadclock_app::identity::{normal_email, HeldTouch, Identity, IdentityKey, ToolPerson};
use leadclock_app::ports::Identities;
use leadclock_domain::{EventId, LeadId};
use rusqlite::params;

impl Identities for SqliteStore {
    async fn leads_by_contact(&self, email: &str) -> Result<Vec<LeadId>, PortError> {
        let email = normal_email(email);
        let ids: Vec<String> = self
            .with("find leads by contact", move |c| {
                // The expression and the condition are the index's, so SQLite uses it.
                let mut stmt = c.prepare_cached(
                    "SELECT DISTINCT lead_id FROM events
                     WHERE kind = 'form' AND lower(trim(json_extract(body, '$.contact.email'))) = ?1",
                )?;
                let rows = stmt.query_map(params![email], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        Ok(ids.iter().filter_map(|s| LeadId::parse(s).ok()).collect())
    }

    async fn learn(&self, person: &ToolPerson, identity: &Identity) -> Result<(), PortError> {
        let person = person.to_string();
        let keys: Vec<String> = identity.keys().iter().map(IdentityKey::stored).collect();
        self.with("learn a person", move |c| {
            let tx = c.transaction()?;
            for k in &keys {
                tx.execute(
                    "INSERT OR IGNORE INTO tool_identities (person, key, learned_at) VALUES (?1, ?2, ?3)",
                    params![person, k, millis(Utc::now())],
                )?;
            }
            tx.commit()
        })
        .await
    }

    async fn identity(&self, person: &ToolPerson) -> Result<Identity, PortError> {
        let person = person.to_string();
        let keys: Vec<String> = self
            .with("read a person", move |c| {
                let mut stmt = c.prepare_cached("SELECT key FROM tool_identities WHERE person = ?1")?;
                let rows = stmt.query_map(params![person], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        Ok(Identity::from_keys(keys.iter().map(String::as_str)))
    }

    async fn people_with(&self, key: &IdentityKey) -> Result<Vec<ToolPerson>, PortError> {
        let key = key.stored();
        let people: Vec<String> = self
            .with("find people by key", move |c| {
                let mut stmt = c.prepare_cached("SELECT DISTINCT person FROM tool_identities WHERE key = ?1")?;
                let rows = stmt.query_map(params![key], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        Ok(people.iter().filter_map(|p| ToolPerson::parse(p).ok()).collect())
    }

    async fn hold(&self, touch: &HeldTouch) -> Result<(), PortError> {
        let body = serde_json::to_string(touch).map_err(|e| PortError::permanent("encode held touch", e))?;
        let (person, id) = (touch.person.to_string(), touch.event_id.to_string());
        self.with("hold a touch", move |c| {
            c.execute(
                "INSERT OR IGNORE INTO held_touches (person, event_id, body, held_at) VALUES (?1, ?2, ?3, ?4)",
                params![person, id, body, millis(Utc::now())],
            )
            .map(|_| ())
        })
        .await
    }

    async fn held(&self, person: &ToolPerson) -> Result<Vec<HeldTouch>, PortError> {
        let person = person.to_string();
        let bodies: Vec<String> = self
            .with("read held touches", move |c| {
                let mut stmt = c.prepare_cached("SELECT body FROM held_touches WHERE person = ?1 ORDER BY event_id")?;
                let rows = stmt.query_map(params![person], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .await?;
        bodies.iter().map(|b| decode("decode held touch", b)).collect()
    }

    async fn release(&self, person: &ToolPerson, events: &[EventId]) -> Result<(), PortError> {
        let person = person.to_string();
        let ids: Vec<String> = events.iter().map(ToString::to_string).collect();
        self.with("release held touches", move |c| {
            let tx = c.transaction()?;
            for id in &ids {
                tx.execute(
                    "DELETE FROM held_touches WHERE person = ?1 AND event_id = ?2",
                    params![person, id],
                )?;
            }
            tx.commit()
        })
        .await
    }

    async fn forget_email(&self, email: &str) -> Result<(), PortError> {
        // The contact index forgets with the events' rewrite; the people forget here.
        let key = IdentityKey::Email(normal_email(email)).stored();
        self.with("forget an email", move |c| {
            c.execute("DELETE FROM tool_identities WHERE key = ?1", params![key])
                .map(|_| ())
        })
        .await
    }
}
