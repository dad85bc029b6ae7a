//! The request bodies of the webhook routes, as OpenAPI schemas. The parsers
//! ([`super::leadclock_json`], [`super::batch`], `leadclock_crm::hubspot`) read raw JSON by
//! hand, so that each error names its field; these types only describe what they accept, for
//! `GET /openapi.json`. They mirror the README's "HTTP API" and "Input limits" tables, and the
//! tests below check that every documented example parses.
//!
//! Every text field is trimmed before it is checked, so the patterns allow surrounding
//! whitespace: a schema stricter than the parser would call valid requests invalid. `null`
//! counts as absent for every optional field.

use serde_json::Value;
use std::collections::BTreeMap;

/// A lead or event id: 1–128 printable ASCII characters, no spaces or `/`.
pub const LEAD_ID_PATTERN: &str = r"^\s*[!-.0-~]{1,128}\s*$";
/// An event id: 1–200 printable ASCII characters, no spaces or `/`, not `esc:…` or `void:…`.
pub const EVENT_ID_PATTERN: &str = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$";
/// 1–256 characters without control characters.
pub const TEXT_PATTERN: &str = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$";
/// 1–64 characters without control characters.
pub const SHORT_TEXT_PATTERN: &str = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,64}\s*$";
/// 1–320 characters without control characters.
pub const CONTACT_PATTERN: &str = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,320}\s*$";
/// 1–2,000 characters without control characters.
pub const REASON_PATTERN: &str = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,2000}\s*$";

/// `POST /v1/events/form`: a form fill, the engagement that starts an MQL cycle and its
/// assignment clock. Unknown top-level fields (at most 64, each at most 4 KiB) are kept with
/// the event as text and never interpreted.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "event_id": "hs-form-1001", "lead_id": "L-1001", "occurred_at": "2026-11-23T10:00:00-05:00",
    "lead_type": "demo_request", "source": "organic", "region": "na", "segment": "mid-market",
    "contact": {"name": "Ada Lovelace", "email": "ada@example.com", "company": "Analytical Engines"}
}))]
pub struct FormBody {
    /// The idempotency key; derived from the body when absent, so an identical retry is
    /// still a duplicate.
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub event_id: Option<String>,
    #[schema(pattern = r"^\s*[!-.0-~]{1,128}\s*$")]
    pub lead_id: String,
    /// RFC 3339 with an offset; at most 1 hour ahead of the server's clock and 3 years back
    /// (`out_of_range` otherwise).
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// `true` for history (imports, backfills): measured, never escalated.
    pub history: Option<bool>,
    /// The `event_id` of an earlier event this one corrects.
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub supersedes: Option<String>,
    /// One of the policy's lead types (422 `unknown_lead_type` otherwise). When absent, the
    /// policy's classification rules decide; 422 `unclassified` when none matches.
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,64}\s*$")]
    pub lead_type: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub source: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub region: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub segment: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub account: Option<String>,
    #[schema(minimum = -1e9, maximum = 1e9)]
    pub score: Option<f64>,
    /// Stored with the event, never returned by `GET /v1/leads` and never logged.
    pub contact: Option<ContactBody>,
    /// At most 64 entries; each value is kept as text, at most 4 KiB.
    #[schema(schema_with = attributes_schema)]
    pub attributes: Option<BTreeMap<String, Value>>,
}

/// `attributes`: an object of at most 64 entries, or `null`.
fn attributes_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .max_properties(Some(64))
        .description(Some(
            "Facts for the policy's classification rules: at most 64 entries, each value kept as text, at most 4 KiB",
        ))
        .build()
}

/// A form's contact: these three keys only.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,320}\s*$")]
    pub name: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,320}\s*$")]
    pub email: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,320}\s*$")]
    pub company: Option<String>,
}

/// `POST /v1/events/assignment`: routing gave the lead an owner (stops the assignment clock,
/// starts the response clock).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "lead_id": "L-1001", "occurred_at": "2026-11-23T10:02:00-05:00", "owner": "alice", "team": "east"
}))]
pub struct AssignmentBody {
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub event_id: Option<String>,
    #[schema(pattern = r"^\s*[!-.0-~]{1,128}\s*$")]
    pub lead_id: String,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub history: Option<bool>,
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub supersedes: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub owner: String,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub team: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub manager: Option<String>,
}

/// `POST /v1/events/touch`: a rep reached out. Whether it stops the response clock is the
/// policy's call (its qualifying channels and outcomes).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "lead_id": "L-1001", "occurred_at": "2026-11-23T10:05:00-05:00", "channel": "call", "outcome": "voicemail"
}))]
pub struct TouchBody {
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub event_id: Option<String>,
    #[schema(pattern = r"^\s*[!-.0-~]{1,128}\s*$")]
    pub lead_id: String,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub history: Option<bool>,
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub supersedes: Option<String>,
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,256}\s*$")]
    pub owner: Option<String>,
    /// Lower-cased: `call`, `email`, `sms`, … as the policy names them.
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,64}\s*$")]
    pub channel: String,
    /// Lower-cased: `connected`, `voicemail`, … as the policy names them.
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,64}\s*$")]
    pub outcome: Option<String>,
}

/// `POST /v1/events/stage`: the lead moved in the funnel.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"lead_id": "L-1001", "occurred_at": "2026-11-23T10:30:00-05:00", "stage": "sal"}))]
pub struct StageBody {
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub event_id: Option<String>,
    #[schema(pattern = r"^\s*[!-.0-~]{1,128}\s*$")]
    pub lead_id: String,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub history: Option<bool>,
    #[schema(pattern = r"^\s*(?!esc:|void:)[!-.0-~]{1,200}\s*$")]
    pub supersedes: Option<String>,
    /// `sal`, `rejected`, `sql`, `opportunity`, `won`, `lost`, `disqualified` or `nurture`
    /// (case-insensitive); anything else is 422 `unknown_stage`.
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,64}\s*$")]
    pub stage: String,
    /// Why, for `rejected` and `disqualified`: at most 2,000 characters.
    #[schema(pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]{1,2000}\s*$")]
    pub reason: Option<String>,
}

/// One event of a batch: its `kind` and the fields of that kind's route.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BatchItem {
    Form(FormBody),
    Assignment(AssignmentBody),
    Touch(TouchBody),
    Stage(StageBody),
}

/// `POST /v1/events/batch`: up to 500 events of any kind (at most 1 MiB), as an array or
/// as `{"items": [...]}`. Each item is answered on its own, in order: an item that does not
/// parse is refused in the 200 answer and does not stop the others.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BatchBody {
    /// At most 500 events, in order.
    Array(Vec<BatchItem>),
    Wrapped(BatchItems),
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct BatchItems {
    #[schema(max_items = 500)]
    pub items: Vec<BatchItem>,
}

/// One event of a HubSpot webhook delivery, as HubSpot sends it. Only contact events are
/// read (`contact.*`, or `object.*` with `objectTypeId` `0-1`); every other event is skipped
/// with its reason in the 200 answer, before its other fields are read.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotEvent {
    /// `contact.creation`, `contact.propertyChange`, `contact.merge`, `contact.deletion`,
    /// `contact.privacyDeletion`, `object.*`; `eventType` is read when this is absent.
    pub subscription_type: Option<String>,
    pub event_type: Option<String>,
    pub object_type_id: Option<String>,
    pub portal_id: Option<u64>,
    pub object_id: Option<u64>,
    /// Epoch milliseconds.
    pub occurred_at: Option<i64>,
    pub property_name: Option<String>,
    pub property_value: Option<String>,
    pub primary_object_id: Option<u64>,
    pub merged_object_ids: Option<Vec<u64>>,
    pub new_object_id: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::leadclock_json::{parse_event, Kind};
    use chrono::{DateTime, Utc};
    use leadclock_domain::Policy;
    use utoipa::PartialSchema;

    fn policy() -> Policy {
        Policy::parse(include_str!("../../../../policies/example.toml")).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn example<T: PartialSchema>() -> Value {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["example"].clone()
    }

    #[test]
    fn every_documented_example_parses() {
        let cases = [
            (Kind::Form, example::<FormBody>()),
            (Kind::Assignment, example::<AssignmentBody>()),
            (Kind::Touch, example::<TouchBody>()),
            (Kind::Stage, example::<StageBody>()),
        ];
        let mut batch = Vec::new();
        for (kind, body) in cases {
            assert!(body.is_object(), "{kind:?} has an example");
            let text = serde_json::to_vec(&body).unwrap();
            parse_event(kind, &text, &policy(), now()).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let mut item = body.as_object().unwrap().clone();
            item.insert("kind".into(), kind.as_str().into());
            batch.push(Value::Object(item));
        }
        let text = serde_json::to_vec(&batch).unwrap();
        let items = crate::inbound::batch::parse(&text, &policy(), now()).unwrap();
        assert!(items.iter().all(Result::is_ok), "{items:?}");
        // And the schema types read them the same way (an unknown contact key is refused).
        let _: BatchBody = serde_json::from_slice(&text).unwrap();
        let bad: Result<ContactBody, _> = serde_json::from_str(r#"{"phone":"555"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn the_readme_bodies_parse() {
        let at = "2026-11-23T15:00:00Z";
        for (kind, body) in [
            (
                Kind::Form,
                format!(
                    r#"{{"event_id": "hs-form-1001", "lead_id": "L-1001", "occurred_at": "{at}",
                    "lead_type": "demo_request", "source": "organic", "region": "na", "segment": "mid-market",
                    "contact": {{"name": "Ada Lovelace", "email": "ada@example.com", "company": "Analytical Engines"}}}}"#
                ),
            ),
            (
                Kind::Assignment,
                format!(r#"{{"lead_id":"L-1001","occurred_at":"{at}","owner":"alice","team":"east"}}"#),
            ),
            (
                Kind::Touch,
                format!(r#"{{"lead_id":"L-1001","occurred_at":"{at}","channel":"call","outcome":"voicemail"}}"#),
            ),
            (
                Kind::Stage,
                format!(r#"{{"lead_id":"L-1001","occurred_at":"{at}","stage":"sal"}}"#),
            ),
        ] {
            parse_event(kind, body.as_bytes(), &policy(), now()).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        }
    }

    #[test]
    fn the_patterns_are_the_parsers_limits() {
        let schema = serde_json::to_value(FormBody::schema()).unwrap();
        let props = &schema["properties"];
        assert_eq!(props["lead_id"]["pattern"], LEAD_ID_PATTERN);
        assert_eq!(props["event_id"]["pattern"], EVENT_ID_PATTERN);
        assert_eq!(props["source"]["pattern"], TEXT_PATTERN);
        assert_eq!(props["lead_type"]["pattern"], SHORT_TEXT_PATTERN);
        let contact = serde_json::to_value(ContactBody::schema()).unwrap();
        assert_eq!(contact["properties"]["email"]["pattern"], CONTACT_PATTERN);
        let stage = serde_json::to_value(StageBody::schema()).unwrap();
        assert_eq!(stage["properties"]["reason"]["pattern"], REASON_PATTERN);
    }
}
