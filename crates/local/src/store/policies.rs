//! The policy versions the server has judged by (`policy_versions`): what makes a policy
//! change apply to leads engaged from then on and leave past reports as they were.

use super::{from_millis, millis, SqliteStore};
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::policy_file::{next_version, StoredVersion};
use rusqlite::{params, Connection};

fn read_all(c: &Connection) -> rusqlite::Result<Vec<StoredVersion>> {
    let mut st = c.prepare("SELECT version, effective_from, sha256, source FROM policy_versions ORDER BY version")?;
    let rows = st.query_map([], |r| {
        Ok(StoredVersion {
            number: r.get(0)?,
            effective_from: r.get::<_, Option<i64>>(1)?.map(from_millis),
            sha256: r.get(2)?,
            source: r.get(3)?,
        })
    })?;
    rows.collect()
}

impl SqliteStore {
    /// Every stored version, oldest first.
    pub async fn policy_versions(&self) -> Result<Vec<StoredVersion>, PortError> {
        self.with("read policy versions", |c| read_all(c)).await
    }

    /// Records `source` as the policy in force from `now` unless it already is (the first
    /// one stored is in force since the beginning), in one transaction; returns every version.
    pub async fn adopt_policy(&self, source: &str, now: DateTime<Utc>) -> Result<Vec<StoredVersion>, PortError> {
        let source = source.to_owned();
        self.with("record policy version", move |c| {
            let tx = c.transaction()?;
            let mut all = read_all(&tx)?;
            if let Some(v) = next_version(&all, &source, now) {
                tx.execute(
                    "INSERT INTO policy_versions (version, effective_from, sha256, source, recorded_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![v.number, v.effective_from.map(millis), v.sha256, v.source, millis(now)],
                )?;
                all.push(v);
            }
            tx.commit()?;
            Ok(all)
        })
        .await
    }
}
