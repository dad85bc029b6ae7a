//! HubSpot app webhooks (Webhooks API): a `POST` whose body is a JSON array of events.
//!
//! Each event names its kind in `subscriptionType` (what HubSpot sends) or `eventType` (what
//! its docs table calls it); both are read. `occurredAt` is epoch milliseconds. Contacts are
//! read through the legacy `contact.*` types and the generic `object.*` types with
//! `objectTypeId` `0-1`; anything else is returned as ignored, with a reason, so the caller
//! still answers 2xx (HubSpot retries any 4xx/5xx).
//!
//! An event that cannot be read (a missing `portalId`, a bad owner id) is ignored with its
//! reason like the others; only a body that is not a JSON array of at most 100 events is refused.
//!
//! Dedupe key: (portal, object, property or event kind, occurredAt, value). `eventId` is
//! documented as not unique and `attemptNumber` changes on retries, so neither is used.

use super::HubSpotError;
use crate::fact::{Batch, DedupeKey, Fact, OwnerRef, RecordKey, Source};
use crate::wire::from_epoch_ms;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// HubSpot documents batches of at most 100 events.
pub const MAX_EVENTS: usize = 100;
/// `objectTypeId` of contacts in generic (`object.*`) subscriptions.
pub const CONTACT_TYPE_ID: &str = "0-1";
/// The contact property that holds the owner: its changes become [`Fact::Owner`].
pub const OWNER_PROPERTY: &str = "hubspot_owner_id";

/// Reads a webhook body into facts (sorted by `occurredAt`) and ignored events.
pub fn parse_events(body: &[u8]) -> Result<Batch, HubSpotError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| HubSpotError::Json(e.to_string()))?;
    let events = value.as_array().ok_or(HubSpotError::NotArray)?;
    if events.len() > MAX_EVENTS {
        return Err(HubSpotError::TooMany(events.len()));
    }
    let mut batch = Batch::default();
    for (position, event) in events.iter().enumerate() {
        // One unreadable event must not refuse the other 99: HubSpot would retry the whole
        // batch and then drop it. It is answered as ignored, with what is wrong.
        if let Err(e) = read_event(position, event, &mut batch) {
            batch.ignore(position, "event", e.to_string());
        }
    }
    Ok(batch.sorted())
}

enum Action {
    Creation,
    Deletion,
    PropertyChange,
    Merge,
}

/// Which contact action an event is, or why it is ignored.
fn classify(kind: &str, event: &Map<String, Value>) -> Result<Action, String> {
    let Some((object, verb)) = kind.split_once('.') else {
        return Err(format!("{kind:?} is not a subscription type"));
    };
    match object {
        "contact" => {}
        "object" => match event.get("objectTypeId").and_then(Value::as_str) {
            Some(CONTACT_TYPE_ID) => {}
            Some(other) => return Err(format!("objectTypeId {other} is not a contact ({CONTACT_TYPE_ID})")),
            None => return Err("generic object event without objectTypeId".into()),
        },
        other => {
            return Err(format!(
                "{other} events are not read: only contacts carry the lead's timeline"
            ))
        }
    }
    match verb {
        "creation" => Ok(Action::Creation),
        "deletion" | "privacyDeletion" => Ok(Action::Deletion),
        "propertyChange" => Ok(Action::PropertyChange),
        "merge" => Ok(Action::Merge),
        other => Err(format!("{other} changes no lead fact")),
    }
}

fn read_event(position: usize, event: &Value, batch: &mut Batch) -> Result<(), HubSpotError> {
    let field = |field, expected| HubSpotError::Field {
        position,
        field,
        expected,
    };
    let obj = event.as_object().ok_or(field("event", "object"))?;
    let kind = ["subscriptionType", "eventType"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
        .ok_or(field("subscriptionType", "string"))?;
    let action = match classify(kind, obj) {
        Ok(a) => a,
        Err(reason) => {
            batch.ignore(position, kind, reason);
            return Ok(());
        }
    };
    let ctx = Ctx {
        position,
        portal: number(obj, "portalId").ok_or(field("portalId", "number"))?,
        at_ms: obj
            .get("occurredAt")
            .and_then(Value::as_i64)
            .ok_or(field("occurredAt", "epoch ms"))?,
    };
    let at = from_epoch_ms(ctx.at_ms).ok_or(field("occurredAt", "epoch ms"))?;
    match action {
        Action::Merge => return read_merge(&ctx, at, obj, batch),
        Action::Creation | Action::Deletion | Action::PropertyChange => {}
    }
    let record = RecordKey::hubspot(ctx.portal, number(obj, "objectId").ok_or(field("objectId", "number"))?);
    let (key, fact) = match action {
        // A contact is created once: (portal, object, "created"), the key an export's row gets too.
        Action::Creation => (
            DedupeKey::from_parts(&["hubspot", &record.account, &record.id, "created"]),
            Fact::Seen {
                record,
                at,
                properties: BTreeMap::new(),
            },
        ),
        Action::Deletion => (ctx.key(&record, kind, ""), Fact::Deleted { record, at }),
        _ => return read_property_change(&ctx, record, at, obj, batch),
    };
    batch.push(key, fact);
    Ok(())
}

/// What every fact of one event shares.
struct Ctx {
    position: usize,
    portal: u64,
    at_ms: i64,
}

impl Ctx {
    fn key(&self, record: &RecordKey, label: &str, value: &str) -> DedupeKey {
        let at = self.at_ms.to_string();
        DedupeKey::from_parts(&["hubspot", &record.account, &record.id, label, &at, value])
    }
}

fn read_property_change(
    ctx: &Ctx,
    record: RecordKey,
    at: DateTime<Utc>,
    obj: &Map<String, Value>,
    batch: &mut Batch,
) -> Result<(), HubSpotError> {
    let name = obj
        .get("propertyName")
        .and_then(Value::as_str)
        .ok_or(HubSpotError::Field {
            position: ctx.position,
            field: "propertyName",
            expected: "string",
        })?;
    // HubSpot sends the new value as a string; an empty string is a cleared property.
    let raw = obj.get("propertyValue").and_then(Value::as_str).unwrap_or("");
    let value = Some(raw.to_owned()).filter(|v| !v.is_empty());
    let key = ctx.key(&record, name, raw);
    let fact = if name == OWNER_PROPERTY {
        let owner = match &value {
            Some(id) => Some(OwnerRef::new(Source::HubSpot, id).map_err(|e| HubSpotError::Id(ctx.position, e))?),
            None => None,
        };
        Fact::Owner { record, at, owner }
    } else {
        Fact::Property {
            record,
            at,
            name: name.to_owned(),
            value,
        }
    };
    batch.push(key, fact);
    Ok(())
}

/// `contact.merge`: `primaryObjectId` wins, unless the merge created `newObjectId`.
fn read_merge(ctx: &Ctx, at: DateTime<Utc>, obj: &Map<String, Value>, batch: &mut Batch) -> Result<(), HubSpotError> {
    let missing = HubSpotError::Field {
        position: ctx.position,
        field: "primaryObjectId",
        expected: "number",
    };
    let primary = number(obj, "primaryObjectId")
        .or_else(|| number(obj, "objectId"))
        .ok_or(missing)?;
    let into_id = number(obj, "newObjectId").unwrap_or(primary);
    let mut merged: Vec<u64> = match obj.get("mergedObjectIds") {
        Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_u64).collect(),
        _ => Vec::new(),
    };
    if into_id != primary {
        merged.push(primary);
    }
    merged.retain(|id| *id != into_id);
    merged.sort_unstable();
    merged.dedup();
    let list = merged.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let into = RecordKey::hubspot(ctx.portal, into_id);
    let key = ctx.key(&into, "merge", &list);
    let merged = merged
        .into_iter()
        .map(|id| RecordKey::hubspot(ctx.portal, id))
        .collect();
    batch.push(key, Fact::Merged { into, merged, at });
    Ok(())
}

fn number(obj: &Map<String, Value>, key: &str) -> Option<u64> {
    obj.get(key).and_then(Value::as_u64)
}
