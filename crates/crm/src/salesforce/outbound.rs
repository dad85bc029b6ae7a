//! The `notifications` SOAP call: `OrganizationId`, `ActionId`, and 1–100 `Notification`s,
//! each with its `Id` and an `sObject` (`xsi:type` `sf:Lead` or `sf:Task`) holding only the
//! fields the admin selected, with their values at send time.
//!
//! The message carries no event time, so a lead's change is timed by `LastModifiedDate` (or
//! `SystemModstamp`), which the admin must select; a task by `CompletedDateTime` (or
//! `CreatedDate`). Dedupe keys: the notification `Id` for a lead's owner and status (a resend
//! keeps the `Id` even if the values moved on); `<record>:created` for the creation, and the
//! task's own id for a touch, so an export and a live message of the same thing agree.

use super::xml::{self, Element, XSI};
use super::{SalesforceError, SalesforceId, OUTBOUND_NS, SOAP_ENV};
use crate::fact::{Batch, DedupeKey, Fact, OwnerRef, PersonRef, RecordKey, Source};
use crate::wire::parse_instant;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub const MAX_NOTIFICATIONS: usize = 100;

/// One parsed `notifications` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub organization_id: SalesforceId,
    pub action_id: String,
    pub notifications: Vec<Notification>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The notification id: the same on every resend of this notification.
    pub id: String,
    /// `Lead`, `Task`, … (the local part of `xsi:type`).
    pub object_type: String,
    /// Selected fields by API name; `None` = sent as `xsi:nil`.
    pub fields: BTreeMap<String, Option<String>>,
}

impl Notification {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|v| v.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
    fn time(&self, names: &[&str]) -> Option<DateTime<Utc>> {
        names.iter().find_map(|n| self.field(n).and_then(parse_instant))
    }
}

impl OutboundMessage {
    pub fn parse(body: &str) -> Result<Self, SalesforceError> {
        let root = xml::parse(body)?;
        if !root.is(SOAP_ENV, "Envelope") {
            return Err(SalesforceError::NotOutbound("the root is not a SOAP 1.1 Envelope"));
        }
        let call = root
            .child(SOAP_ENV, "Body")
            .and_then(|b| b.child(OUTBOUND_NS, "notifications"))
            .ok_or(SalesforceError::NotOutbound("no notifications element in the Body"))?;
        let text = |name| {
            call.child(OUTBOUND_NS, name)
                .map(|e| e.text.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let org = text("OrganizationId").ok_or(SalesforceError::NotOutbound("no OrganizationId"))?;
        let organization_id =
            SalesforceId::parse(&org).map_err(|_| SalesforceError::NotOutbound("bad OrganizationId"))?;
        let items: Vec<&Element> = call
            .children
            .iter()
            .filter(|c| c.is(OUTBOUND_NS, "Notification"))
            .collect();
        if items.is_empty() || items.len() > MAX_NOTIFICATIONS {
            return Err(SalesforceError::Count(items.len()));
        }
        let notifications = items
            .iter()
            .enumerate()
            .map(|(i, n)| notification(i, n))
            .collect::<Result<_, _>>()?;
        Ok(OutboundMessage {
            organization_id,
            action_id: text("ActionId").unwrap_or_default(),
            notifications,
        })
    }

    /// Refuses a message from any org but the tenant's (15- and 18-character ids compare equal).
    pub fn ensure_org(&self, allowed: &[SalesforceId]) -> Result<(), SalesforceError> {
        if allowed.iter().any(|a| a.same_record(&self.organization_id)) {
            Ok(())
        } else {
            Err(SalesforceError::UnknownOrg(self.organization_id.to_string()))
        }
    }

    /// The facts of every notification, in time order.
    pub fn facts(&self) -> Result<Batch, SalesforceError> {
        let mut batch = Batch::default();
        for (position, n) in self.notifications.iter().enumerate() {
            let org = self.organization_id.as_str();
            match n.object_type.as_str() {
                "Lead" => lead_facts(org, position, n, &mut batch)?,
                "Task" => task_fact(org, position, n, &mut batch)?,
                other => batch.ignore(position, &format!("sf:{other}"), "only Lead and Task messages are read"),
            }
        }
        Ok(batch.sorted())
    }
}

fn notification(position: usize, n: &Element) -> Result<Notification, SalesforceError> {
    let missing = |field| SalesforceError::Field { position, field };
    let id = n
        .child(OUTBOUND_NS, "Id")
        .map(|e| e.text.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(missing("Id"))?;
    let object = n.child(OUTBOUND_NS, "sObject").ok_or(missing("sObject"))?;
    let xsi_type = object.attr(XSI, "type").ok_or(missing("sObject xsi:type"))?;
    // `sf:Lead`: the prefix is whatever the message bound to the sObject namespace.
    let object_type = xsi_type.rsplit(':').next().unwrap_or(xsi_type).to_owned();
    let fields = object
        .children
        .iter()
        .map(|f| (f.name.clone(), if f.is_nil() { None } else { Some(f.text.clone()) }))
        .collect();
    Ok(Notification {
        id,
        object_type,
        fields,
    })
}

fn record(org: &str, position: usize, id: &str) -> Result<RecordKey, SalesforceError> {
    RecordKey::new(Source::Salesforce, org, id).map_err(|error| SalesforceError::Id { position, error })
}

/// Fields a full-record message carries anew after every edit: left out of the creation's
/// properties, so every message of a lead says the same creation (the owner and status are
/// facts of their own).
const CHANGES_WITH_EVERY_EDIT: &[&str] = &[
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "LastActivityDate",
    "LastViewedDate",
    "LastReferencedDate",
    "OwnerId",
    "Status",
];

/// A lead: its creation (`CreatedDate`, with its selected fields but those that change with
/// every edit), owner and status.
fn lead_facts(org: &str, position: usize, n: &Notification, batch: &mut Batch) -> Result<(), SalesforceError> {
    let id = n.field("Id").ok_or(SalesforceError::Field { position, field: "Id" })?;
    let rec = record(org, position, id)?;
    if let Some(at) = n.time(&["CreatedDate"]) {
        let properties = n
            .fields
            .iter()
            .filter(|(k, _)| !CHANGES_WITH_EVERY_EDIT.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect();
        let key = DedupeKey::from_parts(&["salesforce", org, id, "created"]);
        batch.push(
            key,
            Fact::Seen {
                record: rec.clone(),
                at,
                properties,
            },
        );
    }
    let Some(at) = n.time(&["LastModifiedDate", "SystemModstamp"]) else {
        batch.ignore(
            position,
            "sf:Lead",
            "no LastModifiedDate or SystemModstamp selected: the change cannot be timed",
        );
        return Ok(());
    };
    let key = |part: &str| DedupeKey::from_parts(&["salesforce", org, "notification", &n.id, part]);
    if let Some(owner) = n.field("OwnerId") {
        let owner =
            OwnerRef::new(Source::Salesforce, owner).map_err(|error| SalesforceError::Id { position, error })?;
        batch.push(
            key("owner"),
            Fact::Owner {
                record: rec.clone(),
                at,
                owner: Some(owner),
            },
        );
    }
    if n.fields.contains_key("Status") {
        let value = n.field("Status").map(str::to_owned);
        batch.push(
            key("Status"),
            Fact::Property {
                record: rec,
                at,
                name: "Status".into(),
                value,
            },
        );
    }
    Ok(())
}

/// A completed task about a lead or contact (`WhoId`) is a touch.
fn task_fact(org: &str, position: usize, n: &Notification, batch: &mut Batch) -> Result<(), SalesforceError> {
    let id = n.field("Id").ok_or(SalesforceError::Field { position, field: "Id" })?;
    let Some(who) = n.field("WhoId") else {
        batch.ignore(position, "sf:Task", "the task names no lead or contact (WhoId)");
        return Ok(());
    };
    let done = n.field("CompletedDateTime").is_some()
        || n.field("IsClosed") == Some("true")
        || n.field("Status") == Some("Completed");
    if !done {
        batch.ignore(position, "sf:Task", "the task is not completed: a to-do is not a touch");
        return Ok(());
    }
    let Some(at) = n.time(&["CompletedDateTime", "CreatedDate"]) else {
        batch.ignore(
            position,
            "sf:Task",
            "no CompletedDateTime or CreatedDate selected: the touch cannot be timed",
        );
        return Ok(());
    };
    let owner = match n.field("OwnerId") {
        Some(o) => Some(OwnerRef::new(Source::Salesforce, o).map_err(|error| SalesforceError::Id { position, error })?),
        None => None,
    };
    let fact = Fact::Touch {
        who: PersonRef {
            record: Some(record(org, position, who)?),
            ..PersonRef::default()
        },
        owner,
        channel: task_channel(n.field("TaskSubtype").or(n.field("Type"))),
        outcome: n.field("CallDisposition").or(n.field("Status")).map(str::to_owned),
        at,
    };
    batch.push(DedupeKey::from_parts(&["salesforce", org, id, "touch"]), fact);
    Ok(())
}

/// `TaskSubtype`/`Type` (`Call`, `Email`, `LinkedIn`, …) lower-cased; `task` when neither is set.
pub(crate) fn task_channel(kind: Option<&str>) -> String {
    kind.map(|k| k.trim().to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "task".into())
}
