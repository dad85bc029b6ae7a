//! HubSpot workflow "Send a webhook" action: one JSON object for the enrolled contact.
//!
//! Two shapes are read:
//! - **Include all properties** (the default): the contact as HubSpot's contacts API returns it
//!   (`vid`/`canonical-vid`, `portal-id`, `properties.<name>.value` with `versions` history,
//!   `form-submissions`);
//! - **Customize request body**: a flat object of the properties the admin picked
//!   (`hs_object_id`, `email`, `createdate`, …); its portal is the configured one.
//!
//! Either becomes one [`Fact::Engaged`] at the engagement the run stands for (the recent
//! conversion, else the latest form submission, else `createdate`), with every property as
//! text, so the mapper can classify by form (`recent_conversion_event_name`).

use super::HubSpotError;
use crate::fact::{Batch, DedupeKey, Fact, RecordKey};
use crate::wire::{json_instant, json_text};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Properties that carry the record id, in order of preference (`canonical-vid` survives merges).
const ID_KEYS: [&str; 5] = ["canonical-vid", "vid", "objectId", "hs_object_id", "id"];
/// Properties that time the engagement a workflow run stands for, in order of preference.
const ENGAGEMENT_KEYS: [&str; 3] = [
    "recent_conversion_date",
    "form-submissions.latest.timestamp",
    "createdate",
];
/// Prefix of the latest form submission's fields in [`Fact::Engaged`] properties.
pub const LATEST_FORM: &str = "form-submissions.latest.";

/// Reads a workflow webhook body. `portal` is the tenant's configured portal: required for the
/// flat shape, and checked against `portal-id` when the body carries one.
pub fn parse_workflow(body: &[u8], portal: Option<u64>) -> Result<Batch, HubSpotError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| HubSpotError::Json(e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or(HubSpotError::Workflow("the body must be a JSON object"))?;
    let portal = body_portal(obj, portal)?;
    let mut properties = read_properties(obj);
    add_latest_form(obj, &mut properties);
    let object = ID_KEYS
        .iter()
        .find_map(|k| {
            obj.get(*k)
                .and_then(Value::as_u64)
                .or_else(|| properties.get(*k).and_then(|v| v.parse().ok()))
        })
        .ok_or(HubSpotError::Workflow("no record id (vid, objectId or hs_object_id)"))?;
    let instant = |k: &str| properties.get(k).and_then(|v| json_instant(&Value::from(v.as_str())));
    let created = instant("createdate")
        .or_else(|| instant("lastmodifieddate"))
        .ok_or(HubSpotError::Workflow("no createdate: include it in the request body"))?;
    let engaged = ENGAGEMENT_KEYS.iter().find_map(|k| instant(k)).unwrap_or(created);
    let record = RecordKey::hubspot(portal, object);
    let engaged_ms = engaged.timestamp_millis().to_string();
    let key = DedupeKey::from_parts(&["hubspot", &record.account, &record.id, "workflow", &engaged_ms]);
    let mut batch = Batch::default();
    batch.push(
        key,
        Fact::Engaged {
            record,
            at: engaged,
            properties,
        },
    );
    Ok(batch)
}

fn body_portal(obj: &Map<String, Value>, configured: Option<u64>) -> Result<u64, HubSpotError> {
    let given = ["portal-id", "portalId"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_u64));
    match (given, configured) {
        (Some(body), Some(configured)) if body != configured => Err(HubSpotError::PortalMismatch { body, configured }),
        (Some(p), _) | (None, Some(p)) => Ok(p),
        (None, None) => Err(HubSpotError::Workflow("no portal-id in the body and none configured")),
    }
}

/// `properties.<name>.value` (full contact) or the top-level scalars (custom body), as text.
fn read_properties(obj: &Map<String, Value>) -> BTreeMap<String, String> {
    let source = match obj.get("properties") {
        Some(Value::Object(props)) => props,
        _ => obj,
    };
    source
        .iter()
        .filter_map(|(name, v)| {
            let v = match v {
                Value::Object(p) => p.get("value")?,
                scalar => scalar,
            };
            Some((name.clone(), json_text(v)?))
        })
        .collect()
}

/// The most recent entry of `form-submissions`: which form, page and time the contact converted on.
fn add_latest_form(obj: &Map<String, Value>, properties: &mut BTreeMap<String, String>) {
    let Some(Value::Array(forms)) = obj.get("form-submissions") else {
        return;
    };
    let latest = forms
        .iter()
        .filter_map(Value::as_object)
        .max_by_key(|f| f.get("timestamp").and_then(Value::as_i64).unwrap_or(i64::MIN));
    let Some(latest) = latest else { return };
    for (name, v) in latest {
        if let Some(text) = json_text(v) {
            properties.insert(format!("{LATEST_FORM}{name}"), text);
        }
    }
}
