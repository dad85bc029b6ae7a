//! Salesloft webhooks: the bare resource as the body, its event in `x-salesloft-event`,
//! and `x-salesloft-signature` = hex HMAC-SHA1 of the raw body keyed with the subscription's
//! `callback_token` ([`verify`]). There is no event id and no event time: the resource's
//! `created_at`/`updated_at` (or `sent_at`) times the fact.
//!
//! Read: `call_created` → a call [`Fact::Touch`]; `email_updated` → an email touch only once
//! the email was actually sent (`status` `sent`, `sent_from_gmail` or `sent_from_external`,
//! `sent_at` set, not `bounced`); `person_created`/`person_updated` → [`Fact::Identified`]
//! (person id → email, CRM id). Everything else is ignored.

use crate::fact::{Batch, DedupeKey, Fact, IdError, OwnerRef, PersonRef, Source};
use crate::signature::{verify_hex_hmac, SignatureError, SigningSecret};
use crate::wire::{json_id, parse_instant};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha1::Sha1;

pub const EVENT_HEADER: &str = "x-salesloft-event";
pub const SIGNATURE_HEADER: &str = "x-salesloft-signature";
/// `Email.status` values that mean the email left Salesloft.
pub const SENT_STATUSES: [&str; 3] = ["sent", "sent_from_gmail", "sent_from_external"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SalesloftError {
    #[error("body is not a JSON object: {0}")]
    Json(String),
    #[error("{0} is missing or has the wrong type")]
    Field(&'static str),
    #[error("{0}")]
    Id(IdError),
}

/// Checks `x-salesloft-signature` against each configured callback token.
pub fn verify(tokens: &[SigningSecret], body: &[u8], signature: Option<&str>) -> Result<usize, SignatureError> {
    verify_hex_hmac::<Sha1>(tokens, body, signature, SIGNATURE_HEADER)
}

/// Reads one webhook body; `event` is the `x-salesloft-event` header.
pub fn parse(event: &str, body: &[u8]) -> Result<Batch, SalesloftError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| SalesloftError::Json(e.to_string()))?;
    let obj = value.as_object().ok_or(SalesloftError::Json("not an object".into()))?;
    let id = obj.get("id").and_then(json_id).ok_or(SalesloftError::Field("id"))?;
    let mut batch = Batch::default();
    let read = match event.trim() {
        "call_created" => call(obj, &id).map(Ok),
        "email_updated" => email(obj, &id),
        "person_created" | "person_updated" => person(obj, &id),
        other => Ok(Err(format!("{other} is not a touch or a person"))),
    };
    // A call or email that names no person (a dialled number nobody linked) is a real event
    // with no lead to time: answered as ignored with its reason, so Salesloft does not retry
    // it. Only a body that is not one identified object is refused.
    match read {
        Ok(Ok((key, fact))) => batch.push(key, fact),
        Ok(Err(reason)) => batch.ignore(0, event, reason),
        Err(e) => batch.ignore(0, event, e.to_string()),
    }
    Ok(batch)
}

type Read = Result<(DedupeKey, Fact), String>;

fn call(obj: &Map<String, Value>, id: &str) -> Result<(DedupeKey, Fact), SalesloftError> {
    let who = person_ref(obj, "called_person")?;
    let fact = Fact::Touch {
        who,
        owner: user(obj)?,
        channel: "call".into(),
        outcome: obj.get("disposition").and_then(Value::as_str).map(str::to_owned),
        at: time(obj, &["created_at"])?,
    };
    Ok((DedupeKey::from_parts(&["salesloft", "call", id]), fact))
}

fn email(obj: &Map<String, Value>, id: &str) -> Result<Read, SalesloftError> {
    let status = obj.get("status").and_then(Value::as_str).unwrap_or("");
    if obj.get("bounced").and_then(Value::as_bool) == Some(true) {
        return Ok(Err("the email bounced".into()));
    }
    let sent_at = obj.get("sent_at").and_then(Value::as_str).and_then(parse_instant);
    let (true, Some(at)) = (SENT_STATUSES.contains(&status), sent_at) else {
        return Ok(Err(format!("the email is not sent yet (status {status:?})")));
    };
    let who = person_ref(obj, "recipient")?.with_email(obj.get("recipient_email_address").and_then(Value::as_str));
    let fact = Fact::Touch {
        who,
        owner: user(obj)?,
        channel: "email".into(),
        outcome: Some("sent".into()),
        at,
    };
    Ok(Ok((DedupeKey::from_parts(&["salesloft", "email", id, "sent"]), fact)))
}

fn person(obj: &Map<String, Value>, id: &str) -> Result<Read, SalesloftError> {
    let mut who = PersonRef::tool(Source::Salesloft, id)
        .map_err(SalesloftError::Id)?
        .with_email(obj.get("email_address").and_then(Value::as_str));
    who.crm_id = obj.get("crm_id").and_then(json_id);
    if who.emails.is_empty() && who.crm_id.is_none() {
        return Ok(Err("the person has no email address or CRM id".into()));
    }
    let at = time(obj, &["updated_at", "created_at"])?;
    let key = DedupeKey::from_parts(&[
        "salesloft",
        "person",
        id,
        &who.emails.join(","),
        who.crm_id.as_deref().unwrap_or(""),
    ]);
    Ok(Ok((key, Fact::Identified { who, at })))
}

/// `{"id": 4242, "_href": …}` embedded resources name people and users.
fn embedded_id(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.get(name)?.get("id").and_then(json_id)
}

fn person_ref(obj: &Map<String, Value>, name: &'static str) -> Result<PersonRef, SalesloftError> {
    let id = embedded_id(obj, name).ok_or(SalesloftError::Field(name))?;
    PersonRef::tool(Source::Salesloft, &id).map_err(SalesloftError::Id)
}

fn user(obj: &Map<String, Value>) -> Result<Option<OwnerRef>, SalesloftError> {
    embedded_id(obj, "user")
        .map(|u| OwnerRef::new(Source::Salesloft, &u).map_err(SalesloftError::Id))
        .transpose()
}

fn time(obj: &Map<String, Value>, names: &[&'static str]) -> Result<DateTime<Utc>, SalesloftError> {
    names
        .iter()
        .find_map(|n| obj.get(*n).and_then(Value::as_str).and_then(parse_instant))
        .ok_or(SalesloftError::Field(names[0]))
}
