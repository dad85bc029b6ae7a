//! The store contract against SQLite: each case on a fresh database in a temporary directory.

use leadclock_app::error::PortError;
use leadclock_local::store::SqliteStore;
use leadclock_store_contract::{run_all, Adapter};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// Databases under one temporary directory, removed when the run ends.
struct Sqlite {
    root: PathBuf,
    opened: AtomicU32,
}

impl Sqlite {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let root = std::env::temp_dir().join(format!("leadclock-contract-{}-{nanos}", std::process::id()));
        Self {
            root,
            opened: AtomicU32::new(0),
        }
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.root).ok();
    }
}

impl Adapter for Sqlite {
    type Store = SqliteStore;
    const NAME: &'static str = "sqlite";

    async fn store(&self) -> Result<SqliteStore, PortError> {
        let n = self.opened.fetch_add(1, Ordering::Relaxed);
        SqliteStore::open(&self.root.join(format!("case-{n}")))
    }

    fn with_event_cap(store: &SqliteStore, cap: u64) -> SqliteStore {
        store.clone().with_event_cap(cap)
    }

    async fn rollup(store: &SqliteStore, day: &str) -> Result<Option<String>, PortError> {
        store.rollup(day).await
    }
}

#[tokio::test]
async fn sqlite_store_keeps_the_store_contract() {
    run_all(&Sqlite::new()).await;
}
