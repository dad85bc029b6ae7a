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
