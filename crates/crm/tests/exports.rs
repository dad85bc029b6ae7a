mod common;

use common::{fixture, t};
use leadclock_crm::export::{self, DateReader, Import, ImportOptions, Mapping, MappingError};
use leadclock_crm::{Fact, OwnerRef, RecordKey, Source};

fn run(mapping: &str, account: &str, tz: Option<chrono_tz::Tz>, file: &str) -> Import {
    let mapping = Mapping::from_toml(mapping).unwrap();
    let opts = ImportOptions {
        account: account.into(),
        dates: DateReader { tz },
    };
    export::import(&mapping, &opts, fixture(file).as_slice()).unwrap()
}

#[test]
fn hubspot_contacts_export_with_local_times() {
    let out = run(
        export::HUBSPOT_CONTACTS,
        "62515",
        Some(chrono_tz::Europe::Berlin),
        "exports/hubspot-contacts.csv",
    );
    assert_eq!(out.rows, 4);
    let errors: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(errors, [(4, "Create Date"), (5, "Record ID")], "{:?}", out.errors);
    let ada = RecordKey::hubspot(62515, 123);
    let facts: Vec<&Fact> = out.facts.facts.iter().map(|k| &k.fact).collect();
    let Fact::Seen { at, properties, .. } = facts[0] else {
        panic!("{facts:?}")
    };
    assert_eq!(*at, t("2026-11-23T09:15:00Z"), "10:15 in Berlin");
    assert_eq!(properties["lifecyclestage"], "Sales Qualified Lead");
    assert_eq!(properties["first_conversion_event_name"], "Demo request");
    assert!(facts.contains(&&Fact::Owner {
        record: ada.clone(),
        at: t("2026-11-23T09:20:00Z"),
        owner: Some(OwnerRef::by_name(Source::HubSpot, "Grace Hopper").unwrap()),
    }));
    assert!(facts.contains(&&Fact::Property {
        record: ada.clone(),
        at: t("2026-11-24T08:00:00Z"),
        name: "lifecyclestage".into(),
        value: Some("salesqualifiedlead".into()),
    }));
    assert!(facts.contains(&&Fact::Property {
        record: ada,
        at: t("2026-11-23T09:42:00Z"),
        name: "hs_sa_first_engagement_date".into(),
        value: Some("2026-11-23T09:42:00.000Z".into()),
    }));
    // Ada: created, owner, MQL, SQL, first engagement; Charles: created only.
    assert_eq!(facts.len(), 6);
}

#[test]
fn a_hubspot_export_without_a_time_zone_reports_every_row() {
    let out = run(export::HUBSPOT_CONTACTS, "62515", None, "exports/hubspot-contacts.csv");
    assert!(out.facts.facts.is_empty());
    assert_eq!(out.errors.len(), 4);
    assert!(out.errors[0].reason.contains("--tz"), "{}", out.errors[0]);
}

#[test]
fn an_export_milestone_has_the_webhooks_key() {
    // The same change read live (HubSpot propertyChange) and from the export dedupes.
    let out = run(
        export::HUBSPOT_CONTACTS,
        "62515",
        Some(chrono_tz::UTC),
        "exports/hubspot-contacts.csv",
    );
    let mql = out
        .facts
        .facts
        .iter()
        .find(|k| matches!(&k.fact, Fact::Property { value: Some(v), .. } if v == "marketingqualifiedlead"))
        .unwrap();
    let ms = t("2026-11-23T10:15:00Z").timestamp_millis();
    let body = format!(
        r#"[{{"subscriptionType":"contact.propertyChange","portalId":62515,"objectId":123,"occurredAt":{ms},"propertyName":"lifecyclestage","propertyValue":"marketingqualifiedlead"}}]"#
    );
    let live = leadclock_crm::hubspot::parse_events(body.as_bytes()).unwrap();
    assert_eq!(live.facts[0].key, mql.key);
}

#[test]
fn salesforce_lead_export_flags_queue_owners() {
    let out = run(
        export::SALESFORCE_LEAD,
        "00D000000000001AAA",
        None,
        "exports/salesforce-lead.csv",
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let queues: Vec<bool> = out
        .facts
        .facts
        .iter()
        .filter_map(|k| match &k.fact {
            Fact::Owner { owner: Some(o), .. } => Some(o.queue),
            _ => None,
        })
        .collect();
    assert_eq!(queues, [false, true]);
    // The creation key is the Outbound Message's.
    assert_eq!(
        out.facts.facts[0].key.as_str(),
        "salesforce:00D000000000001AAA:00Q000000000001AAA:created"
    );
}

#[test]
fn lead_history_reads_the_id_row_of_an_owner_change() {
    let out = run(
        export::SALESFORCE_LEAD_HISTORY,
        "00D000000000001AAA",
        None,
        "exports/salesforce-leadhistory.csv",
    );
    assert_eq!(out.rows, 6);
    let errors: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(errors, [(7, "CreatedDate")]);
    let lead = RecordKey::new(Source::Salesforce, "00D000000000001AAA", "00Q000000000002AAA").unwrap();
    let facts: Vec<&Fact> = out.facts.facts.iter().map(|k| &k.fact).collect();
    assert_eq!(
        facts,
        [
            &Fact::Seen {
                record: lead.clone(),
                at: t("2024-06-10T15:00:00Z"),
                properties: Default::default()
            },
            &Fact::Owner {
                record: lead.clone(),
                at: t("2024-06-10T15:20:00Z"),
                owner: Some(OwnerRef::new(Source::Salesforce, "005000000000002AAA").unwrap()),
            },
            &Fact::Property {
                record: lead,
                at: t("2024-06-10T15:45:00Z"),
                name: "Status".into(),
                value: Some("Working - Contacted".into()),
            },
        ],
        "the names row and the unmapped Rating row add nothing"
    );
}

#[test]
fn task_export_touches_match_the_live_keys() {
    let out = run(
        export::SALESFORCE_TASK,
        "00D000000000001AAA",
        None,
        "exports/salesforce-task.csv",
    );
    let errors: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(errors, [(5, "CompletedDateTime")]);
    let touches: Vec<(&str, &str, chrono::DateTime<chrono::Utc>)> = out
        .facts
        .facts
        .iter()
        .map(|k| match &k.fact {
            Fact::Touch { channel, at, .. } => (k.key.as_str(), channel.as_str(), *at),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        touches,
        [
            (
                "salesforce:00D000000000001AAA:00T000000000001AAA:touch",
                "call",
                t("2024-06-10T14:20:00Z")
            ),
            (
                "salesforce:00D000000000001AAA:00T000000000003AAA:touch",
                "email",
                t("2024-06-10T16:00:00Z")
            ),
        ],
        "the open task is a to-do; a closed one without CompletedDateTime is timed by CreatedDate"
    );
}

#[test]
fn a_file_missing_a_mapped_column_is_refused() {
    let mapping = Mapping::from_toml(export::SALESFORCE_TASK).unwrap();
    let opts = ImportOptions {
        account: "00D000000000001AAA".into(),
        dates: DateReader::default(),
    };
    let err = export::import(&mapping, &opts, "ID,WHOID\n1,2\n".as_bytes()).unwrap_err();
    let MappingError::MissingColumns { missing, .. } = err else {
        panic!("{err:?}")
    };
    assert!(missing.contains(&"CompletedDateTime".to_string()), "{missing:?}");
    assert_eq!(
        Mapping::from_toml("name = \"x\"\nsource = \"hubspot\"\n"),
        Err(MappingError::Shape)
    );
    assert!(matches!(Mapping::from_toml("name = 1"), Err(MappingError::Toml(_))));
}

#[test]
fn every_shipped_mapping_parses() {
    for m in [
        export::HUBSPOT_CONTACTS,
        export::SALESFORCE_LEAD,
        export::SALESFORCE_LEAD_HISTORY,
        export::SALESFORCE_TASK,
    ] {
        let mapping = Mapping::from_toml(m).unwrap();
        assert!(!mapping.columns().is_empty(), "{}", mapping.name);
    }
}
