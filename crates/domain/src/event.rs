//! Events: the only input to a lead's state. Identifiers and names are parsed once, here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Why a field was refused; the caller adds the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

macro_rules! id_newtype {
    ($name:ident, $max:expr, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Printable ASCII without spaces or `/`, 1 to
            #[doc = stringify!($max)]
            /// characters: safe in URLs, keys and log lines.
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                let s = s.trim();
                if s.is_empty() {
                    return Err(Invalid(concat!($what, " must not be empty").into()));
                }
                if s.len() > $max {
                    return Err(Invalid(format!(
                        concat!($what, " must be at most {} characters"),
                        $max
                    )));
                }
                if !s.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
                    return Err(Invalid(
                        concat!($what, " may hold only printable ASCII without spaces or '/'").into(),
                    ));
                }
                Ok(Self(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_newtype!(LeadId, 128, "lead id");
id_newtype!(EventId, 200, "event id");

/// Lifecycle stages a `stage` event may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageChange {
    Sal,
    Rejected,
    Sql,
    Opportunity,
    Won,
    Lost,
    Disqualified,
    Nurture,
}

impl StageChange {
    pub const ALL: [StageChange; 8] = [
        Self::Sal,
        Self::Rejected,
        Self::Sql,
        Self::Opportunity,
        Self::Won,
        Self::Lost,
        Self::Disqualified,
        Self::Nurture,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim().to_ascii_lowercase())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sal => "sal",
            Self::Rejected => "rejected",
            Self::Sql => "sql",
            Self::Opportunity => "opportunity",
            Self::Won => "won",
            Self::Lost => "lost",
            Self::Disqualified => "disqualified",
            Self::Nurture => "nurture",
        }
    }
}

/// Which SLA clock an escalation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Engagement to first assignment: systems delay, owned by ops.
    Assignment,
    /// First assignment to first qualifying touch: human delay, owned by sales.
    Response,
}

impl ClockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assignment => "assignment",
            Self::Response => "response",
        }
    }
}

/// The person behind a form. Never printed: `Debug` redacts it.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Contact(<redacted>)")
    }
}

/// The lead type a form gets when a classification rule excludes the lead from every SLA.
pub const EXCLUDED_TYPE: &str = "excluded";
/// The lead type a form gets when it names none and no rule matched (imports and CRM hooks
/// keep such leads, and reports list them so the rules can be fixed).
pub const UNCLASSIFIED_TYPE: &str = "unclassified";

/// How a form's lead type was decided, when the sender did not name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Classified {
    /// A policy rule gave the lead type.
    Rule { rule: String },
    /// A policy rule took the lead out of every SLA: never clocked, counted apart.
    Excluded { rule: String, reason: String },
    /// No lead type given and no rule matched.
    Unclassified,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Form {
    /// The policy's lead type; [`EXCLUDED_TYPE`] or [`UNCLASSIFIED_TYPE`] per `classified`.
    pub lead_type: String,
    /// Absent when the sender named the lead type itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classified: Option<Classified>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Extra facts from the sender, kept as JSON text and never interpreted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Set when the form's personal data was erased: the event whose facts this form shared
    /// before the erasure (the smallest id among them). Forms that were one fact stay one and
    /// forms that told two apart only by their contact or attributes stay two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_fact: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub stage: StageChange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A correction: the event `target` was wrong (a touch logged on the wrong lead, a mistaken
/// assignment). The fold ignores the target from then on; the timeline keeps both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Void {
    pub target: EventId,
    pub reason: String,
}

/// CRM records merged into one (HubSpot `mergedObjectIds`): stored on the surviving lead and
/// on each merged one. The surviving lead's timeline is the union of all of theirs
/// ([`crate::merge::union`]); a merged lead folds to nothing but a pointer to the survivor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    pub into: LeadId,
    pub merged: Vec<LeadId>,
}

/// How escalations were recorded before step outcomes existed: a claim stored as an event.
/// Stores written by earlier releases still hold these; the fold ignores them and the
/// handlers turn each into a `delivered` step record once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalated {
    pub cycle: u32,
    pub clock: ClockKind,
    pub step: u32,
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// Boxed: a form carries the lead's facts and is four times the size of the rest.
    Form(Box<Form>),
    Assignment(Assignment),
    Touch(Touch),
    Stage(Stage),
    Void(Void),
    /// Legacy only: never written by this release.
    Escalated(Escalated),
    Merge(Merge),
}

impl EventBody {
    /// Every [`EventBody::kind`].
    pub const KINDS: [&'static str; 7] = ["form", "assignment", "touch", "stage", "void", "escalated", "merge"];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Form(_) => "form",
            Self::Assignment(_) => "assignment",
            Self::Touch(_) => "touch",
            Self::Stage(_) => "stage",
            Self::Void(_) => "void",
            Self::Escalated(_) => "escalated",
            Self::Merge(_) => "merge",
        }
    }

    /// Tie-break for events at the same instant: the handoff's natural order.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Form(_) => 0,
            Self::Assignment(_) => 1,
            Self::Touch(_) => 2,
            Self::Stage(_) => 3,
            Self::Void(_) => 4,
            Self::Escalated(_) => 5,
            Self::Merge(_) => 6,
        }
    }
}

/// Whether an event is news or history. History (imports, `"history": true`) never pages
/// anyone; it is measured like any other event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    #[default]
    Live,
    History,
}

impl Origin {
    pub fn is_live(&self) -> bool {
        *self == Origin::Live
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub event_id: EventId,
    pub lead_id: LeadId,
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: EventBody,
    /// Live (the default) or history.
    #[serde(default, skip_serializing_if = "Origin::is_live")]
    pub origin: Origin,
    /// The event this one replaces: the fold ignores the replaced one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<EventId>,
    /// Fields the sender added that leadclock does not know, kept as JSON text, never interpreted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    /// When this event's personal data was erased ([`Event::erased`]): an erasure request or
    /// the retention period. Absent on every event that still holds what its sender sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
}

impl Event {
    /// A live event with nothing extra: the common case for tests and adapters.
    pub fn new(event_id: EventId, lead_id: LeadId, occurred_at: DateTime<Utc>, body: EventBody) -> Event {
        Event {
            event_id,
            lead_id,
            occurred_at,
            body,
            origin: Origin::Live,
            supersedes: None,
            extra: BTreeMap::new(),
            erased_at: None,
        }
    }

    /// Whether the event holds personal data: a form's contact or attributes, or fields the
    /// sender added that leadclock does not know (they may name anyone).
    pub fn holds_personal_data(&self) -> bool {
        let form = match &self.body {
            EventBody::Form(f) => f.contact.is_some() || !f.attributes.is_empty(),
            _ => false,
        };
        form || !self.extra.is_empty()
    }

    /// The event without its personal data, marked erased at `at`, a form keeping `fact` (see
    /// [`Form::erased_fact`]); `None` when it holds none. What the fold reads (ids, instants,
    /// lead type, source, region, owners, stages) stays, so the timeline and every metric are
    /// unchanged. [`erase_personal_data`] picks `fact` for each of a lead's events.
    pub fn erased(&self, at: DateTime<Utc>, fact: &EventId) -> Option<Event> {
        if !self.holds_personal_data() {
            return None;
        }
        let mut e = self.clone();
        e.strip_personal_data();
        if let EventBody::Form(f) = &mut e.body {
            f.erased_fact = Some(fact.clone());
        }
        e.erased_at = Some(at);
        Some(e)
    }

    /// `self` as it would be stored after `stored`'s erasure: the same event resent after its
    /// personal data was erased compares equal to what is stored.
    pub fn as_erased_like(&self, stored: &Event) -> Event {
        let mut e = self.clone();
        if stored.erased_at.is_some() {
            e.strip_personal_data();
            e.erased_at = stored.erased_at;
            if let (EventBody::Form(f), EventBody::Form(s)) = (&mut e.body, &stored.body) {
                f.erased_fact.clone_from(&s.erased_fact);
            }
        }
        e
    }

    fn strip_personal_data(&mut self) {
        if let EventBody::Form(f) = &mut self.body {
            f.contact = None;
            f.attributes.clear();
        }
        self.extra.clear();
    }

    /// The event this one takes out of the fold, if any.
    pub fn voids(&self) -> Option<&EventId> {
        match &self.body {
            EventBody::Void(v) => Some(&v.target),
            _ => self.supersedes.as_ref(),
        }
    }

    /// Whether two events say the same thing, whatever their ids, origins or unknown fields:
    /// the fold keeps one of them. An erased form compares by the fact it was
    /// ([`Form::erased_fact`]), so an erasure changes no answer.
    pub fn same_fact(&self, other: &Event) -> bool {
        self.occurred_at == other.occurred_at && self.body == other.body && self.supersedes == other.supersedes
    }

    /// Fold order: time, then the handoff's order, then id, so every arrival order agrees.
    pub fn sort_key(&self) -> (DateTime<Utc>, u8, &str) {
        (self.occurred_at, self.body.rank(), self.event_id.as_str())
    }
}

/// One lead's `events` rewritten without their personal data at `at`: only the events that
/// held some. Forms that were one fact (same instant, body and correction) share the smallest
/// of their ids as [`Form::erased_fact`]; forms told apart only by personal data get their own,
/// so the fold reads the erased events exactly as it read them before.
pub fn erase_personal_data(events: &[Event], at: DateTime<Utc>) -> Vec<Event> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    let mut facts: Vec<&Event> = Vec::new();
    let mut out = Vec::new();
    for e in sorted {
        let fact = match facts.iter().find(|f| f.same_fact(e)) {
            Some(f) => &f.event_id,
            None => {
                facts.push(e);
                &e.event_id
            }
        };
        out.extend(e.erased(at, fact));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(LeadId::parse("00Q5e00000AbCdE").is_ok());
        assert!(LeadId::parse("hubspot:12345").is_ok());
        assert!(LeadId::parse("").is_err());
        assert!(LeadId::parse("a/b").is_err());
        assert!(LeadId::parse("a b").is_err());
        assert!(LeadId::parse("é").is_err());
        assert!(LeadId::parse(&"x".repeat(129)).is_err());
        assert_eq!(LeadId::parse("  L-1 ").unwrap().as_str(), "L-1");
    }

    #[test]
    fn stages_parse() {
        assert_eq!(StageChange::parse("SAL"), Some(StageChange::Sal));
        assert_eq!(StageChange::parse("mql"), None);
        for s in StageChange::ALL {
            assert_eq!(StageChange::parse(s.as_str()), Some(s));
        }
    }

    fn form_with_contact() -> Event {
        let at = DateTime::parse_from_rfc3339("2026-11-23T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut e = Event::new(
            EventId::parse("form-1").unwrap(),
            LeadId::parse("L-1").unwrap(),
            at,
            EventBody::Form(Box::new(Form {
                lead_type: "demo_request".into(),
                source: Some("webinar".into()),
                contact: Some(Contact {
                    name: Some("Ada".into()),
                    email: Some("ada@example.com".into()),
                    company: None,
                }),
                attributes: BTreeMap::from([("utm".to_owned(), "x".to_owned())]),
                ..Form::default()
            })),
        );
        e.extra.insert("phone".into(), "\"555\"".into());
        e
    }

    fn with_id(e: &Event, id: &str) -> Event {
        let mut e = e.clone();
        e.event_id = EventId::parse(id).unwrap();
        e
    }

    #[test]
    fn erasure_takes_personal_data_and_keeps_the_facts() {
        let e = form_with_contact();
        let at = e.occurred_at + chrono::Duration::days(1);
        let erased = erase_personal_data(std::slice::from_ref(&e), at);
        let [erased] = erased.as_slice() else {
            panic!("one event held personal data")
        };
        assert!(!erased.holds_personal_data());
        assert_eq!(erased.erased_at, Some(at));
        let EventBody::Form(f) = &erased.body else {
            panic!("a form")
        };
        assert_eq!(
            (f.lead_type.as_str(), f.source.as_deref()),
            ("demo_request", Some("webinar"))
        );
        assert!(f.contact.is_none() && f.attributes.is_empty() && erased.extra.is_empty());
        // Erasing again changes nothing.
        assert!(erase_personal_data(std::slice::from_ref(erased), at).is_empty());
        // The same event resent after the erasure compares equal to what is stored…
        assert_eq!(e.as_erased_like(erased), *erased);
        // …and an event that was never erased compares as sent.
        assert_eq!(e.as_erased_like(&e), e);
    }

    /// Whatever the fold de-duplicated before an erasure it de-duplicates after, and nothing
    /// more: forms told apart only by their contact or attributes stay two facts.
    #[test]
    fn erasure_keeps_which_forms_were_one_fact() {
        let a = form_with_contact();
        let same = with_id(&a, "form-2");
        let mut other = with_id(&a, "form-3");
        if let EventBody::Form(f) = &mut other.body {
            f.attributes.insert("form_name".into(), "pricing".into());
        }
        let events = [a.clone(), same.clone(), other.clone()];
        let facts = |es: &[Event]| {
            let mut pairs = Vec::new();
            for (i, x) in es.iter().enumerate() {
                for y in &es[i + 1..] {
                    pairs.push(x.same_fact(y));
                }
            }
            pairs
        };
        let before = facts(&events);
        assert_eq!(before, [true, false, false]);
        let erased = erase_personal_data(&events, a.occurred_at);
        assert_eq!(erased.len(), 3);
        assert_eq!(facts(&erased), before);
    }

    #[test]
    fn contact_is_redacted_in_debug() {
        let c = Contact {
            name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            company: None,
        };
        let dbg = format!(
            "{:?}",
            Form {
                contact: Some(c),
                ..Default::default()
            }
        );
        assert!(!dbg.contains("ada@example.com") && !dbg.contains("Ada"));
    }
}
