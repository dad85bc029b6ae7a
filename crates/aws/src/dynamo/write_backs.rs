//! CRM write-backs: one `WRITEBACK` item in the lead's partition, on the sparse `outbox` index
//! under `outbox_pk` = `WRITEBACK` while pending (sorted by its next attempt), so the
//! dispatcher finds due ones with the index it already reads and no new index is needed.
//! `revision` is the compare-and-set every save conditions on.

use super::{decode, encode, lead_pk, n, s, DynamoStore, INDEX_OUTBOX};
use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::outbox::OutboxStatus;
use leadclock_app::ports::WriteBacks;
use leadclock_app::writeback::WriteBack;
use leadclock_domain::LeadId;

const SK: &str = "WRITEBACK";
const PENDING: &str = "WRITEBACK";

impl WriteBacks for DynamoStore {
    async fn write_back(&self, lead: &LeadId) -> Result<Option<WriteBack>, PortError> {
        let resp = with_retries("read write-back", || {
            self.client
                .get_item()
                .table_name(&self.table)
                .consistent_read(true)
                .key("PK", s(lead_pk(lead)))
                .key("SK", s(SK))
                .send()
        })
        .await
        .map_err(|e| port_err("read write-back", e))?;
        resp.item().map(|i| decode("decode write-back", i, "body")).transpose()
    }

    async fn save_write_back(&self, w: &WriteBack, read: Option<u64>) -> Result<bool, PortError> {
        let body = encode("encode write-back", w)?;
        let result = with_retries("save write-back", || {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("PK", s(lead_pk(&w.lead_id)))
                .item("SK", s(SK))
                .item("lead_id", s(w.lead_id.as_str()))
                .item("status", s(w.status.as_str()))
                .item("revision", n(w.revision as i64))
                .item("body", s(body.clone()));
            let put = if w.status == OutboxStatus::Pending {
                put.item("outbox_pk", s(PENDING))
                    .item("outbox_due", n(w.next_attempt_at.timestamp_millis()))
            } else {
                put
            };
            match read {
                None => put.condition_expression("attribute_not_exists(PK)"),
                Some(r) => put
                    .condition_expression("revision = :read")
                    .expression_attribute_values(":read", n(r as i64)),
            }
            .send()
        })
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(e) => Err(port_err("save write-back", e)),
        }
    }

    async fn due_write_backs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<WriteBack>, PortError> {
        // One page: the soonest `limit`; the next pass takes the rest.
        let resp = with_retries("read due write-backs", || {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(INDEX_OUTBOX)
                .key_condition_expression("outbox_pk = :p AND outbox_due <= :now")
                .expression_attribute_values(":p", s(PENDING))
                .expression_attribute_values(":now", n(now.timestamp_millis()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
        })
        .await
        .map_err(|e| port_err("read due write-backs", e))?;
        resp.items()
            .iter()
            .map(|i| decode("decode write-back", i, "body"))
            .collect()
    }
}
