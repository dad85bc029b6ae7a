//! CRM facts to domain events: what a HubSpot or Salesforce record's history means for the
//! SLA. One mapper for every CRM path (exports now; the vendors' webhooks use the same rules).
//!
//! | fact | event |
//! |---|---|
//! | HubSpot `lifecyclestage` becomes `marketingqualifiedlead` | form (the lead engages), with the record's properties |
//! | Salesforce Lead created | form: a Salesforce Lead is an inbound lead from its creation |
//! | a HubSpot workflow run (form submission) | form, with the contact's properties |
//! | owner set (not a Salesforce queue) | assignment |
//! | HubSpot `hs_sa_first_engagement_date`, a completed Salesforce Task | touch |
//! | HubSpot `lifecyclestage` `salesqualifiedlead` / `opportunity` | stage `sql` / `opportunity` |
//! | HubSpot `hs_lead_status`, Salesforce `Status` | the stage the policy's `[crm]` maps give the value (by default `IN_PROGRESS`, `CONNECTED`, `OPEN_DEAL` / `UNQUALIFIED`; `Working - Contacted` / `Closed - Not Converted` / `Qualified`, `Closed - Converted` → `sal` / `rejected` / `sql`) |
//! | Salesforce `leadConverted` | stage `sql` |
//!
//! | an Outreach prospect's or Salesloft person's touch (no CRM record) | held for [`crate::identity`] to join to its lead |
//!
//! Everything else is skipped with its reason (never silently): other properties, unassigned
//! owners, queues, merges, deletions, touches that name neither a CRM record nor a tool's person. A lead's id is its record
//! (`hubspot:<portal>:<id>`, `salesforce:<org>:<id>`); each event's id is the fact's dedupe key,
//! so importing the same export twice changes nothing. The lead type comes from the policy's
//! `[[classify]]` rules over the record's properties (`properties.NAME`); a lead no rule types
//! is kept as `unclassified` and reported.

use super::classify::{self, Untyped};
use super::leadclock_json::{MAX_FUTURE_SKEW, MAX_PAST};
use crate::identity::{HeldTouch, Identity, ToolFacts, ToolPerson};
use chrono::{DateTime, Utc};
use leadclock_crm::{Batch, Fact, Keyed, OwnerRef, PersonRef, RecordKey, Source};
use leadclock_domain::event::{Assignment, Contact, Form, Merge, Stage, Touch};
use leadclock_domain::{Event, EventBody, EventId, LeadId, Origin, Policy, StageChange};
use std::collections::BTreeMap;

/// A fact that became no event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

/// The events a batch of facts means, what was skipped, and the sales tools' facts that need
/// the store to find their lead ([`crate::identity`]).
#[derive(Debug, Clone, Default)]
pub struct Mapped {
    pub events: Vec<Event>,
    pub skipped: Vec<Skipped>,
    pub tools: ToolFacts,
}

/// The touch channel HubSpot's "Date of first engagement" becomes: HubSpot does not say which
/// activity it was, so the policy decides whether it counts (`[touches] channels`).
pub const CRM_ACTIVITY_CHANNEL: &str = "activity";

/// Maps every fact of `batch` (all the files of one import, or one webhook delivery), as of
/// `now`: a fact dated outside the JSON API's window is skipped, as that API refuses it.
pub fn map(batch: &Batch, policy: &Policy, origin: Origin, now: DateTime<Utc>) -> Mapped {
    let snapshots = snapshots(batch);
    let superseded = superseded_owners(batch);
    let mut out = Mapped::default();
    for keyed in &batch.facts {
        if let Err(reason) = within_window(keyed.fact.at(), now) {
            out.skipped.push(Skipped {
                key: keyed.key.to_string(),
                reason,
            });
            continue;
        }
        if superseded.contains(&keyed.key) {
            out.skipped.push(Skipped {
                key: keyed.key.to_string(),
                reason: "the export's current owner, not the first: the record's owner history says who had it".into(),
            });
            continue;
        }
        match tool_fact(keyed, policy, &mut out.tools) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(reason) => {
                out.skipped.push(Skipped {
                    key: keyed.key.to_string(),
                    reason,
                });
                continue;
            }
        }
        if let Fact::Merged { into, merged, at } = &keyed.fact {
            match merge_events(keyed, into, merged, *at) {
                Ok(events) => out.events.extend(events.into_iter().map(|mut e| {
                    e.origin = origin;
                    e
                })),
                Err(reason) => out.skipped.push(Skipped {
                    key: keyed.key.to_string(),
                    reason,
                }),
            }
            continue;
        }
        match event_of(keyed, &snapshots, policy, now) {
            Ok(mut event) => {
                event.origin = origin;
                out.events.push(event);
            }
            Err(reason) => out.skipped.push(Skipped {
                key: keyed.key.to_string(),
                reason,
            }),
        }
    }
    out
}

/// A sales tool's person identified, or a touch that names a tool's person and no CRM record:
/// added to `tools` (`true`), for the store to join to a lead. `false` for every other fact.
/// A CRM's clock or a forged date may say anything: outside the window the JSON API accepts,
/// a date would stretch calendars over millennia (or past what a timestamp holds).
fn within_window(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if at > now + MAX_FUTURE_SKEW {
        Err(format!("dated {at}, more than 1 hour in the future"))
    } else if at < now - MAX_PAST {
        Err(format!("dated {at}, more than 3 years in the past"))
    } else {
        Ok(())
    }
}

fn tool_fact(keyed: &Keyed, policy: &Policy, tools: &mut ToolFacts) -> Result<bool, String> {
    let person = |who: &PersonRef| match &who.tool {
        Some((tool, id)) => ToolPerson::new(*tool, id).map(Some),
        None => Ok(None),
    };
    match &keyed.fact {
        Fact::Identified { who, .. } => {
            let p = person(who)?.ok_or("an identity that names no sales-tool person")?;
            tools
                .identified
                .push((p, Identity::of(&who.emails, who.crm_id.as_deref())));
            Ok(true)
        }
        Fact::Touch {
            who,
            owner,
            channel,
            outcome,
            at,
        } if who.record.is_none() => {
            let p = person(who)?.ok_or("the touch names no CRM record and no sales-tool person")?;
            let held = HeldTouch {
                person: p,
                event_id: EventId::parse(keyed.key.as_str()).map_err(|e| e.0)?,
                occurred_at: *at,
                touch: touch(owner.as_ref(), channel, outcome.as_deref(), policy),
            };
            tools
                .touches
                .push((held, Identity::of(&who.emails, who.crm_id.as_deref())));
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// A merge, stored on the surviving record's lead and on each merged one under the same id:
/// the survivor's timeline then reads theirs ([`leadclock_domain::merge`]), in any arrival order.
fn merge_events(
    keyed: &Keyed,
    into: &RecordKey,
    merged: &[RecordKey],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Event>, String> {
    let lead = |r: &RecordKey| LeadId::parse(&r.to_string()).map_err(|e| e.0);
    if merged.is_empty() {
        return Err("a merge naming no merged record".into());
    }
    let body = EventBody::Merge(Merge {
        into: lead(into)?,
        merged: merged.iter().map(lead).collect::<Result<_, _>>()?,
    });
    let id = EventId::parse(keyed.key.as_str()).map_err(|e| e.0)?;
    std::iter::once(into)
        .chain(merged)
        .map(|r| Ok(Event::new(id.clone(), lead(r)?, at, body.clone())))
        .collect()
}

fn touch(owner: Option<&OwnerRef>, channel: &str, outcome: Option<&str>, policy: &Policy) -> Touch {
    Touch {
        owner: owner.map(|o| owner_name(o, policy)),
        channel: channel.to_ascii_lowercase(),
        outcome: outcome.map(str::to_ascii_lowercase),
    }
}

/// Owner facts at a record's creation that its owner history contradicts. A Salesforce Lead
/// export names the *current* owner, which the record mapping dates at creation; when the same
/// import carries the record's later owner changes (LeadHistory), the lead was not that
/// owner's at creation (it sat in a queue, or another rep had it).
fn superseded_owners(batch: &Batch) -> std::collections::BTreeSet<&leadclock_crm::DedupeKey> {
    let mut created: BTreeMap<&RecordKey, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    for k in &batch.facts {
        if let Fact::Seen { record, at, .. } = &k.fact {
            let e = created.entry(record).or_insert(*at);
            *e = (*e).min(*at);
        }
    }
    let changed_later: std::collections::BTreeSet<&RecordKey> = batch
        .facts
        .iter()
        .filter_map(|k| match &k.fact {
            Fact::Owner { record, at, .. } if created.get(record).is_some_and(|c| at > c) => Some(record),
            _ => None,
        })
        .collect();
    batch
        .facts
        .iter()
        .filter(|k| match &k.fact {
            Fact::Owner { record, at, .. } => changed_later.contains(record) && created.get(record) == Some(at),
            _ => false,
        })
        .map(|k| &k.key)
        .collect()
}

/// Every property each record was seen with, merged (later snapshots win).
fn snapshots(batch: &Batch) -> BTreeMap<&RecordKey, BTreeMap<String, String>> {
    let mut out: BTreeMap<&RecordKey, BTreeMap<String, String>> = BTreeMap::new();
    for k in &batch.facts {
        if let Fact::Seen { record, properties, .. } | Fact::Engaged { record, properties, .. } = &k.fact {
            out.entry(record).or_default().extend(properties.clone());
        }
    }
    out
}

type Snapshots<'a> = BTreeMap<&'a RecordKey, BTreeMap<String, String>>;

fn event_of(keyed: &Keyed, snapshots: &Snapshots, policy: &Policy, now: DateTime<Utc>) -> Result<Event, String> {
    let (record, at, body) = match &keyed.fact {
        Fact::Seen { record, at, .. } if record.crm == Source::Salesforce => {
            (record, *at, EventBody::Form(Box::new(form(record, snapshots, policy)?)))
        }
        Fact::Seen { .. } => return Err("a HubSpot contact engages when it becomes an MQL, not when created".into()),
        Fact::Engaged { record, at, .. } => (record, *at, EventBody::Form(Box::new(form(record, snapshots, policy)?))),
        Fact::Owner { record, at, owner } => (record, *at, assignment(owner.as_ref(), policy)?),
        Fact::Property {
            record,
            at,
            name,
            value,
        } => {
            let value = value.as_deref().ok_or_else(|| format!("{name} cleared"))?;
            let body = property(record, name, value, snapshots, policy)?;
            (record, touched_at(name, value, *at, now), body)
        }
        Fact::Touch {
            who,
            owner,
            channel,
            outcome,
            at,
        } => {
            let record = who.record.as_ref().ok_or("the touch names no CRM record")?;
            let body = EventBody::Touch(touch(owner.as_ref(), channel, outcome.as_deref(), policy));
            (record, *at, body)
        }
        Fact::Merged { .. } => return Err("a merge is mapped by merge_events".into()),
        Fact::Deleted { .. } => return Err("a deletion: the lead's stored events are kept".into()),
        Fact::Identified { .. } => return Err("an identity: the sales tools' people are joined by the store".into()),
    };
    let lead_id = LeadId::parse(&record.to_string()).map_err(|e| e.0)?;
    let event_id = EventId::parse(keyed.key.as_str()).map_err(|e| e.0)?;
    Ok(Event::new(event_id, lead_id, at, body))
}

/// When a property change happened, or for the first-engagement date the engagement itself:
/// a webhook dates the change when HubSpot computed it, which can trail the call or email;
/// the value (epoch ms, or an instant) is the touch. A value later than the change, or before
/// the window, is not believed.
fn touched_at(name: &str, value: &str, changed: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    if name != FIRST_ENGAGEMENT_PROPERTY {
        return changed;
    }
    let t = leadclock_crm::json_instant(&serde_json::Value::String(value.to_owned()));
    t.filter(|t| *t <= changed && *t >= now - MAX_PAST).unwrap_or(changed)
}

/// HubSpot's "Date of first engagement": a touch.
const FIRST_ENGAGEMENT_PROPERTY: &str = "hs_sa_first_engagement_date";

/// What a property change means: an engagement, a stage, a touch, or nothing.
fn property(
    record: &RecordKey,
    name: &str,
    value: &str,
    snapshots: &Snapshots,
    policy: &Policy,
) -> Result<EventBody, String> {
    let stage = |s| Ok(EventBody::Stage(Stage { stage: s, reason: None }));
    match (record.crm, name, value) {
        (Source::HubSpot, "lifecyclestage", "marketingqualifiedlead") => {
            Ok(EventBody::Form(Box::new(form(record, snapshots, policy)?)))
        }
        (Source::HubSpot, "lifecyclestage", "salesqualifiedlead") => stage(StageChange::Sql),
        (Source::HubSpot, "lifecyclestage", "opportunity") => stage(StageChange::Opportunity),
        (Source::HubSpot, "hs_lead_status", v) => match policy.crm.hubspot_lead_status.get(v) {
            Some(s) => stage(*s),
            None => Err(format!(
                "hs_lead_status = {v:?} is not in the policy's [crm] hubspot_lead_status"
            )),
        },
        // Dated at the engagement itself by `touched_at`.
        (Source::HubSpot, FIRST_ENGAGEMENT_PROPERTY, _) => {
            let touch = Touch {
                owner: None,
                channel: CRM_ACTIVITY_CHANNEL.into(),
                outcome: None,
            };
            Ok(EventBody::Touch(touch))
        }
        (Source::Salesforce, "Status", v) => match policy.crm.salesforce_status.get(v) {
            Some(s) => stage(*s),
            None => Err(format!("Status = {v:?} is not in the policy's [crm] salesforce_status")),
        },
        (Source::Salesforce, "leadConverted", "true") => stage(StageChange::Sql),
        _ => Err(format!("{name} = {value:?} has no SLA meaning")),
    }
}

/// A record's engagement as a form, typed by the policy's rules over its properties.
fn form(record: &RecordKey, snapshots: &Snapshots, policy: &Policy) -> Result<Form, String> {
    let properties = snapshots.get(record).cloned().unwrap_or_default();
    let first = |names: &[&str]| names.iter().find_map(|n| properties.get(*n).cloned());
    let mut form = Form {
        source: first(&["hs_analytics_source", "LeadSource"]),
        contact: first(&["email", "Email"]).map(|email| Contact {
            email: Some(email),
            ..Contact::default()
        }),
        // The email is contact data: it goes to `contact` (redacted in logs and never returned),
        // not to the attributes the rules and the timeline read.
        attributes: properties
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("email"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..Form::default()
    };
    let facts = classify::facts(&form, None);
    (form.lead_type, form.classified) =
        classify::lead_type(policy, &facts, Untyped::Keep).map_err(|e| e.to_string())?;
    Ok(form)
}

fn assignment(owner: Option<&OwnerRef>, policy: &Policy) -> Result<EventBody, String> {
    let owner = owner.ok_or("the record became unassigned")?;
    if owner.queue {
        return Err("the record went to a queue: no rep has it yet".into());
    }
    Ok(EventBody::Assignment(Assignment {
        owner: owner_name(owner, policy),
        team: None,
        manager: None,
    }))
}

/// The directory's person for a CRM owner (by CRM id, email, key, then display name: see
/// [`leadclock_domain::policy::Directory::person_for_owner`]), else the CRM's own id or name.
fn owner_name(owner: &OwnerRef, policy: &Policy) -> String {
    policy
        .directory
        .person_for_owner(owner.system.as_str(), &owner.id)
        .map_or_else(|| owner.id.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_crm::{DedupeKey, PersonRef};

    fn policy() -> Policy {
        let example = include_str!("../../../../policies/example.toml");
        let rule = "[[classify]]\nname = \"hubspot demo\"\nwhen = [{ field = \"properties.first_conversion_event_name\", matches = \"*demo*\" }]\nlead_type = \"demo_request\"\n\n";
        let (head, tail) = example.split_once("[[classify]]").unwrap();
        Policy::parse(&format!("{head}{rule}[[classify]]{tail}")).unwrap()
    }
    fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
        s.parse().unwrap()
    }
    /// A week after the facts these tests map.
    fn now() -> chrono::DateTime<chrono::Utc> {
        t("2026-12-01T00:00:00Z")
    }
    fn batch(facts: Vec<(&str, Fact)>) -> Batch {
        let mut b = Batch::default();
        for (k, f) in facts {
            b.push(DedupeKey::from_parts(&[k]), f);
        }
        b.sorted()
    }
    fn contact() -> RecordKey {
        RecordKey::hubspot(62515, 123)
    }

    #[test]
    fn facts_dated_outside_the_json_apis_window_are_skipped_with_their_reason() {
        let owner = |at| Fact::Owner {
            record: contact(),
            at,
            owner: Some(OwnerRef {
                system: Source::HubSpot,
                id: "9001".into(),
                queue: false,
                named: false,
            }),
        };
        let b = batch(vec![
            (
                "far future",
                owner(chrono::DateTime::<chrono::Utc>::MAX_UTC - chrono::Duration::days(1)),
            ),
            ("an hour and a bit ahead", owner(now() + chrono::Duration::minutes(61))),
            (
                "long ago",
                owner(chrono::DateTime::<chrono::Utc>::MIN_UTC + chrono::Duration::days(1)),
            ),
            ("now", owner(now())),
        ]);
        let m = map(&b, &policy(), Origin::Live, now());
        assert_eq!(m.events.len(), 1, "{:?}", m.skipped);
        assert_eq!(m.events[0].occurred_at, now());
        let reasons: Vec<&str> = m.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons.iter().filter(|r| r.contains("in the future")).count(),
            2,
            "{reasons:?}"
        );
        assert_eq!(
            reasons.iter().filter(|r| r.contains("in the past")).count(),
            1,
            "{reasons:?}"
        );
    }

    fn property(name: &str, value: &str, at: &str) -> Fact {
        Fact::Property {
            record: contact(),
            at: t(at),
            name: name.into(),
            value: Some(value.into()),
        }
    }

    #[test]
    fn lead_statuses_mean_the_stage_the_policys_crm_map_gives_them() {
        let facts = || {
            batch(vec![
                (
                    "attempted",
                    property("hs_lead_status", "ATTEMPTED_TO_CONTACT", "2026-11-23T15:00:00Z"),
                ),
                (
                    "in progress",
                    property("hs_lead_status", "IN_PROGRESS", "2026-11-23T15:01:00Z"),
                ),
            ])
        };
        let stages = |m: &Mapped| -> Vec<StageChange> {
            m.events
                .iter()
                .filter_map(|e| match &e.body {
                    EventBody::Stage(s) => Some(s.stage),
                    _ => None,
                })
                .collect()
        };
        // The defaults: HubSpot's standard values.
        let m = map(&facts(), &policy(), Origin::Live, now());
        assert_eq!(stages(&m), [StageChange::Sal]);
        assert!(
            m.skipped.iter().any(|s| s.reason.contains("ATTEMPTED_TO_CONTACT")),
            "{:?}",
            m.skipped
        );
        // A team's own picklist replaces them.
        let example = include_str!("../../../../policies/example.toml");
        let own = Policy::parse(&format!(
            "{example}\n[crm]\nhubspot_lead_status = {{ ATTEMPTED_TO_CONTACT = \"sal\", BAD_FIT = \"rejected\" }}\n"
        ))
        .unwrap();
        let m = map(&facts(), &own, Origin::Live, now());
        assert_eq!(stages(&m), [StageChange::Sal]);
        assert_eq!(m.events[0].occurred_at, t("2026-11-23T15:00:00Z"));
        // A value that names no stage is a policy problem at its place.
        let bad = Policy::parse(&format!(
            "{example}\n[crm]\nsalesforce_status = {{ Working = \"contacted\" }}\n"
        ));
        let problems = format!("{:?}", bad.unwrap_err());
        assert!(problems.contains("crm.salesforce_status.Working"), "{problems}");
    }

    #[test]
    fn the_first_engagement_date_times_its_touch_by_the_value_not_the_change() {
        let engaged = t("2026-11-23T15:04:00Z").timestamp_millis().to_string();
        let b = batch(vec![
            (
                "by value",
                property("hs_sa_first_engagement_date", &engaged, "2026-11-23T15:09:30Z"),
            ),
            // A value after the change, or a century before it, is not believed.
            (
                "later",
                property(
                    "hs_sa_first_engagement_date",
                    "2026-11-23T17:00:00Z",
                    "2026-11-23T16:00:00Z",
                ),
            ),
            (
                "ancient",
                property(
                    "hs_sa_first_engagement_date",
                    "1924-11-23T15:00:00Z",
                    "2026-11-23T16:30:00Z",
                ),
            ),
        ]);
        let m = map(&b, &policy(), Origin::Live, now());
        let times: Vec<_> = m.events.iter().map(|e| e.occurred_at).collect();
        let expected = [
            t("2026-11-23T15:04:00Z"),
            t("2026-11-23T16:00:00Z"),
            t("2026-11-23T16:30:00Z"),
        ];
        assert_eq!(times, expected, "{:?}", m.skipped);
    }

    #[test]
    fn a_hubspot_mql_milestone_engages_the_lead_typed_by_its_properties() {
        let props = BTreeMap::from([("first_conversion_event_name".to_owned(), "Demo request".to_owned())]);
        let b = batch(vec![
            (
                "seen",
                Fact::Seen {
                    record: contact(),
                    at: t("2026-11-23T15:00:00Z"),
                    properties: props,
                },
            ),
            (
                "mql",
                Fact::Property {
                    record: contact(),
                    at: t("2026-11-23T15:10:00Z"),
                    name: "lifecyclestage".into(),
                    value: Some("marketingqualifiedlead".into()),
                },
            ),
        ]);
        let m = map(&b, &policy(), Origin::History, now());
        assert_eq!(m.events.len(), 1, "{:?}", m.skipped);
        let e = &m.events[0];
        assert_eq!(
            (e.lead_id.as_str(), e.occurred_at, e.origin),
            ("hubspot:62515:123", t("2026-11-23T15:10:00Z"), Origin::History)
        );
        let EventBody::Form(form) = &e.body else {
            panic!("{e:?}")
        };
        assert_eq!(form.lead_type, "demo_request");
        assert_eq!(m.skipped.len(), 1, "the creation itself is skipped, with its reason");
    }

    #[test]
    fn queues_unassignments_and_anonymous_touches_are_skipped_with_a_reason() {
        let sf = RecordKey::new(Source::Salesforce, "00D1", "00Q1").unwrap();
        let queue = OwnerRef::new(Source::Salesforce, "00G000000000001AAA").unwrap();
        let b = batch(vec![
            (
                "queue",
                Fact::Owner {
                    record: sf.clone(),
                    at: t("2026-11-23T15:00:00Z"),
                    owner: Some(queue),
                },
            ),
            (
                "none",
                Fact::Owner {
                    record: sf,
                    at: t("2026-11-23T15:01:00Z"),
                    owner: None,
                },
            ),
            (
                "touch",
                Fact::Touch {
                    who: PersonRef::default().with_email(Some("a@example.com")),
                    owner: None,
                    channel: "call".into(),
                    outcome: None,
                    at: t("2026-11-23T15:02:00Z"),
                },
            ),
        ]);
        let m = map(&b, &policy(), Origin::Live, now());
        assert!(m.events.is_empty());
        let reasons: Vec<&str> = m.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons[0].contains("queue")
                && reasons[1].contains("unassigned")
                && reasons[2].contains("no sales-tool person"),
            "{reasons:?}"
        );
    }

    #[test]
    fn the_current_owner_at_creation_gives_way_to_the_owner_history() {
        let sf = RecordKey::new(Source::Salesforce, "00D1", "00Q1").unwrap();
        let rep = OwnerRef::new(Source::Salesforce, "005000000000001AAA").unwrap();
        let created = t("2026-11-23T15:00:00Z");
        let b = batch(vec![
            (
                "seen",
                Fact::Seen {
                    record: sf.clone(),
                    at: created,
                    properties: BTreeMap::new(),
                },
            ),
            (
                "snapshot-owner",
                Fact::Owner {
                    record: sf.clone(),
                    at: created,
                    owner: Some(rep.clone()),
                },
            ),
            (
                "history-owner",
                Fact::Owner {
                    record: sf,
                    at: created + chrono::Duration::minutes(3),
                    owner: Some(rep),
                },
            ),
        ]);
        let m = map(&b, &policy(), Origin::History, now());
        let assigned: Vec<_> = m
            .events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Assignment(_)))
            .map(|e| e.occurred_at)
            .collect();
        assert_eq!(assigned, [created + chrono::Duration::minutes(3)]);
    }
}
