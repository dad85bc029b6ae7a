//! Personal data on DynamoDB: forms found by contact email, events rewritten in place without
//! their personal data, and the retention pass's progress (`RETENTION` / `RETENTION`, with
//! `through` in ms).
//!
//! Finding a person's leads by email scans the event items for forms that hold a contact: an
//! erasure request is rare, and an index of emails would itself be personal data to erase. Its
//! cost grows with the table (one read unit per 4 KB scanned), stated in docs/privacy.md.

use super::{decode, encode, n, s, DynamoStore, Item};
use crate::error::port_err;
use crate::retry::with_retries;
use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::ports::PersonalData;
use leadclock_domain::{Event, EventBody, LeadId};
use std::collections::BTreeSet;

const RETENTION_KEY: &str = "RETENTION";

fn names_email(event: &Event, email: &str) -> bool {
    match &event.body {
        EventBody::Form(f) => f
            .contact
            .as_ref()
            .and_then(|c| c.email.as_deref())
            .is_some_and(|m| m.eq_ignore_ascii_case(email)),
        _ => false,
    }
}

impl DynamoStore {
    /// The form items that hold a contact, page after page.
    pub(super) async fn forms_with_contact(&self) -> Result<Vec<Item>, PortError> {
        let op = "find leads by email";
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let resp = with_retries(op, || {
                self.client
                    .scan()
                    .table_name(&self.table)
                    .filter_expression("begins_with(SK, :evt) AND #k = :form AND contains(#b, :contact)")
                    .projection_expression("#b")
                    .expression_attribute_names("#k", "kind")
                    .expression_attribute_names("#b", "body")
                    .expression_attribute_values(":evt", s("EVT#"))
                    .expression_attribute_values(":form", s("form"))
                    .expression_attribute_values(":contact", s("\"contact\":{"))
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await
            .map_err(|e| port_err(op, e))?;
            out.extend(resp.items().iter().cloned());
            match resp.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }
}

impl PersonalData for DynamoStore {
    async fn leads_with_email(&self, email: &str) -> Result<Vec<LeadId>, PortError> {
        let mut leads = BTreeSet::new();
        for item in self.forms_with_contact().await? {
            let event: Event = decode("decode event", &item, "body")?;
            if names_email(&event, email) {
                leads.insert(event.lead_id);
            }
        }
        Ok(leads.into_iter().collect())
    }

    async fn rewrite(&self, events: &[Event]) -> Result<(), PortError> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        let op = "rewrite event";
        for e in events {
            let body = encode("encode event", e)?;
            let result = with_retries(op, || {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("PK", s(super::lead_pk(&e.lead_id)))
                    .key("SK", s(format!("EVT#{}", e.event_id)))
                    .update_expression("SET #b = :b")
                    .expression_attribute_names("#b", "body")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":b", s(body.clone()))
                    .send()
            })
            .await;
            match result {
                Ok(_) => {}
                // Never adds an event: one that is not stored stays not stored.
                Err(err)
                    if matches!(
                        err.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) => {}
                Err(err) => return Err(port_err(op, err)),
            }
        }
        Ok(())
    }

    async fn retention_through(&self) -> Result<Option<DateTime<Utc>>, PortError> {
        let op = "read retention progress";
        let resp = with_retries(op, || {
            self.client
                .get_item()
                .table_name(&self.table)
                .consistent_read(true)
                .key("PK", s(RETENTION_KEY))
                .key("SK", s(RETENTION_KEY))
                .send()
        })
        .await
        .map_err(|e| port_err(op, e))?;
        Ok(resp
            .item()
            .and_then(|i| i.get("through"))
            .and_then(|v| v.as_n().ok())
            .and_then(|ms| ms.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis))
    }

    async fn save_retention_through(&self, at: DateTime<Utc>) -> Result<(), PortError> {
        let op = "save retention progress";
        with_retries(op, || {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("PK", s(RETENTION_KEY))
                .item("SK", s(RETENTION_KEY))
                .item("through", n(at.timestamp_millis()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| port_err(op, e))
    }
}
