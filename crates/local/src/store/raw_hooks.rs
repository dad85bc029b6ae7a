//! `raw_hooks`: the CRM and sales-tool webhooks as received, keyed by (`received_at`, `id`);
//! `raw_hook_keys`: the leads and addresses each names, so an erasure finds them by index.

use super::{decode, SqliteStore};
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::ports::RawHooks;
use leadclock_app::raw_hooks::{RawHook, RawHookCursor};
use leadclock_domain::LeadId;
use rusqlite::params;

/// What a hook names, as `raw_hook_keys` rows.
fn keys(hook: &RawHook) -> Vec<String> {
    let leads = hook.leads().into_iter().map(|l| format!("lead:{l}"));
    leads.chain(hook.emails.iter().map(|e| format!("email:{e}"))).collect()
}

impl RawHooks for SqliteStore {
    async fn keep_raw_hook(&self, hook: &RawHook) -> Result<(), PortError> {
        let body = serde_json::to_string(hook).map_err(|e| PortError::permanent("encode raw hook", e))?;
        let (at, id, keys) = (hook.received_at.timestamp_millis(), hook.id.clone(), keys(hook));
        self.with("keep raw hook", move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO raw_hooks (received_at, id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (received_at, id) DO UPDATE SET body = excluded.body",
                params![at, id, body],
            )?;
            tx.execute(
                "DELETE FROM raw_hook_keys WHERE received_at = ?1 AND id = ?2",
                params![at, id],
            )?;
            for key in &keys {
                tx.execute(
                    "INSERT OR IGNORE INTO raw_hook_keys (key, received_at, id) VALUES (?1, ?2, ?3)",
                    params![key, at, id],
                )?;
            }
            tx.commit()
        })
        .await
    }

    async fn raw_hooks_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&RawHookCursor>,
        limit: usize,
    ) -> Result<Vec<RawHook>, PortError> {
        // Millisecond keys: a cursor's instant is compared as stored.
        let (after_at, after_id) = after.map_or((i64::MIN, String::new()), |a| {
            (a.received_at.timestamp_millis(), a.id.clone())
        });
        let (from, to, limit) = (from.timestamp_millis(), to.timestamp_millis(), limit as i64);
        let bodies: Vec<String> = self
            .with("read raw hooks", move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT body FROM raw_hooks
                     WHERE received_at >= ?1 AND received_at < ?2 AND (received_at, id) > (?3, ?4)
                     ORDER BY received_at, id LIMIT ?5",
                )?;
                let rows = stmt.query_map(params![from, to, after_at, after_id, limit], |r| r.get(0))?;
                rows.collect()
            })
            .await?;
        bodies.iter().map(|b| decode("decode raw hook", b)).collect()
    }

    async fn forget_raw_hooks(&self, leads: &[LeadId], emails: &[String]) -> Result<u64, PortError> {
        let wanted: Vec<String> = leads
            .iter()
            .map(|l| format!("lead:{l}"))
            .chain(emails.iter().map(|e| format!("email:{}", e.to_ascii_lowercase())))
            .collect();
        self.with("forget raw hooks", move |c| {
            let tx = c.transaction()?;
            let mut hooks = Vec::new();
            {
                let mut stmt = tx.prepare("SELECT received_at, id FROM raw_hook_keys WHERE key = ?1")?;
                for key in &wanted {
                    let rows = stmt.query_map(params![key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
                    hooks.extend(rows.collect::<Result<Vec<_>, _>>()?);
                }
            }
            hooks.sort();
            hooks.dedup();
            for (at, id) in &hooks {
                tx.execute(
                    "DELETE FROM raw_hooks WHERE received_at = ?1 AND id = ?2",
                    params![at, id],
                )?;
                tx.execute(
                    "DELETE FROM raw_hook_keys WHERE received_at = ?1 AND id = ?2",
                    params![at, id],
                )?;
            }
            tx.commit()?;
            Ok(hooks.len() as u64)
        })
        .await
    }

    async fn forget_raw_hooks_before(&self, cutoff: DateTime<Utc>) -> Result<u64, PortError> {
        let cutoff = cutoff.timestamp_millis();
        self.with("forget expired raw hooks", move |c| {
            let tx = c.transaction()?;
            let n = tx.execute("DELETE FROM raw_hooks WHERE received_at < ?1", params![cutoff])?;
            tx.execute("DELETE FROM raw_hook_keys WHERE received_at < ?1", params![cutoff])?;
            tx.commit()?;
            Ok(n as u64)
        })
        .await
    }
}
