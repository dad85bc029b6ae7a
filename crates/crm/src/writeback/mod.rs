//! Write-back: a lead's SLA figures written into the CRM record it came from, where reps and
//! managers look. This module is the vendor half: the fields, and the request each CRM
//! documents for updating one record. [`client`] sends them.
//!
//! | figure | HubSpot contact property | Salesforce Lead / Contact field |
//! |---|---|---|
//! | systems delay (minutes) | `leadclock_systems_delay_minutes` | `Leadclock_Systems_Delay_Minutes__c` |
//! | human delay (minutes) | `leadclock_human_delay_minutes` | `Leadclock_Human_Delay_Minutes__c` |
//! | speed to lead (minutes) | `leadclock_speed_to_lead_minutes` | `Leadclock_Speed_To_Lead_Minutes__c` |
//! | SLA threshold (minutes) | `leadclock_sla_threshold_minutes` | `Leadclock_SLA_Threshold_Minutes__c` |
//! | SLA deadline | `leadclock_sla_deadline` | `Leadclock_SLA_Deadline__c` |
//! | SLA status | `leadclock_sla_status` | `Leadclock_SLA_Status__c` |
//! | first response | `leadclock_first_response_at` | `Leadclock_First_Response_At__c` |
//!
//! The property and field definitions to create once are in `docs/integrations/writeback/`;
//! a test keeps them and [`FIELDS`] in step.

pub mod client;

use crate::fact::{RecordKey, Source};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Where the response clock stands, as the CRM field shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    /// Running, deadline ahead.
    Pending,
    /// Running, deadline passed: nobody has answered yet.
    Breached,
    Met,
    Missed,
    /// Taken out of the queue by a stage change before anyone answered.
    Closed,
}

impl SlaStatus {
    pub const ALL: [SlaStatus; 5] = [
        SlaStatus::Pending,
        SlaStatus::Breached,
        SlaStatus::Met,
        SlaStatus::Missed,
        SlaStatus::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::Pending => "pending",
            SlaStatus::Breached => "breached",
            SlaStatus::Met => "met",
            SlaStatus::Missed => "missed",
            SlaStatus::Closed => "closed",
        }
    }
}

/// One lead's figures, vendor-neutral. Delays are seconds on the basis the lead type's SLA is
/// measured in (open business time, or wall-clock); `None` clears the field (not reached yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub systems_delay_seconds: Option<i64>,
    pub human_delay_seconds: Option<i64>,
    pub speed_to_lead_seconds: Option<i64>,
    pub sla_threshold_seconds: Option<i64>,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub sla_status: Option<SlaStatus>,
    pub first_response_at: Option<DateTime<Utc>>,
}

/// One written field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    SystemsDelay,
    HumanDelay,
    SpeedToLead,
    SlaThreshold,
    SlaDeadline,
    SlaStatus,
    FirstResponse,
}

/// Every field, with its HubSpot property name and Salesforce field API name.
pub const FIELDS: [(Field, &str, &str); 7] = [
    (
        Field::SystemsDelay,
        "leadclock_systems_delay_minutes",
        "Leadclock_Systems_Delay_Minutes__c",
    ),
    (
        Field::HumanDelay,
        "leadclock_human_delay_minutes",
        "Leadclock_Human_Delay_Minutes__c",
    ),
    (
        Field::SpeedToLead,
        "leadclock_speed_to_lead_minutes",
        "Leadclock_Speed_To_Lead_Minutes__c",
    ),
    (
        Field::SlaThreshold,
        "leadclock_sla_threshold_minutes",
        "Leadclock_SLA_Threshold_Minutes__c",
    ),
    (
        Field::SlaDeadline,
        "leadclock_sla_deadline",
        "Leadclock_SLA_Deadline__c",
    ),
    (Field::SlaStatus, "leadclock_sla_status", "Leadclock_SLA_Status__c"),
    (
        Field::FirstResponse,
        "leadclock_first_response_at",
        "Leadclock_First_Response_At__c",
    ),
];

/// A field's value, typed: minutes with one decimal, an instant, or a picklist value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Minutes(f64),
    Instant(String),
    Choice(&'static str),
}

impl Figures {
    fn cell(&self, field: Field) -> Option<Cell> {
        let minutes = |s: Option<i64>| s.map(|s| Cell::Minutes((s as f64 / 6.0).round() / 10.0));
        let instant = |t: Option<DateTime<Utc>>| t.map(|t| Cell::Instant(t.to_rfc3339_opts(SecondsFormat::Secs, true)));
        match field {
            Field::SystemsDelay => minutes(self.systems_delay_seconds),
            Field::HumanDelay => minutes(self.human_delay_seconds),
            Field::SpeedToLead => minutes(self.speed_to_lead_seconds),
            Field::SlaThreshold => minutes(self.sla_threshold_seconds),
            Field::SlaDeadline => instant(self.sla_deadline),
            Field::SlaStatus => self.sla_status.map(|s| Cell::Choice(s.as_str())),
            Field::FirstResponse => instant(self.first_response_at),
        }
    }
}

/// Which CRM object a record id names, and so which update request it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrmObject {
    HubSpotContact,
    SalesforceLead,
    SalesforceContact,
}

impl CrmObject {
    /// HubSpot records are contacts; Salesforce ids say their object in the key prefix
    /// (`00Q` a Lead, `003` a Contact). Anything else is not written back.
    pub fn of(record: &RecordKey) -> Option<CrmObject> {
        match record.crm {
            Source::HubSpot => Some(CrmObject::HubSpotContact),
            Source::Salesforce if record.id.starts_with("00Q") => Some(CrmObject::SalesforceLead),
            Source::Salesforce if record.id.starts_with("003") => Some(CrmObject::SalesforceContact),
            _ => None,
        }
    }
}

/// HubSpot's update of one contact: `PATCH /crm/v3/objects/contacts/{contactId}` with
/// `{"properties": {...}}`. Values go as strings, as HubSpot's examples send them; an empty
/// string clears a property, so a figure not reached yet does not leave an old one behind.
pub fn hubspot_request(contact_id: &str, figures: &Figures) -> (String, Value) {
    let mut props = Map::new();
    for (field, name, _) in FIELDS {
        let text = match figures.cell(field) {
            None => String::new(),
            Some(Cell::Minutes(m)) => format!("{m:.1}"),
            Some(Cell::Instant(t)) => t,
            Some(Cell::Choice(c)) => c.to_owned(),
        };
        props.insert(name.to_owned(), Value::String(text));
    }
    (
        format!("/crm/v3/objects/contacts/{contact_id}"),
        json!({ "properties": props }),
    )
}

/// Salesforce's update of one record: `PATCH /services/data/vNN.N/sobjects/{Lead|Contact}/{id}`
/// with the fields as JSON (numbers, ISO 8601 datetimes, picklist values); `null` clears one.
pub fn salesforce_request(api_version: &str, object: CrmObject, id: &str, figures: &Figures) -> (String, Value) {
    let sobject = if object == CrmObject::SalesforceContact {
        "Contact"
    } else {
        "Lead"
    };
    let mut body = Map::new();
    for (field, _, name) in FIELDS {
        let value = match figures.cell(field) {
            None => Value::Null,
            Some(Cell::Minutes(m)) => json!(m),
            Some(Cell::Instant(t)) => Value::String(t),
            Some(Cell::Choice(c)) => Value::String(c.to_owned()),
        };
        body.insert(name.to_owned(), value);
    }
    (
        format!("/services/data/{api_version}/sobjects/{sobject}/{id}"),
        Value::Object(body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> Figures {
        Figures {
            systems_delay_seconds: Some(750),
            human_delay_seconds: Some(3),
            speed_to_lead_seconds: Some(753),
            sla_threshold_seconds: Some(3600),
            sla_deadline: Some("2026-11-23T16:12:30Z".parse().unwrap()),
            sla_status: Some(SlaStatus::Met),
            first_response_at: Some("2026-11-23T15:12:33Z".parse().unwrap()),
        }
    }

    #[test]
    fn hubspot_update_is_the_documented_properties_object_with_strings() {
        let (path, body) = hubspot_request("123", &figures());
        assert_eq!(path, "/crm/v3/objects/contacts/123");
        let p = &body["properties"];
        assert_eq!(p["leadclock_systems_delay_minutes"], "12.5");
        assert_eq!(p["leadclock_human_delay_minutes"], "0.1");
        assert_eq!(p["leadclock_sla_threshold_minutes"], "60.0");
        assert_eq!(p["leadclock_sla_status"], "met");
        assert_eq!(p["leadclock_first_response_at"], "2026-11-23T15:12:33Z");
        assert_eq!(p.as_object().unwrap().len(), FIELDS.len());
        let empty = Figures {
            human_delay_seconds: None,
            ..figures()
        };
        assert_eq!(
            hubspot_request("1", &empty).1["properties"]["leadclock_human_delay_minutes"],
            ""
        );
    }

    #[test]
    fn salesforce_update_names_the_object_by_id_prefix_and_clears_with_null() {
        let lead = RecordKey::new(Source::Salesforce, "00D5e000000abcd", "00Q5e00000AbCdE").unwrap();
        let contact = RecordKey::new(Source::Salesforce, "00D5e000000abcd", "0035e00000AbCdE").unwrap();
        let other = RecordKey::new(Source::Salesforce, "00D5e000000abcd", "0015e00000AbCdE").unwrap();
        assert_eq!(CrmObject::of(&lead), Some(CrmObject::SalesforceLead));
        assert_eq!(CrmObject::of(&contact), Some(CrmObject::SalesforceContact));
        assert_eq!(CrmObject::of(&other), None);
        let f = Figures {
            human_delay_seconds: None,
            ..figures()
        };
        let (path, body) = salesforce_request("v62.0", CrmObject::SalesforceLead, &lead.id, &f);
        assert_eq!(path, "/services/data/v62.0/sobjects/Lead/00Q5e00000AbCdE");
        assert_eq!(body["Leadclock_Systems_Delay_Minutes__c"], json!(12.5));
        assert_eq!(body["Leadclock_Human_Delay_Minutes__c"], Value::Null);
        assert_eq!(body["Leadclock_SLA_Status__c"], "met");
        assert_eq!(body["Leadclock_SLA_Deadline__c"], "2026-11-23T16:12:30Z");
        let (path, _) = salesforce_request("v62.0", CrmObject::SalesforceContact, &contact.id, &f);
        assert!(path.ends_with("/sobjects/Contact/0035e00000AbCdE"));
    }

    /// The definitions a team creates once must name exactly the fields written.
    #[test]
    fn shipped_definitions_name_every_written_field() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/integrations/writeback");
        let hubspot: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/hubspot-properties.json")).unwrap()).unwrap();
        let names: Vec<&str> = hubspot["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = FIELDS.iter().map(|f| f.1).collect();
        assert_eq!(names, expected);
        let options: Vec<&str> = hubspot["inputs"][5]["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["value"].as_str().unwrap())
            .collect();
        assert_eq!(options, SlaStatus::ALL.map(SlaStatus::as_str));
        let package = std::fs::read_to_string(format!("{dir}/salesforce/package.xml")).unwrap();
        for ((_, _, sf), object) in FIELDS.iter().flat_map(|f| [(f, "Lead"), (f, "Contact")]) {
            assert!(
                package.contains(&format!("<members>{object}.{sf}</members>")),
                "{object}.{sf}"
            );
            let path = format!("{dir}/salesforce/objects/{object}/fields/{sf}.field-meta.xml");
            let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(xml.contains(&format!("<fullName>{sf}</fullName>")), "{path}");
        }
    }
}
