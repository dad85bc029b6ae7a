//! The store contract against the in-memory store.

use leadclock_app::error::PortError;
use leadclock_app::memory::MemoryStore;
use leadclock_store_contract::{run_all, Adapter};

struct Memory;

impl Adapter for Memory {
    type Store = MemoryStore;
    const NAME: &'static str = "memory";

    async fn store(&self) -> Result<MemoryStore, PortError> {
        Ok(MemoryStore::new())
    }

    fn with_event_cap(store: &MemoryStore, cap: u64) -> MemoryStore {
        store.clone().with_event_cap(cap)
    }

    async fn rollup(store: &MemoryStore, day: &str) -> Result<Option<String>, PortError> {
        Ok(store.rollup(day))
    }
}

#[tokio::test]
async fn memory_store_keeps_the_store_contract() {
    run_all(&Memory).await;
}
