//! Sales-tool people and their leads. Outreach and Salesloft name their own prospect or person
//! (`outreach:42`), not the CRM lead: a touch is joined to a lead by the person's CRM id (a
//! Salesforce Lead id under a configured org) or by email (the lead's form contact). What the
//! tools teach about their people ([`Identity`]) is kept by the store; a touch whose lead is not
//! known yet is held ([`HeldTouch`]), never dropped, and stored as the lead's event when its
//! person is identified or the lead's form arrives.
//!
//! A released touch is the event it would have been on arrival (same id, same time), so the
//! lead's state does not depend on which came first.

use crate::error::{IngestError, PortError};
use crate::ports::{Clock, EventStore, Identities, LeadIndex, Notifier, PersonalData, StepLog, Timers, WriteBacks};
use crate::App;
use chrono::{DateTime, Utc};
use leadclock_crm::salesforce::SalesforceId;
pub use leadclock_crm::Source;
use leadclock_domain::event::Touch;
use leadclock_domain::{Event, EventBody, EventId, LeadId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A sales tool's person: `outreach:<prospect id>`, `salesloft:<person id>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ToolPerson(String);

impl ToolPerson {
    /// A tool's person id as the tool names it (letters, digits, `-`, `_`, `.`; at most 64).
    pub fn new(tool: Source, id: &str) -> Result<Self, String> {
        if !matches!(tool, Source::Outreach | Source::Salesloft) {
            return Err(format!("{tool} is a CRM, not a sales tool"));
        }
        let ok =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            return Err(format!("{id:?} is not a {tool} person id"));
        }
        Ok(ToolPerson(format!("{tool}:{id}")))
    }

    /// A stored `tool:id` back to a person.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (tool, id) = s.split_once(':').ok_or_else(|| format!("{s:?} is not tool:id"))?;
        let tool = match tool {
            "outreach" => Source::Outreach,
            "salesloft" => Source::Salesloft,
            other => return Err(format!("{other:?} is not a sales tool")),
        };
        Self::new(tool, id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ToolPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ToolPerson {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<ToolPerson> for String {
    fn from(p: ToolPerson) -> String {
        p.0
    }
}

/// What the tools taught about a person: lower-cased emails, and the CRM ids the tool stores
/// for them (Salesloft's `crm_id`: a Salesforce Lead or Contact id, a HubSpot contact id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub emails: BTreeSet<String>,
    pub crm_ids: BTreeSet<String>,
}

/// One thing that identifies a person, as a store indexes it: `email:<address>`, `crm:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityKey {
    Email(String),
    Crm(String),
}

impl IdentityKey {
    /// The stored form (`email:a@example.com`).
    pub fn stored(&self) -> String {
        match self {
            IdentityKey::Email(e) => format!("email:{e}"),
            IdentityKey::Crm(c) => format!("crm:{c}"),
        }
    }

    pub fn parse(s: &str) -> Option<IdentityKey> {
        match s.split_once(':')? {
            ("email", e) => Some(IdentityKey::Email(e.to_owned())),
            ("crm", c) => Some(IdentityKey::Crm(c.to_owned())),
            _ => None,
        }
    }
}

impl Identity {
    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.crm_ids.is_empty()
    }

    /// `emails` lower-cased and trimmed (the form a store indexes), the blank ones left out.
    pub fn of(emails: &[String], crm_id: Option<&str>) -> Self {
        Identity {
            emails: emails
                .iter()
                .map(|e| normal_email(e))
                .filter(|e| e.contains('@'))
                .collect(),
            crm_ids: crm_id
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .into_iter()
                .collect(),
        }
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<IdentityKey> {
        let emails = self.emails.iter().cloned().map(IdentityKey::Email);
        emails
            .chain(self.crm_ids.iter().cloned().map(IdentityKey::Crm))
            .collect()
    }

    /// The identity stored keys make (unknown keys are left out).
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out = Identity::default();
        for k in keys.into_iter().filter_map(IdentityKey::parse) {
            match k {
                IdentityKey::Email(e) => out.emails.insert(e),
                IdentityKey::Crm(c) => out.crm_ids.insert(c),
            };
        }
        out
    }
}

/// The form both sides of an email join use: trimmed, ASCII lower-cased (as SQLite's `lower()`).
pub fn normal_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// A touch waiting for its person's lead: the event it becomes, without the lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldTouch {
    pub person: ToolPerson,
    pub event_id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub touch: Touch,
}

impl HeldTouch {
    pub fn event_for(&self, lead: LeadId) -> Event {
        Event::new(
            self.event_id.clone(),
            lead,
            self.occurred_at,
            EventBody::Touch(self.touch.clone()),
        )
    }
}

/// A tool's delivery, mapped: the people it identified and the touches that name a tool person.
#[derive(Debug, Clone, Default)]
pub struct ToolFacts {
    pub identified: Vec<(ToolPerson, Identity)>,
    pub touches: Vec<(HeldTouch, Identity)>,
}

/// What a tool's delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Joined {
    /// Touches stored on their leads (this delivery's and earlier held ones now known).
    pub stored: usize,
    /// Touches held until their person's lead is known.
    pub held: usize,
    pub people_identified: usize,
}

/// Of the leads an email or CRM id names, the one a touch at `at` answers: the latest engaged
/// at or before the touch, else the earliest engaged (a touch ahead of a delayed form), else
/// the first id. Deterministic for a given store, so a retried delivery picks the same lead.
fn pick(mut candidates: Vec<(LeadId, Option<DateTime<Utc>>)>, at: DateTime<Utc>) -> Option<LeadId> {
    candidates.sort();
    let before = candidates
        .iter()
        .filter(|(_, e)| e.is_some_and(|e| e <= at))
        .max_by_key(|(_, e)| *e);
    let earliest = candidates.iter().filter(|(_, e)| e.is_some()).min_by_key(|(_, e)| *e);
    before.or(earliest).or(candidates.first()).map(|(id, _)| id.clone())
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex + StepLog + PersonalData + Identities + WriteBacks,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    /// Learns the delivery's people, stores each touch on its lead or holds it, then releases
    /// what the people learned now make known. Everything is durable when this returns `Ok`.
    pub async fn receive_tool_facts(&self, facts: &ToolFacts, orgs: &[SalesforceId]) -> Result<Joined, IngestError> {
        let mut out = Joined::default();
        for (person, identity) in &facts.identified {
            self.store.learn(person, identity).await.map_err(IngestError::Store)?;
            out.people_identified += 1;
        }
        let mut events = Vec::new();
        for (held, identity) in &facts.touches {
            if !identity.is_empty() {
                self.store
                    .learn(&held.person, identity)
                    .await
                    .map_err(IngestError::Store)?;
            }
            match self
                .lead_of(&held.person, held.occurred_at, orgs)
                .await
                .map_err(IngestError::Store)?
            {
                Some(lead) => events.push(held.event_for(lead)),
                None => {
                    self.store.hold(held).await.map_err(IngestError::Store)?;
                    tracing::info!(person = %held.person, "touch held until its person's lead is known");
                    out.held += 1;
                }
            }
        }
        out.stored += self.store_touches(&events).await.map_err(IngestError::Store)?.len();
        for person in facts.identified.iter().map(|(p, _)| p).collect::<BTreeSet<_>>() {
            out.stored += self.release_held(person, orgs).await.map_err(IngestError::Store)?.len();
        }
        Ok(out)
    }

    /// The lead a person's touch at `at` belongs to, if one is known: by CRM id, then email.
    async fn lead_of(
        &self,
        person: &ToolPerson,
        at: DateTime<Utc>,
        orgs: &[SalesforceId],
    ) -> Result<Option<LeadId>, PortError> {
        let identity = self.store.identity(person).await?;
        let mut candidates = BTreeSet::new();
        for crm_id in &identity.crm_ids {
            // A lead may be keyed by either form of each id (messages write 18 characters,
            // report exports 15), and a setting or a tool may give either.
            let ids = SalesforceId::parse(crm_id).map_or_else(|_| vec![crm_id.clone()], |id| id.written_forms());
            for org in orgs.iter().flat_map(SalesforceId::written_forms) {
                let keys = ids.iter().map(|id| LeadId::parse(&format!("salesforce:{org}:{id}")));
                candidates.extend(keys.flatten());
            }
        }
        let mut known = Vec::new();
        for lead in candidates {
            if let Some(summary) = self.store.summary(&lead).await? {
                known.push((lead, summary.first_engaged_at));
            }
        }
        if let Some(lead) = pick(known, at) {
            return Ok(Some(lead));
        }
        let mut by_email = BTreeSet::new();
        for email in &identity.emails {
            by_email.extend(self.store.leads_by_contact(email).await?);
        }
        let mut known = Vec::new();
        for lead in by_email {
            let engaged = self.store.summary(&lead).await?.and_then(|s| s.first_engaged_at);
            known.push((lead, engaged));
        }
        Ok(pick(known, at))
    }

    /// Stores touches (new ids only) and reconciles their leads: the lead of each new one.
    async fn store_touches(&self, events: &[Event]) -> Result<Vec<LeadId>, PortError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let appended = self.store.append_batch(events).await?;
        for (e, a) in events.iter().zip(&appended) {
            if let crate::ports::Appended::Full { limit } = a {
                tracing::warn!(lead_id = %e.lead_id, event_id = %e.event_id, limit, "touch not stored: the lead is at its event cap");
            }
        }
        let new: Vec<LeadId> = events
            .iter()
            .zip(&appended)
            .filter(|(_, a)| matches!(a, crate::ports::Appended::New))
            .map(|(e, _)| e.lead_id.clone())
            .collect();
        for lead in new.iter().collect::<BTreeSet<_>>() {
            if let Err(e) = self.reconcile(lead).await {
                tracing::warn!(lead_id = %lead, error = %e, "touch stored, but could not reconcile; the sweep will");
            }
        }
        Ok(new)
    }

    /// Stores the touches held for `person` whose lead is now known: the lead of each.
    pub async fn release_held(&self, person: &ToolPerson, orgs: &[SalesforceId]) -> Result<Vec<LeadId>, PortError> {
        let held = self.store.held(person).await?;
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        for h in &held {
            if let Some(lead) = self.lead_of(person, h.occurred_at, orgs).await? {
                events.push(h.event_for(lead));
            }
        }
        let stored = self.store_touches(&events).await?;
        // Stored first, released after: a crash between the two leaves a held copy whose
        // release stores nothing new (same event id).
        let ids: Vec<EventId> = events.iter().map(|e| e.event_id.clone()).collect();
        self.store.release(person, &ids).await?;
        if !ids.is_empty() {
            tracing::info!(%person, touches = ids.len(), "held touches released to their lead");
        }
        Ok(stored)
    }

    /// New forms were stored: the touches held for the people they identify (by contact email,
    /// or by the Salesforce Lead id a tool knows the person by) may now have their lead.
    /// Failures are logged, not returned: the forms are stored, and the held touches are
    /// released again by the next person event or form. The leads that got touches.
    pub(crate) async fn release_for_forms(&self, events: &[Event]) -> BTreeSet<LeadId> {
        let (keys, orgs) = form_keys(events);
        let mut people = BTreeSet::new();
        for key in &keys {
            match self.store.people_with(key).await {
                Ok(p) => people.extend(p),
                Err(e) => tracing::warn!(error = %e, "could not look up held touches for a new form"),
            }
        }
        let mut leads = BTreeSet::new();
        for person in people {
            match self.release_held(&person, &orgs).await {
                Ok(l) => leads.extend(l),
                Err(e) => tracing::warn!(%person, error = %e, "could not release held touches"),
            }
        }
        leads
    }
}

/// What the new forms among `events` identify people by (contact emails, Salesforce record
/// ids), and the Salesforce orgs their leads are in.
fn form_keys(events: &[Event]) -> (BTreeSet<IdentityKey>, Vec<SalesforceId>) {
    let forms: Vec<&Event> = events.iter().filter(|e| matches!(e.body, EventBody::Form(_))).collect();
    let mut keys: BTreeSet<IdentityKey> = contact_emails(forms.iter().copied())
        .into_iter()
        .map(IdentityKey::Email)
        .collect();
    let mut orgs = BTreeSet::new();
    for e in &forms {
        let mut parts = e.lead_id.as_str().splitn(3, ':');
        if let (Some("salesforce"), Some(org), Some(id)) = (parts.next(), parts.next(), parts.next()) {
            keys.insert(IdentityKey::Crm(id.to_owned()));
            if let Ok(org) = SalesforceId::parse(org) {
                orgs.insert(org);
            }
        }
    }
    (keys, orgs.into_iter().collect())
}

/// The contact emails the forms among `events` give.
pub fn contact_emails<'a>(events: impl IntoIterator<Item = &'a Event>) -> BTreeSet<String> {
    events
        .into_iter()
        .filter_map(|e| match &e.body {
            EventBody::Form(f) => f.contact.as_ref().and_then(|c| c.email.as_deref()),
            _ => None,
        })
        .map(normal_email)
        .filter(|e| e.contains('@'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }
    fn lead(s: &str) -> LeadId {
        LeadId::parse(s).unwrap()
    }

    #[test]
    fn a_touch_answers_the_latest_lead_engaged_before_it() {
        let c = vec![
            (lead("b"), Some(t("2026-11-02T00:00:00Z"))),
            (lead("a"), Some(t("2026-11-01T00:00:00Z"))),
            (lead("c"), Some(t("2026-11-09T00:00:00Z"))),
        ];
        assert_eq!(pick(c.clone(), t("2026-11-05T00:00:00Z")), Some(lead("b")));
        assert_eq!(
            pick(c, t("2026-10-01T00:00:00Z")),
            Some(lead("a")),
            "ahead of every form: the earliest"
        );
        assert_eq!(
            pick(vec![(lead("z"), None), (lead("y"), None)], t("2026-10-01T00:00:00Z")),
            Some(lead("y"))
        );
        assert_eq!(pick(vec![], t("2026-10-01T00:00:00Z")), None);
    }

    #[test]
    fn tool_people_parse_back_and_refuse_what_is_not_an_id() {
        let p = ToolPerson::new(Source::Outreach, "42").unwrap();
        assert_eq!(ToolPerson::parse(p.as_str()).unwrap(), p);
        assert!(ToolPerson::new(Source::HubSpot, "42").is_err());
        assert!(ToolPerson::new(Source::Salesloft, "a b").is_err());
        assert!(ToolPerson::parse("salesforce:1").is_err());
        assert_eq!(
            Identity::of(&[" A@Example.com ".into(), "nope".into()], Some(" ")),
            Identity {
                emails: ["a@example.com".to_owned()].into(),
                crm_ids: BTreeSet::new()
            }
        );
    }
}
