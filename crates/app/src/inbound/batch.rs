//! `POST /v1/events/batch`: up to [`MAX_ITEMS`] events of any kind in one request, each the JSON
//! API's body plus `"kind"`. Each item gets its own answer; a bad item never fails the others.

use super::leadclock_json::{parse_fields, parse_object, Kind};
use crate::error::IngestError;
use chrono::{DateTime, Utc};
use leadclock_domain::{Event, Policy};
use serde_json::{Map, Value};

/// Items one batch may carry.
pub const MAX_ITEMS: usize = 500;
/// Largest batch body.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// One item: its event, or why it was refused.
pub type Item = Result<Event, IngestError>;

/// The items of a batch body: a JSON array of objects, or `{"items": [...]}`.
pub fn parse(body: &[u8], policy: &Policy, now: DateTime<Utc>) -> Result<Vec<Item>, IngestError> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(IngestError::TooLarge { limit: MAX_BATCH_BYTES });
    }
    let items = items(body)?;
    if items.len() > MAX_ITEMS {
        return Err(IngestError::OutOfRange {
            field: "items".into(),
            message: format!("holds {} items; a batch holds at most {MAX_ITEMS}", items.len()),
        });
    }
    Ok(items.iter().map(|v| item(v, policy, now)).collect())
}

fn items(body: &[u8]) -> Result<Vec<Value>, IngestError> {
    let text = std::str::from_utf8(body).map_err(|_| IngestError::Malformed("body is not valid UTF-8".into()))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| IngestError::Malformed(format!("body is not valid JSON: {e}")))?;
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(mut o) => match o.remove("items") {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(IngestError::Malformed(
                "body must be a JSON array of events, or {\"items\": [...]}".into(),
            )),
        },
        _ => Err(IngestError::Malformed(
            "body must be a JSON array of events, or {\"items\": [...]}".into(),
        )),
    }
}

/// The batch item that stands for `event`: what a sender would post for it, so a deployed stack
/// parses it back to the same event (`leadclock import --url`). A form typed by a rule (or
/// excluded, or unclassified) is sent without its lead type, so the stack's own rules decide
/// it; unknown fields go back to the top level; history is `"history": true`.
pub fn item_of(event: &Event) -> Value {
    let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
    let Value::Object(map) = &mut v else { return v };
    map.remove("erased_at");
    map.remove("erased_fact");
    if map.remove("origin").is_some() {
        map.insert("history".into(), Value::Bool(true));
    }
    if map.remove("classified").is_some() {
        map.remove("lead_type");
    }
    if let Some(Value::Object(extra)) = map.remove("extra") {
        for (k, val) in extra {
            map.entry(k).or_insert(val);
        }
    }
    v
}

/// One item, checked like a single request of its kind.
pub fn item(v: &Value, policy: &Policy, now: DateTime<Utc>) -> Item {
    let Value::Object(map) = v else {
        return Err(IngestError::Malformed("each item must be a JSON object".into()));
    };
    let kind = match map.get("kind").and_then(Value::as_str) {
        Some(k) => Kind::parse(k)
            .ok_or_else(|| IngestError::invalid("kind", format!("{k:?} must be form, assignment, touch or stage")))?,
        None => return Err(IngestError::Missing { field: "kind".into() }),
    };
    // Re-checked as a body of its own: the same limits as the single-event route.
    let mut fields: Map<String, Value> = map.clone();
    fields.remove("kind");
    let encoded = serde_json::to_vec(&fields).map_err(|e| IngestError::Malformed(e.to_string()))?;
    parse_fields(kind, &parse_object(&encoded)?, policy, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Policy {
        Policy::parse(include_str!("../../../../policies/example.toml")).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T16:00:00Z".parse().unwrap()
    }

    /// What a stack parses back from `item_of` is the event the sender's side had.
    #[test]
    fn an_event_posted_as_its_item_is_the_same_event() {
        let p = policy();
        let items = [
            // Typed by a rule, with attributes, a contact and an unknown field.
            json!({"kind": "form", "event_id": "f-1", "lead_id": "L-1", "occurred_at": "2026-11-23T10:00:00-05:00",
                   "attributes": {"form_name": "Request a demo", "pages": 3}, "score": 40.5,
                   "contact": {"email": "ada@example.com"}, "crm_id": 17, "history": true}),
            // Excluded by a rule; named explicitly; every other kind.
            json!({"kind": "form", "lead_id": "L-2", "occurred_at": "2026-11-23T10:00:00Z", "attributes": {"partner": "yes"}}),
            json!({"kind": "form", "lead_id": "L-3", "occurred_at": "2026-11-23T10:00:00Z", "lead_type": "free_trial", "region": "na"}),
            json!({"kind": "assignment", "lead_id": "L-1", "occurred_at": "2026-11-23T10:01:00Z", "owner": "alice", "team": "east"}),
            json!({"kind": "touch", "lead_id": "L-1", "occurred_at": "2026-11-23T10:05:00Z", "channel": "call", "outcome": "connected"}),
            json!({"kind": "stage", "event_id": "s-2", "lead_id": "L-1", "occurred_at": "2026-11-23T11:00:00Z", "stage": "rejected",
                   "reason": "no budget", "supersedes": "s-1"}),
        ];
        for original in items {
            let event = item(&original, &p, now()).unwrap();
            let again = item(&item_of(&event), &p, now()).unwrap();
            assert_eq!(again, event, "{original}");
        }
    }
}
