//! The vendor-neutral output: facts, the keys that name records, people and owners, and the
//! dedupe key every fact carries.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// Which system a fact, record, person or owner comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    HubSpot,
    Salesforce,
    Outreach,
    Salesloft,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::HubSpot => "hubspot",
            Source::Salesforce => "salesforce",
            Source::Outreach => "outreach",
            Source::Salesloft => "salesloft",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A part of a key was empty, too long, or held characters that would make the key ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} {value:?} is not an id (letters, digits, '-', '_' or '.', at most 64)")]
    Invalid { what: &'static str, value: String },
}

/// One id inside a key: 1–64 of `[A-Za-z0-9._-]`, so `:` can separate the parts unambiguously.
fn id_part(what: &'static str, value: &str) -> Result<String, IdError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(IdError::Empty { what });
    }
    let ok = v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        return Err(IdError::Invalid {
            what,
            value: v.chars().take(80).collect(),
        });
    }
    Ok(v.to_owned())
}

/// A CRM record (a HubSpot contact, a Salesforce lead or contact).
/// Renders as `hubspot:<portalId>:<objectId>` or `salesforce:<OrganizationId>:<RecordId>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    pub crm: Source,
    /// HubSpot portal id, Salesforce organization id.
    pub account: String,
    pub id: String,
}

impl RecordKey {
    pub fn new(crm: Source, account: &str, id: &str) -> Result<Self, IdError> {
        Ok(RecordKey {
            crm,
            account: id_part("account id", account)?,
            id: id_part("record id", id)?,
        })
    }
    pub fn hubspot(portal: u64, object: u64) -> Self {
        RecordKey {
            crm: Source::HubSpot,
            account: portal.to_string(),
            id: object.to_string(),
        }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.crm, self.account, self.id)
    }
}

/// Who owns a record or made a touch, in the id space of `system`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OwnerRef {
    pub system: Source,
    pub id: String,
    /// A Salesforce queue (`00G…`): the record waits in a queue, no rep has it yet.
    pub queue: bool,
    /// `id` is a display name, not an id: HubSpot's contacts export shows `Contact owner` by
    /// name, so the mapper matches it against the owners list.
    pub named: bool,
}

impl OwnerRef {
    pub fn new(system: Source, id: &str) -> Result<Self, IdError> {
        let id = id_part("owner id", id)?;
        let queue = system == Source::Salesforce && id.starts_with("00G");
        Ok(OwnerRef {
            system,
            id,
            queue,
            named: false,
        })
    }
    /// An owner known only by its display name (printable, at most 128 characters).
    pub fn by_name(system: Source, name: &str) -> Result<Self, IdError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(IdError::Empty { what: "owner name" });
        }
        if name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(IdError::Invalid {
                what: "owner name",
                value: name.chars().take(80).collect(),
            });
        }
        Ok(OwnerRef {
            system,
            id: name.to_owned(),
            queue: false,
            named: true,
        })
    }
}

/// A person a sales tool knows: any of the CRM record, the email, the tool's own id.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonRef {
    pub record: Option<RecordKey>,
    /// The CRM id as the tool stores it (Salesloft `crm_id`), without the CRM's account.
    pub crm_id: Option<String>,
    /// Lower-cased addresses.
    pub emails: Vec<String>,
    /// The tool's own id, e.g. Outreach prospect `42`, Salesloft person `4242`.
    pub tool: Option<(Source, String)>,
}

impl PersonRef {
    pub fn tool(system: Source, id: &str) -> Result<Self, IdError> {
        Ok(PersonRef {
            tool: Some((system, id_part("person id", id)?)),
            ..PersonRef::default()
        })
    }
    pub fn with_email(mut self, email: Option<&str>) -> Self {
        if let Some(e) = email.map(str::trim).filter(|e| e.contains('@')) {
            self.emails.push(e.to_ascii_lowercase());
        }
        self
    }
}

/// What a payload said happened, with no SLA meaning attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A contact/lead exists (created at `at`), with the properties the payload carried.
    Seen {
        record: RecordKey,
        at: DateTime<Utc>,
        properties: BTreeMap<String, String>,
    },
    /// The record engaged at `at` (a HubSpot workflow run on a form submission): the MQL's
    /// start, with every property the payload carried (the form, the source) for classifying.
    Engaged {
        record: RecordKey,
        at: DateTime<Utc>,
        properties: BTreeMap<String, String>,
    },
    /// The record's owner changed; `None` = unassigned.
    Owner {
        record: RecordKey,
        at: DateTime<Utc>,
        owner: Option<OwnerRef>,
    },
    /// A property changed (lifecycle stage, lead status, first-engagement date, …); `None` = cleared.
    Property {
        record: RecordKey,
        at: DateTime<Utc>,
        name: String,
        value: Option<String>,
    },
    /// Records merged into `into` (HubSpot `mergedObjectIds`).
    Merged {
        into: RecordKey,
        merged: Vec<RecordKey>,
        at: DateTime<Utc>,
    },
    /// The record was deleted (HubSpot `contact.deletion`, `contact.privacyDeletion`).
    Deleted { record: RecordKey, at: DateTime<Utc> },
    /// A sales touch from a sales-engagement tool or a CRM task.
    Touch {
        who: PersonRef,
        owner: Option<OwnerRef>,
        channel: String,
        outcome: Option<String>,
        at: DateTime<Utc>,
    },
    /// A sales tool taught who one of its people is (tool id ↔ email ↔ CRM id).
    Identified { who: PersonRef, at: DateTime<Utc> },
}

impl Fact {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Fact::Seen { at, .. }
            | Fact::Engaged { at, .. }
            | Fact::Owner { at, .. }
            | Fact::Property { at, .. }
            | Fact::Merged { at, .. }
            | Fact::Deleted { at, .. }
            | Fact::Touch { at, .. }
            | Fact::Identified { at, .. } => *at,
        }
    }
}

/// A stable idempotency key that is also a valid leadclock `event_id`: printable ASCII, no
/// spaces or `/`, at most 200 characters. Parts that could break that (free text, long values)
/// are replaced by a short SHA-256, so the key stays deterministic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DedupeKey(String);

impl DedupeKey {
    pub fn from_parts(parts: &[&str]) -> Self {
        let joined = parts.iter().map(|p| safe_part(p)).collect::<Vec<_>>().join(":");
        if joined.len() <= 200 {
            return DedupeKey(joined);
        }
        let head = safe_part(parts.first().copied().unwrap_or("key"));
        DedupeKey(format!("{head}:{}", digest(&joined)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DedupeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn safe_part(p: &str) -> String {
    let plain = p.len() <= 64 && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-@+".contains(&b));
    if plain {
        p.to_owned()
    } else {
        format!("h{}", digest(p))
    }
}

fn digest(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..12])
}

/// A fact with its dedupe key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    pub key: DedupeKey,
    pub fact: Fact,
}

/// Something in a payload that is deliberately not a fact (an unsubscribed event type, another
/// object type). The caller still answers 2xx, or the vendor retries it for a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Position in the batch (0 for single-event payloads).
    pub position: usize,
    /// The vendor's name for what was ignored (`company.creation`, `sf:Account`, …).
    pub what: String,
    pub reason: String,
}

/// What a payload yields: facts in time order, and what was ignored and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub facts: Vec<Keyed>,
    pub ignored: Vec<Ignored>,
}

impl Batch {
    pub fn push(&mut self, key: DedupeKey, fact: Fact) {
        self.facts.push(Keyed { key, fact });
    }
    pub fn ignore(&mut self, position: usize, what: &str, reason: impl Into<String>) {
        self.ignored.push(Ignored {
            position,
            what: what.to_owned(),
            reason: reason.into(),
        });
    }
    /// Vendors deliver out of order: sort by the source's time, then by key for a stable order.
    pub fn sorted(mut self) -> Self {
        self.facts
            .sort_by(|a, b| (a.fact.at(), &a.key).cmp(&(b.fact.at(), &b.key)));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_render_as_documented() {
        assert_eq!(RecordKey::hubspot(62515, 123).to_string(), "hubspot:62515:123");
        let sf = RecordKey::new(Source::Salesforce, "00D000000000001AAA", "00Q000000000001AAA").unwrap();
        assert_eq!(sf.to_string(), "salesforce:00D000000000001AAA:00Q000000000001AAA");
        assert!(RecordKey::new(Source::Salesforce, "00D:1", "x").is_err());
        assert!(RecordKey::new(Source::Salesforce, "", "x").is_err());
    }

    #[test]
    fn queues_are_flagged_only_for_salesforce() {
        assert!(OwnerRef::new(Source::Salesforce, "00G000000000001AAA").unwrap().queue);
        assert!(!OwnerRef::new(Source::Salesforce, "005000000000001AAA").unwrap().queue);
        assert!(!OwnerRef::new(Source::HubSpot, "00G1").unwrap().queue);
    }

    #[test]
    fn dedupe_keys_are_valid_event_ids() {
        let k = DedupeKey::from_parts(&["hubspot", "62515", "123", "firstname", "1", "Ada Lovelace/ä"]);
        assert!(k.as_str().starts_with("hubspot:62515:123:firstname:1:h"));
        assert!(k.as_str().bytes().all(|b| b.is_ascii_graphic() && b != b'/'));
        let long = "x".repeat(60);
        let k = DedupeKey::from_parts(&["a", &long, &long, &long, &long]);
        assert!(k.as_str().len() <= 200, "{k}");
        assert_ne!(k, DedupeKey::from_parts(&["a", &long, &long, &long, "y"]));
    }
}
