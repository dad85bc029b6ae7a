//! Step records: `STEP#{cycle}#{clock}#{step}` items in the lead's partition. A record and the
//! outbox messages of its claim are written in one transaction, conditional on the step having
//! no decided record yet, so racing passes agree on one outcome and a claim is never stored
//! without its messages.

use super::{decode, encode, lead_pk, outbox::message_put, s, DynamoStore};
use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use leadclock_app::error::PortError;
use leadclock_app::outbox::OutboxMessage;
use leadclock_app::ports::StepLog;
use leadclock_domain::steps::{StepKey, StepRecord, StepStatus};
use leadclock_domain::LeadId;

pub(super) fn step_sk(key: &StepKey) -> String {
    format!("STEP#{}#{}#{}", key.cycle, key.clock.as_str(), key.step)
}

fn build(op: &'static str) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> PortError {
    move |e| PortError::permanent(op, e)
}

/// A conditional put of one record: over nothing, or (for an outcome) over a settling record.
pub(super) fn record_put(table: &str, lead: &LeadId, r: &StepRecord) -> Result<Put, PortError> {
    let condition = if r.status == StepStatus::Settling {
        "attribute_not_exists(SK)"
    } else {
        "attribute_not_exists(SK) OR #st = :settling"
    };
    let mut put = Put::builder()
        .table_name(table)
        .item("PK", s(lead_pk(lead)))
        .item("SK", s(step_sk(&r.key)))
        .item("status", s(r.status.as_str()))
        .item("body", s(encode("encode step", r)?))
        .condition_expression(condition);
    if r.status != StepStatus::Settling {
        put = put
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":settling", s(StepStatus::Settling.as_str()));
    }
    put.build().map_err(build("record step"))
}

impl DynamoStore {
    /// Writes one record with its messages; `false` when the step already had a decided record.
    async fn record_one(&self, lead: &LeadId, r: &StepRecord, outbox: &[OutboxMessage]) -> Result<bool, PortError> {
        let mut items = vec![TransactWriteItem::builder()
            .put(record_put(&self.table, lead, r)?)
            .build()];
        for m in outbox.iter().filter(|m| m.step == r.key) {
            items.push(TransactWriteItem::builder().put(message_put(&self.table, m)?).build());
        }
        let result = with_retries("record step", || {
            self.client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(tc))
                    if tc.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed")
                        || tc.message().is_some_and(|m| m.contains("ConditionalCheckFailed")) =>
                {
                    Ok(false)
                }
                _ => Err(port_err("record step", e)),
            },
        }
    }
}

impl StepLog for DynamoStore {
    async fn steps(&self, lead: &LeadId) -> Result<Vec<StepRecord>, PortError> {
        let items = self.lead_items("read steps", lead, "STEP#").await?;
        items.iter().map(|i| decode("decode step", i, "body")).collect()
    }

    async fn record(
        &self,
        lead: &LeadId,
        records: &[StepRecord],
        outbox: &[OutboxMessage],
    ) -> Result<Vec<StepKey>, PortError> {
        let mut written = Vec::new();
        for r in records {
            if self.record_one(lead, r, outbox).await? {
                written.push(r.key);
            }
        }
        Ok(written)
    }
}
