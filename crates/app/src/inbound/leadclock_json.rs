//! leadclock's own JSON: one event per request, its kind named by the route
//! (`POST /v1/events/{form,assignment,touch,stage}`), with an error that names the field at fault.

use crate::error::IngestError;
use crate::inbound::classify::{self, Untyped};
use crate::inbound::{Inbound, PayloadFormat};
use chrono::{DateTime, Duration, Utc};
use leadclock_domain::event::{Assignment, Contact, Form, Stage, Touch};
use leadclock_domain::{Event, EventBody, EventId, LeadId, Origin, Policy, StageChange};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Largest webhook body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Deepest JSON nesting accepted (attributes are the only nested part).
pub const MAX_DEPTH: usize = 8;
const MAX_TEXT: usize = 256;
const MAX_REASON: usize = 2000;
const MAX_ATTRIBUTES: usize = 64;
const MAX_ATTRIBUTE_BYTES: usize = 4096;
/// How far ahead of the server's clock an `occurred_at` may be (sender clock skew).
pub const MAX_FUTURE_SKEW: Duration = Duration::hours(1);
/// How far back an `occurred_at` may be: older history belongs in a backfill, not a webhook.
pub const MAX_PAST: Duration = Duration::days(3 * 366);

/// The four webhook kinds, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Form,
    Assignment,
    Touch,
    Stage,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Form, Kind::Assignment, Kind::Touch, Kind::Stage];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "form" => Some(Kind::Form),
            "assignment" => Some(Kind::Assignment),
            "touch" => Some(Kind::Touch),
            "stage" => Some(Kind::Stage),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Form => "form",
            Kind::Assignment => "assignment",
            Kind::Touch => "touch",
            Kind::Stage => "stage",
        }
    }
    fn known_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Form => &[
                "lead_type",
                "source",
                "region",
                "segment",
                "account",
                "score",
                "contact",
                "attributes",
            ],
            Kind::Assignment => &["owner", "team", "manager"],
            Kind::Touch => &["owner", "channel", "outcome"],
            Kind::Stage => &["stage", "reason"],
        }
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

struct Fields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn text(&self, name: &str, max: usize) -> Result<Option<String>, IngestError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let s = v
            .as_str()
            .ok_or_else(|| IngestError::invalid(name, "must be a string"))?;
        check_text(name, s, max).map(Some)
    }

    fn flag(&self, name: &str) -> Result<bool, IngestError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| IngestError::invalid(name, "must be true or false")),
        }
    }

    fn required_text(&self, name: &str, max: usize) -> Result<String, IngestError> {
        self.text(name, max)?
            .ok_or_else(|| IngestError::Missing { field: name.into() })
    }
}

fn check_text(name: &str, s: &str, max: usize) -> Result<String, IngestError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(IngestError::invalid(name, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(IngestError::invalid(name, format!("must be at most {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(IngestError::invalid(name, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

/// Parses `occurred_at`: RFC 3339 with an explicit offset, within the accepted window.
pub fn parse_instant(field: &str, s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, IngestError> {
    let t = DateTime::parse_from_rfc3339(s.trim())
        .map_err(|_| {
            IngestError::invalid(
                field,
                "must be an RFC 3339 timestamp with an offset, like 2026-11-23T10:00:00-05:00",
            )
        })?
        .with_timezone(&Utc);
    if t > now + MAX_FUTURE_SKEW {
        return Err(IngestError::OutOfRange {
            field: field.into(),
            message: "is more than 1 hour in the future".into(),
        });
    }
    if t < now - MAX_PAST {
        return Err(IngestError::OutOfRange {
            field: field.into(),
            message: "is more than 3 years in the past".into(),
        });
    }
    Ok(t)
}

/// The JSON API's format for one event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadclockJson {
    pub kind: Kind,
}

impl PayloadFormat for LeadclockJson {
    fn name(&self) -> &'static str {
        "leadclock-json"
    }

    fn events(&self, request: &Inbound<'_>, policy: &Policy) -> Result<Vec<Event>, IngestError> {
        parse_event(self.kind, request.body, policy, request.received_at).map(|e| vec![e])
    }
}

/// Event id prefixes leadclock writes itself; senders may not use them.
const RESERVED_PREFIXES: [&str; 2] = ["esc:", "void:"];
/// Fields every kind shares.
const COMMON_FIELDS: [&str; 5] = ["event_id", "lead_id", "occurred_at", "history", "supersedes"];

/// The body as a JSON object, within the size and depth limits.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, IngestError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(IngestError::TooLarge { limit: MAX_BODY_BYTES });
    }
    let text = std::str::from_utf8(body).map_err(|_| IngestError::Malformed("body is not valid UTF-8".into()))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| IngestError::Malformed(format!("body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(IngestError::Malformed("body must be a JSON object".into()));
    };
    if map.values().map(depth).max().unwrap_or(0) + 1 > MAX_DEPTH {
        return Err(IngestError::Malformed(format!(
            "body nests deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(map)
}

/// Parses a webhook body into an event, checking it against the policy.
pub fn parse_event(kind: Kind, body: &[u8], policy: &Policy, now: DateTime<Utc>) -> Result<Event, IngestError> {
    parse_fields(kind, &parse_object(body)?, policy, now)
}

/// Parses one event of `kind` from a JSON object (a request body, or one item of a batch).
pub fn parse_fields(
    kind: Kind,
    map: &Map<String, Value>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Event, IngestError> {
    let f = Fields { map };
    let lead_id = LeadId::parse(&f.required_text("lead_id", 128)?).map_err(|e| IngestError::invalid("lead_id", e.0))?;
    let given_id = f.text("event_id", 200)?.map(|s| event_id("event_id", &s)).transpose()?;
    let occurred_at = parse_instant("occurred_at", &f.required_text("occurred_at", 64)?, now)?;
    let body = parse_body(kind, &f, policy)?;
    let mut event = Event::new(
        EventId::parse(kind.as_str()).expect("kind names are valid ids"),
        lead_id,
        occurred_at,
        body,
    );
    event.origin = if f.flag("history")? {
        Origin::History
    } else {
        Origin::Live
    };
    event.supersedes = f
        .text("supersedes", 200)?
        .map(|s| event_id("supersedes", &s))
        .transpose()?;
    event.extra = parse_extra(kind, map)?;
    // Without an id, the event's own content names it: the same event, however it is spelled
    // (offsets, key order, number forms), gets the same id.
    event.event_id = match given_id {
        Some(id) => id,
        None => crate::fingerprint::derived_id(kind.as_str(), &event),
    };
    Ok(event)
}

fn event_id(field: &str, s: &str) -> Result<EventId, IngestError> {
    let id = EventId::parse(s).map_err(|e| IngestError::invalid(field, e.0))?;
    match RESERVED_PREFIXES.iter().find(|p| id.as_str().starts_with(**p)) {
        Some(p) => Err(IngestError::invalid(
            field,
            format!("ids starting with {p:?} are reserved"),
        )),
        None => Ok(id),
    }
}

fn parse_body(kind: Kind, f: &Fields, policy: &Policy) -> Result<EventBody, IngestError> {
    Ok(match kind {
        Kind::Form => EventBody::Form(Box::new(parse_form(f, policy)?)),
        Kind::Assignment => EventBody::Assignment(Assignment {
            owner: f.required_text("owner", MAX_TEXT)?,
            team: f.text("team", MAX_TEXT)?,
            manager: f.text("manager", MAX_TEXT)?,
        }),
        Kind::Touch => EventBody::Touch(Touch {
            owner: f.text("owner", MAX_TEXT)?,
            channel: f.required_text("channel", 64)?.to_ascii_lowercase(),
            outcome: f.text("outcome", 64)?.map(|o| o.to_ascii_lowercase()),
        }),
        Kind::Stage => {
            let s = f.required_text("stage", 64)?;
            let stage = StageChange::parse(&s).ok_or(IngestError::UnknownStage { stage: s })?;
            EventBody::Stage(Stage {
                stage,
                reason: f.text("reason", MAX_REASON)?,
            })
        }
    })
}

/// Fields the sender added that leadclock does not know: kept as text, bounded.
fn parse_extra(kind: Kind, map: &Map<String, Value>) -> Result<BTreeMap<String, String>, IngestError> {
    let mut extra = BTreeMap::new();
    for (k, v) in map {
        if COMMON_FIELDS.contains(&k.as_str()) || kind.known_fields().contains(&k.as_str()) {
            continue;
        }
        if extra.len() >= MAX_ATTRIBUTES {
            return Err(IngestError::invalid(
                k,
                format!("more than {MAX_ATTRIBUTES} unknown fields"),
            ));
        }
        extra.insert(bounded_key(k)?, bounded_json(k, v)?);
    }
    Ok(extra)
}

fn bounded_key(k: &str) -> Result<String, IngestError> {
    check_text(k, k, 128)
}

fn bounded_json(field: &str, v: &Value) -> Result<String, IngestError> {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.len() > MAX_ATTRIBUTE_BYTES {
        return Err(IngestError::invalid(
            field,
            format!("must be at most {MAX_ATTRIBUTE_BYTES} bytes"),
        ));
    }
    Ok(s)
}

/// A form: its facts, and its lead type as the sender named it or the policy's rules decide.
fn parse_form(f: &Fields, policy: &Policy) -> Result<Form, IngestError> {
    let mut form = Form {
        lead_type: String::new(),
        classified: None,
        source: f.text("source", MAX_TEXT)?,
        region: f.text("region", MAX_TEXT)?,
        segment: f.text("segment", MAX_TEXT)?,
        account: f.text("account", MAX_TEXT)?,
        score: parse_score(f)?,
        contact: parse_contact(f)?,
        attributes: parse_attributes(f)?,
        erased_fact: None,
    };
    let facts = classify::facts(&form, f.text("lead_type", 64)?);
    (form.lead_type, form.classified) = classify::lead_type(policy, &facts, Untyped::Refuse)?;
    Ok(form)
}

fn parse_score(f: &Fields) -> Result<Option<f64>, IngestError> {
    let Some(v) = f.get("score") else { return Ok(None) };
    let n = v
        .as_f64()
        .filter(|n| n.is_finite())
        .ok_or_else(|| IngestError::invalid("score", "must be a number"))?;
    if !(-1e9..=1e9).contains(&n) {
        return Err(IngestError::OutOfRange {
            field: "score".into(),
            message: "must be between -1e9 and 1e9".into(),
        });
    }
    Ok(Some(n))
}

fn parse_contact(f: &Fields) -> Result<Option<Contact>, IngestError> {
    let c = match f.get("contact") {
        None => return Ok(None),
        Some(Value::Object(c)) => c,
        Some(_) => {
            return Err(IngestError::invalid(
                "contact",
                "must be an object with name, email, company",
            ))
        }
    };
    if let Some(k) = c.keys().find(|k| !["name", "email", "company"].contains(&k.as_str())) {
        return Err(IngestError::invalid(
            format!("contact.{k}"),
            "contact holds only name, email and company",
        ));
    }
    let cf = Fields { map: c };
    let field = |k: &str| cf.text(k, 320).map_err(|e| e.prefixed("contact."));
    Ok(Some(Contact {
        name: field("name")?,
        email: field("email")?,
        company: field("company")?,
    }))
}

fn parse_attributes(f: &Fields) -> Result<BTreeMap<String, String>, IngestError> {
    let a = match f.get("attributes") {
        None => return Ok(BTreeMap::new()),
        Some(Value::Object(a)) => a,
        Some(_) => return Err(IngestError::invalid("attributes", "must be an object")),
    };
    if a.len() > MAX_ATTRIBUTES {
        return Err(IngestError::invalid(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in a {
        let key = check_text(&format!("attributes.{k}"), k, 128)?;
        out.insert(key, bounded_json(&format!("attributes.{k}"), v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HttpError;

    fn policy() -> Policy {
        Policy::parse(include_str!("../../../../policies/example.toml")).unwrap()
    }
    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }
    fn parse(kind: Kind, body: &str) -> Result<Event, IngestError> {
        parse_event(kind, body.as_bytes(), &policy(), now())
    }

    #[test]
    fn parses_a_form_and_keeps_unknown_fields() {
        let e = parse(
            Kind::Form,
            r#"{"lead_id":"L-1","occurred_at":"2026-11-23T10:00:00-05:00","lead_type":"demo_request","score":42,
                "contact":{"email":"a@b.c"},"attributes":{"utm":"x"},"hubspot_portal":123}"#,
        )
        .unwrap();
        assert_eq!(e.occurred_at, now() - Duration::hours(1));
        assert_eq!(e.extra.get("hubspot_portal").map(String::as_str), Some("123"));
        let EventBody::Form(f) = e.body else { panic!() };
        assert_eq!(f.score, Some(42.0));
        assert_eq!(f.attributes["utm"], "x");
    }

    #[test]
    fn derived_ids_are_stable_and_ignore_key_order() {
        let a = parse(
            Kind::Touch,
            r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","channel":"call"}"#,
        )
        .unwrap();
        let b = parse(
            Kind::Touch,
            r#"{"channel":"call","occurred_at":"2026-11-23T10:00:00Z","lead_id":"L"}"#,
        )
        .unwrap();
        let c = parse(
            Kind::Touch,
            r#"{"channel":"email","occurred_at":"2026-11-23T10:00:00Z","lead_id":"L"}"#,
        )
        .unwrap();
        assert_eq!(a.event_id, b.event_id);
        assert_ne!(a.event_id, c.event_id);
    }

    #[test]
    fn errors_name_the_field_and_code() {
        let cases: &[(Kind, &str, &str, Option<&str>, u16)] = &[
            (Kind::Form, "{", "malformed_json", None, 400),
            (Kind::Form, "[]", "malformed_json", None, 400),
            (
                Kind::Form,
                r#"{"occurred_at":"2026-11-23T10:00:00Z","lead_type":"demo_request"}"#,
                "missing_field",
                Some("lead_id"),
                400,
            ),
            (
                Kind::Form,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00","lead_type":"demo_request"}"#,
                "invalid_field",
                Some("occurred_at"),
                400,
            ),
            (
                Kind::Form,
                r#"{"lead_id":"L","occurred_at":"2030-11-23T10:00:00Z","lead_type":"demo_request"}"#,
                "out_of_range",
                Some("occurred_at"),
                400,
            ),
            (
                Kind::Form,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","lead_type":"yacht"}"#,
                "unknown_lead_type",
                Some("lead_type"),
                422,
            ),
            (
                Kind::Form,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","lead_type":"demo_request","score":"high"}"#,
                "invalid_field",
                Some("score"),
                400,
            ),
            (
                Kind::Form,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","lead_type":"demo_request","score":1e300}"#,
                "out_of_range",
                Some("score"),
                400,
            ),
            (
                Kind::Form,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","lead_type":"demo_request","contact":{"phone":"1"}}"#,
                "invalid_field",
                Some("contact.phone"),
                400,
            ),
            (
                Kind::Form,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","lead_type":"demo_request","contact":{"email":7}}"#,
                "invalid_field",
                Some("contact.email"),
                400,
            ),
            (
                Kind::Stage,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","stage":"mql"}"#,
                "unknown_stage",
                Some("stage"),
                422,
            ),
            (
                Kind::Assignment,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","owner":""}"#,
                "invalid_field",
                Some("owner"),
                400,
            ),
            (
                Kind::Assignment,
                r#"{"lead_id":"a/b","occurred_at":"2026-11-23T10:00:00Z","owner":"x"}"#,
                "invalid_field",
                Some("lead_id"),
                400,
            ),
            (
                Kind::Touch,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z"}"#,
                "missing_field",
                Some("channel"),
                400,
            ),
            (
                Kind::Touch,
                r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00Z","channel":"call","event_id":"esc:x"}"#,
                "invalid_field",
                Some("event_id"),
                400,
            ),
        ];
        for (kind, body, code, field, status) in cases {
            let err = parse(*kind, body).expect_err(body);
            assert_eq!(
                (err.code(), err.field().as_deref(), err.status()),
                (*code, *field, *status),
                "{body}"
            );
        }
    }

    #[test]
    fn limits_size_depth_and_utf8() {
        let big = format!(r#"{{"lead_id":"L","pad":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(parse(Kind::Form, &big).unwrap_err().status(), 413);
        let deep = format!(r#"{{"lead_id":"L","attributes":{}{}}}"#, "[".repeat(50), "]".repeat(50));
        assert_eq!(parse(Kind::Form, &deep).unwrap_err().code(), "malformed_json");
        let err = parse_event(Kind::Form, b"{\"lead_id\":\"\xff\"}", &policy(), now()).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
    }
}
