//! Outbox messages: `OUT#{id}` items in the lead's partition, on the sparse `outbox` index
//! while pending (`outbox_pk` = `OUTBOX`, sorted by `outbox_due`) or dead (`DEAD`).

use super::steps::step_sk;
use super::{decode, encode, lead_pk, n, s, DynamoStore, INDEX_OUTBOX};
use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_dynamodb::types::{Put, Select, TransactWriteItem};
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::outbox::{OutboxMessage, OutboxStatus};
use leadclock_app::ports::Outbox;
use leadclock_domain::steps::{StepRecord, StepStatus};
use leadclock_domain::LeadId;

/// The put of a message as it now stands.
pub(super) fn message_put(table: &str, m: &OutboxMessage) -> Result<Put, PortError> {
    let mut put = Put::builder()
        .table_name(table)
        .item("PK", s(lead_pk(&m.lead_id)))
        .item("SK", s(format!("OUT#{}", m.id())))
        .item("lead_id", s(m.lead_id.as_str()))
        .item("status", s(m.status.as_str()))
        .item("body", s(encode("encode outbox message", m)?));
    put = match m.status {
        OutboxStatus::Pending => put
            .item("outbox_pk", s("OUTBOX"))
            .item("outbox_due", n(m.next_attempt_at.timestamp_millis())),
        OutboxStatus::Dead => put
            .item("outbox_pk", s("DEAD"))
            .item("outbox_due", n(m.created_at.timestamp_millis())),
        OutboxStatus::Sent => put,
    };
    put.build().map_err(|e| PortError::permanent("save outbox message", e))
}

impl DynamoStore {
    /// The step's record, made `delivered`, if it is still `delivering`.
    async fn delivered_record(&self, m: &OutboxMessage) -> Result<Option<StepRecord>, PortError> {
        let resp = with_retries("read step", || {
            self.client
                .get_item()
                .table_name(&self.table)
                .consistent_read(true)
                .key("PK", s(lead_pk(&m.lead_id)))
                .key("SK", s(step_sk(&m.step)))
                .send()
        })
        .await
        .map_err(|e| port_err("read step", e))?;
        let Some(item) = resp.item() else { return Ok(None) };
        let mut r: StepRecord = decode("decode step", item, "body")?;
        if r.status != StepStatus::Delivering {
            return Ok(None);
        }
        r.status = StepStatus::Delivered;
        r.at = m.sent_at.unwrap_or(r.at);
        r.reason = format!("delivered to {}", m.channel.as_str());
        Ok(Some(r))
    }
}

impl Outbox for DynamoStore {
    async fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>, PortError> {
        // One page: the oldest `limit` due messages; the next pass takes the rest.
        let resp = with_retries("read due messages", || {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(INDEX_OUTBOX)
                .key_condition_expression("outbox_pk = :p AND outbox_due <= :now")
                .expression_attribute_values(":p", s("OUTBOX"))
                .expression_attribute_values(":now", n(now.timestamp_millis()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
        })
        .await
        .map_err(|e| port_err("read due messages", e))?;
        resp.items()
            .iter()
            .map(|i| decode("decode outbox message", i, "body"))
            .collect()
    }

    async fn lead_messages(&self, lead: &LeadId) -> Result<Vec<OutboxMessage>, PortError> {
        let items = self.lead_items("read lead messages", lead, "OUT#").await?;
        items
            .iter()
            .map(|i| decode("decode outbox message", i, "body"))
            .collect()
    }

    async fn lease_message(&self, m: &OutboxMessage, until: DateTime<Utc>) -> Result<bool, PortError> {
        let mut leased = m.clone();
        leased.next_attempt_at = until;
        let put = message_put(&self.table, &leased)?;
        let result = with_retries("lease outbox message", || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(put.item().clone()))
                .condition_expression("#st = :pending AND outbox_due = :read")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":pending", s(OutboxStatus::Pending.as_str()))
                .expression_attribute_values(":read", n(m.next_attempt_at.timestamp_millis()))
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception,
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(port_err("lease outbox message", e)),
        }
    }

    async fn update_message(&self, m: &OutboxMessage) -> Result<(), PortError> {
        let message = TransactWriteItem::builder().put(message_put(&self.table, m)?).build();
        let record = if m.status == OutboxStatus::Sent && m.channel.is_durable() {
            self.delivered_record(m).await?
        } else {
            None
        };
        let Some(r) = record else {
            return self.transact("save outbox message", vec![message]).await?.written();
        };
        // `delivering` → `delivered`: the record put's condition is "no record or settling",
        // so replace it with one that checks `delivering` instead.
        let step = Put::builder()
            .table_name(&self.table)
            .item("PK", s(lead_pk(&m.lead_id)))
            .item("SK", s(step_sk(&r.key)))
            .item("status", s(r.status.as_str()))
            .item("body", s(encode("encode step", &r)?))
            .condition_expression("#st = :delivering")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":delivering", s(StepStatus::Delivering.as_str()))
            .build()
            .map_err(|e| PortError::permanent("save outbox message", e))?;
        self.transact(
            "save outbox message",
            vec![message, TransactWriteItem::builder().put(step).build()],
        )
        .await?
        .written()
    }

    async fn dead_letters(&self) -> Result<u64, PortError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let resp = with_retries("count dead letters", || {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(INDEX_OUTBOX)
                    .key_condition_expression("outbox_pk = :p")
                    .expression_attribute_values(":p", s("DEAD"))
                    .select(Select::Count)
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await
            .map_err(|e| port_err("count dead letters", e))?;
            count += resp.count() as u64;
            match resp.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(count),
            }
        }
    }
}
