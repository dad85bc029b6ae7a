//! The CRM and sales-tool webhooks as they were received, kept for `[privacy] raw_hooks`
//! (90 days by default) so that a fix to a mapping can be replayed over them
//! (`leadclock replay-hooks`, `POST /v1/hooks/replay`): each body is parsed and mapped again
//! with the current code and policy, and what changed is corrected in the timeline
//! ([`crate::handlers::hooks`]).
//!
//! A raw body is personal data in bulk (it names the contact), so each one is kept with the
//! leads its events named and the addresses it holds: an erasure by lead or email deletes the
//! bodies that name them, and the retention pass deletes the ones older than the setting.

use chrono::{DateTime, Utc};
use leadclock_crm::Batch;
use leadclock_domain::{EventId, LeadId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The route a webhook came in on: which parser reads its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookSource {
    HubSpot,
    HubSpotWorkflow,
    Salesforce,
    Outreach,
    Salesloft,
}

impl HookSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HubSpot => "hubspot",
            Self::HubSpotWorkflow => "hubspot_workflow",
            Self::Salesforce => "salesforce",
            Self::Outreach => "outreach",
            Self::Salesloft => "salesloft",
        }
    }
}

/// One webhook body as received, with what its mapping made of it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawHook {
    /// Hex SHA-256 (128 bits) of the source, context and body: a resend has the same id.
    pub id: String,
    pub source: HookSource,
    /// The parser's other input besides the body: Salesloft's `x-salesloft-event`, a
    /// workflow's `?portal=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// When it arrived, to the millisecond.
    pub received_at: DateTime<Utc>,
    /// The body, as text: every format leadclock reads is UTF-8 (the routes refuse others).
    pub body: String,
    /// The events the mapping derived from it last (on receipt, or at the latest replay), by
    /// the ids the mapping gives them: what a replay compares against.
    #[serde(default)]
    pub derived: Vec<(LeadId, EventId)>,
    /// Lower-case email addresses found in the body: what an erasure by email matches.
    #[serde(default)]
    pub emails: Vec<String>,
}

impl RawHook {
    pub fn new(source: HookSource, context: Option<String>, body: String, received_at: DateTime<Utc>) -> RawHook {
        let mut h = Sha256::new();
        for part in [source.as_str(), context.as_deref().unwrap_or(""), body.as_str()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let id = hex::encode(&h.finalize()[..16]);
        let emails = emails_in(&body);
        // Stores key hooks by the millisecond: the kept instant is the key's.
        let received_at = DateTime::from_timestamp_millis(received_at.timestamp_millis()).unwrap_or(received_at);
        RawHook {
            id,
            source,
            context,
            received_at,
            body,
            derived: Vec::new(),
            emails,
        }
    }

    /// The leads its events named.
    pub fn leads(&self) -> BTreeSet<&LeadId> {
        self.derived.iter().map(|(lead, _)| lead).collect()
    }

    /// Whether an erasure of `leads` or `emails` (lower case) must delete it.
    pub fn names_any(&self, leads: &[LeadId], emails: &[String]) -> bool {
        self.derived.iter().any(|(l, _)| leads.contains(l)) || self.emails.iter().any(|e| emails.contains(e))
    }

    /// The facts its body says, read by the same parser as its route.
    pub fn batch(&self) -> Result<Batch, String> {
        let body = self.body.as_bytes();
        match self.source {
            HookSource::HubSpot => leadclock_crm::hubspot::webhooks::parse_events(body).map_err(|e| e.to_string()),
            HookSource::HubSpotWorkflow => {
                let portal = match self.context.as_deref() {
                    Some(p) => Some(p.parse::<u64>().map_err(|_| format!("portal {p:?} is not a number"))?),
                    None => None,
                };
                leadclock_crm::hubspot::parse_workflow(body, portal).map_err(|e| e.to_string())
            }
            HookSource::Salesforce => {
                let message =
                    leadclock_crm::salesforce::OutboundMessage::parse(&self.body).map_err(|e| e.to_string())?;
                message.facts().map_err(|e| e.to_string())
            }
            HookSource::Outreach => leadclock_crm::outreach::parse(body).map_err(|e| e.to_string()),
            HookSource::Salesloft => {
                let event = self.context.as_deref().ok_or("no x-salesloft-event was kept")?;
                leadclock_crm::salesloft::parse(event, body).map_err(|e| e.to_string())
            }
        }
    }
}

/// Where a page of raw hooks ended: the next page starts after it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RawHookCursor {
    pub received_at: DateTime<Utc>,
    pub id: String,
}

impl RawHook {
    pub fn cursor(&self) -> RawHookCursor {
        RawHookCursor {
            received_at: self.received_at,
            id: self.id.clone(),
        }
    }
}

/// Every email-like token of `text`, lower case, each once: `local@domain.tld` made of the
/// characters addresses use. Format-blind on purpose (JSON, XML, form fields alike): an
/// erasure must find an address wherever a vendor put it.
pub fn emails_in(text: &str) -> Vec<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._%+-@".contains(c);
    let mut out = BTreeSet::new();
    for token in text.split(|c: char| !allowed(c)) {
        let token = token.trim_matches('.');
        let Some((local, domain)) = token.split_once('@') else {
            continue;
        };
        if !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.ends_with('.') {
            out.insert(token.to_ascii_lowercase());
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_found_in_json_xml_and_text_each_once_in_lower_case() {
        let text = r#"{"email":"Ada@Example.com"}<sf:Email>bob.b+x@corp.example.org</sf:Email> ada@example.com. not@all @x.y a@b"#;
        assert_eq!(emails_in(text), ["ada@example.com", "bob.b+x@corp.example.org"]);
    }

    #[test]
    fn a_resend_has_the_same_id_and_another_body_or_context_another() {
        let at = Utc::now();
        let a = RawHook::new(HookSource::Salesloft, Some("call_created".into()), "{}".into(), at);
        let b = RawHook::new(HookSource::Salesloft, Some("call_created".into()), "{}".into(), at);
        let c = RawHook::new(HookSource::Salesloft, Some("call_updated".into()), "{}".into(), at);
        let d = RawHook::new(HookSource::Outreach, Some("call_created".into()), "{}".into(), at);
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_ne!(a.id, d.id);
        assert_eq!(a.id.len(), 32);
    }

    #[test]
    fn an_erasure_matches_by_lead_or_address() {
        let mut h = RawHook::new(
            HookSource::HubSpot,
            None,
            r#"[{"email":"ada@example.com"}]"#.into(),
            Utc::now(),
        );
        let lead = LeadId::parse("hubspot:1:2").unwrap();
        h.derived.push((lead.clone(), EventId::parse("e").unwrap()));
        assert!(h.names_any(std::slice::from_ref(&lead), &[]));
        assert!(h.names_any(&[], &["ada@example.com".into()]));
        assert!(!h.names_any(&[LeadId::parse("x").unwrap()], &["bob@example.com".into()]));
    }
}
