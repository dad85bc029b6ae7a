//! The store contract against DynamoDB: the table `TABLE_NAME` at `AWS_ENDPOINT_URL`, which
//! `tests/aws/test_stack.py` points at the emulator's deployed stack. Every case shares the
//! table; the suite's leads and days are unique to the run.

use leadclock_app::error::PortError;
use leadclock_aws::config::{env, sdk_config};
use leadclock_aws::dynamo::DynamoStore;
use leadclock_store_contract::{run_all, Adapter};

struct Dynamo {
    store: DynamoStore,
}

impl Adapter for Dynamo {
    type Store = DynamoStore;
    const NAME: &'static str = "dynamodb";

    async fn store(&self) -> Result<DynamoStore, PortError> {
        Ok(self.store.clone())
    }

    fn with_event_cap(store: &DynamoStore, cap: u64) -> DynamoStore {
        store.clone().with_event_cap(cap)
    }

    async fn rollup(store: &DynamoStore, day: &str) -> Result<Option<String>, PortError> {
        store.rollup(day).await
    }
}

#[tokio::test]
#[ignore = "needs DynamoDB: set AWS_ENDPOINT_URL and TABLE_NAME (tests/aws/test_stack.py runs it on the emulator)"]
async fn dynamodb_store_keeps_the_store_contract() {
    // An explicit endpoint, so the suite's leads never land in a real account's table by accident.
    let required = |name| env(name).unwrap_or_else(|e| panic!("{e}"));
    required("AWS_ENDPOINT_URL");
    let table = required("TABLE_NAME");
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    run_all(&Dynamo {
        store: DynamoStore::new(client, table).with_report_facts_from_start(),
    })
    .await;
}
