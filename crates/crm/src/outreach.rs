//! Outreach webhooks: `{"data":{"type","id","attributes","relationships"},"meta":{"deliveredAt","eventName"}}`,
//! sent as `application/vnd.api+json`, one event per request.
//!
//! `Outreach-Webhook-Signature` is the hex HMAC-SHA256 of the raw body keyed with the
//! webhook's `secret` ([`verify`]). On create/update events `attributes` holds only the
//! changed fields, so times fall back to `meta.deliveredAt`.
//!
//! Read: `mailing.delivered`, `call.created`, `task.completed` → [`Fact::Touch`] naming the
//! prospect (`relationships.prospect.data.id`) and the user; `prospect.created`/`updated`
//! carrying `emails` → [`Fact::Identified`] (prospect id → emails). Everything else is ignored.
//! Dedupe key: `outreach:<type>:<id>:<action>` — each of these happens once per resource.

use crate::fact::{Batch, DedupeKey, Fact, IdError, OwnerRef, PersonRef, Source};
use crate::signature::{verify_hex_hmac, SignatureError, SigningSecret};
use crate::wire::{json_id, parse_instant};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "outreach-webhook-signature";
pub const CONTENT_TYPE: &str = "application/vnd.api+json";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutreachError {
    #[error("body is not JSON: {0}")]
    Json(String),
    #[error("{0} is missing or has the wrong type")]
    Field(&'static str),
    #[error("{0}")]
    Id(IdError),
}

/// Checks `Outreach-Webhook-Signature` against each configured secret.
pub fn verify(secrets: &[SigningSecret], body: &[u8], signature: Option<&str>) -> Result<usize, SignatureError> {
    verify_hex_hmac::<Sha256>(secrets, body, signature, SIGNATURE_HEADER)
}

/// Reads one webhook body.
pub fn parse(body: &[u8]) -> Result<Batch, OutreachError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| OutreachError::Json(e.to_string()))?;
    let data = value
        .get("data")
        .and_then(Value::as_object)
        .ok_or(OutreachError::Field("data"))?;
    let meta = value
        .get("meta")
        .and_then(Value::as_object)
        .ok_or(OutreachError::Field("meta"))?;
    let event = meta
        .get("eventName")
        .and_then(Value::as_str)
        .ok_or(OutreachError::Field("meta.eventName"))?;
    let delivered = meta.get("deliveredAt").and_then(Value::as_str).and_then(parse_instant);
    let id = data
        .get("id")
        .and_then(json_id)
        .ok_or(OutreachError::Field("data.id"))?;
    let resource = Resource { data, id, delivered };
    let mut batch = Batch::default();
    let touch = |channel: &str, times: &[&str]| resource.touch(event, channel, times);
    let fact = match event {
        "mailing.delivered" => touch("email", &["deliveredAt"]),
        "call.created" => touch("call", &["completedAt", "answeredAt", "dialedAt", "createdAt"]),
        "task.completed" => touch(&resource.task_channel(), &["completedAt"]),
        "prospect.created" | "prospect.updated" => resource.identified(),
        other => {
            batch.ignore(0, other, "not a touch or a prospect's emails");
            return Ok(batch);
        }
    };
    // A touch that names no prospect has no lead to time: ignored with its reason, so
    // Outreach neither retries it nor disables the webhook. Only a body that is not one
    // event (no `data`, `meta.eventName` or `data.id`) is refused.
    match fact {
        Ok(Some((key, fact))) => batch.push(key, fact),
        Ok(None) => batch.ignore(0, event, "the prospect's change carries no emails"),
        Err(e) => batch.ignore(0, event, e.to_string()),
    }
    Ok(batch)
}

struct Resource<'a> {
    data: &'a Map<String, Value>,
    id: String,
    /// `meta.deliveredAt`: the only time every event carries.
    delivered: Option<DateTime<Utc>>,
}

impl Resource<'_> {
    fn attr(&self, name: &str) -> Option<&Value> {
        self.data.get("attributes")?.get(name)
    }

    /// The first of `names` that is an instant, else `meta.deliveredAt`.
    fn time(&self, names: &[&str]) -> Result<DateTime<Utc>, OutreachError> {
        names
            .iter()
            .find_map(|n| self.attr(n).and_then(Value::as_str).and_then(parse_instant))
            .or(self.delivered)
            .ok_or(OutreachError::Field("meta.deliveredAt"))
    }

    fn related(&self, name: &str) -> Option<String> {
        self.data
            .get("relationships")?
            .get(name)?
            .get("data")?
            .get("id")
            .and_then(json_id)
    }

    fn key(&self, event: &str) -> DedupeKey {
        let (kind, action) = event.split_once('.').unwrap_or((event, ""));
        DedupeKey::from_parts(&["outreach", kind, &self.id, action])
    }

    fn touch(&self, event: &str, channel: &str, times: &[&str]) -> Result<Option<(DedupeKey, Fact)>, OutreachError> {
        let prospect = self
            .related("prospect")
            .ok_or(OutreachError::Field("relationships.prospect"))?;
        let who = PersonRef::tool(Source::Outreach, &prospect).map_err(OutreachError::Id)?;
        // Calls and mailings name their `user`; tasks their `owner`.
        let owner = match self.related("user").or_else(|| self.related("owner")) {
            Some(u) => Some(OwnerRef::new(Source::Outreach, &u).map_err(OutreachError::Id)?),
            None => None,
        };
        let outcome = match event {
            "mailing.delivered" => Some("delivered".to_owned()),
            "call.created" => self.attr("outcome").and_then(Value::as_str).map(str::to_owned),
            _ => Some("completed".to_owned()),
        };
        let at = self.time(times)?;
        Ok(Some((
            self.key(event),
            Fact::Touch {
                who,
                owner,
                channel: channel.to_owned(),
                outcome,
                at,
            },
        )))
    }

    /// A task's `action` (`call`, `email`, `in_person`, `action_item`) is its channel.
    fn task_channel(&self) -> String {
        self.attr("action").and_then(Value::as_str).unwrap_or("task").to_owned()
    }

    fn identified(&self) -> Result<Option<(DedupeKey, Fact)>, OutreachError> {
        let emails: Vec<&str> = match self.attr("emails") {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut who = PersonRef::tool(Source::Outreach, &self.id).map_err(OutreachError::Id)?;
        for e in emails {
            who = who.with_email(Some(e));
        }
        if who.emails.is_empty() {
            return Ok(None);
        }
        who.emails.sort();
        who.emails.dedup();
        let at = self.time(&["updatedAt", "createdAt"])?;
        let key = DedupeKey::from_parts(&["outreach", "prospect", &self.id, "emails", &who.emails.join(",")]);
        Ok(Some((key, Fact::Identified { who, at })))
    }
}
