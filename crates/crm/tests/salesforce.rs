mod common;

use common::{t, text};
use leadclock_crm::salesforce::{fault, FaultCode, OutboundMessage, SalesforceError, SalesforceId, ACK};
use leadclock_crm::{Fact, OwnerRef, PersonRef, RecordKey, Source};

fn rec(id: &str) -> RecordKey {
    RecordKey::new(Source::Salesforce, "00D000000000001AAA", id).unwrap()
}

fn org(id: &str) -> SalesforceId {
    SalesforceId::parse(id).unwrap()
}

#[test]
fn a_lead_notification_is_its_creation_owner_and_status() {
    let msg = OutboundMessage::parse(&text("salesforce/lead-notification.xml")).unwrap();
    assert_eq!(msg.organization_id.as_str(), "00D000000000001AAA");
    assert_eq!(msg.action_id, "04k000000000001AAA");
    let batch = msg.facts().unwrap();
    let keys: Vec<&str> = batch.facts.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "salesforce:00D000000000001AAA:00Q000000000001AAA:created",
            "salesforce:00D000000000001AAA:notification:04l000000000001AAA:Status",
            "salesforce:00D000000000001AAA:notification:04l000000000001AAA:owner",
        ]
    );
    let Fact::Seen { record, at, properties } = &batch.facts[0].fact else {
        panic!("{batch:?}")
    };
    assert_eq!((record, *at), (&rec("00Q000000000001AAA"), t("2024-06-10T13:58:00Z")));
    assert_eq!(properties["Company"], "Analytical Engines & Co", "entities are decoded");
    assert_eq!(properties["LeadSource"], "Web");
    assert_eq!(
        batch.facts[2].fact,
        Fact::Owner {
            record: rec("00Q000000000001AAA"),
            at: t("2024-06-10T14:01:12Z"),
            owner: Some(OwnerRef::new(Source::Salesforce, "005000000000001AAA").unwrap()),
        }
    );
}

#[test]
fn queues_are_flagged_and_notifications_sorted_by_modstamp() {
    let batch = OutboundMessage::parse(&text("salesforce/two-notifications.xml"))
        .unwrap()
        .facts()
        .unwrap();
    let owners: Vec<(bool, &str)> = batch
        .facts
        .iter()
        .filter_map(|k| match &k.fact {
            Fact::Owner { owner: Some(o), .. } => Some((o.queue, o.id.as_str())),
            _ => None,
        })
        .collect();
    // The queue assignment (15:00) comes before the rep's (15:20), though it was sent second.
    assert_eq!(owners, [(true, "00G000000000001AAA"), (false, "005000000000002AAA")]);
    // One lead, two notifications: one creation.
    let created = batch
        .facts
        .iter()
        .filter(|k| matches!(k.fact, Fact::Seen { .. }))
        .count();
    let mut keys: Vec<&str> = batch.facts.iter().map(|k| k.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        (created, keys.len()),
        (2, 5),
        "both Seen facts share the record's creation key"
    );
}

#[test]
fn completed_tasks_are_touches_open_ones_and_other_objects_are_ignored() {
    let batch = OutboundMessage::parse(&text("salesforce/task-notification.xml"))
        .unwrap()
        .facts()
        .unwrap();
    let [touch] = batch.facts.as_slice() else {
        panic!("{batch:?}")
    };
    assert_eq!(
        touch.fact,
        Fact::Touch {
            who: PersonRef {
                record: Some(rec("00Q000000000001AAA")),
                ..PersonRef::default()
            },
            owner: Some(OwnerRef::new(Source::Salesforce, "005000000000001AAA").unwrap()),
            channel: "call".into(),
            outcome: Some("Connected".into()),
            at: t("2024-06-10T14:20:00Z"),
        }
    );
    assert_eq!(
        touch.key.as_str(),
        "salesforce:00D000000000001AAA:00T000000000001AAA:touch"
    );
    let ignored: Vec<(usize, &str)> = batch.ignored.iter().map(|i| (i.position, i.what.as_str())).collect();
    assert_eq!(ignored, [(1, "sf:Task"), (2, "sf:Account")]);
}

#[test]
fn org_check_accepts_15_and_18_character_ids() {
    let msg = OutboundMessage::parse(&text("salesforce/lead-notification.xml")).unwrap();
    assert_eq!(msg.ensure_org(&[org("00D000000000001")]), Ok(()));
    assert_eq!(msg.ensure_org(&[org("00D000000000001AAA")]), Ok(()));
    assert_eq!(
        msg.ensure_org(&[org("00D000000000009AAA")]),
        Err(SalesforceError::UnknownOrg("00D000000000001AAA".into()))
    );
}

#[test]
fn the_ack_and_the_fault_are_the_wsdls_envelopes() {
    assert_eq!(
        ACK,
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>\
         <notificationsResponse xmlns=\"http://soap.sforce.com/2005/09/outbound\"><Ack>true</Ack>\
         </notificationsResponse></soapenv:Body></soapenv:Envelope>"
    );
    let f = fault(FaultCode::Server, "store <down> & retrying");
    assert!(
        f.contains("<faultcode>soapenv:Server</faultcode><faultstring>store &lt;down&gt; &amp; retrying</faultstring>"),
        "{f}"
    );
    assert!(f.starts_with(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><soapenv:Fault>"
    ));
}

#[test]
fn malformed_messages_are_errors() {
    let lead = text("salesforce/lead-notification.xml");
    assert!(matches!(OutboundMessage::parse("<a>"), Err(SalesforceError::Xml(_))));
    assert!(matches!(
        OutboundMessage::parse("<a/>"),
        Err(SalesforceError::NotOutbound(_))
    ));
    let wrong_ns = lead.replace("http://soap.sforce.com/2005/09/outbound", "urn:other");
    assert!(matches!(
        OutboundMessage::parse(&wrong_ns),
        Err(SalesforceError::NotOutbound(_))
    ));
    let dtd = format!(
        "<!DOCTYPE x [<!ENTITY e \"boom\">]>{}",
        lead.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "")
    );
    assert!(matches!(OutboundMessage::parse(&dtd), Err(SalesforceError::Xml(_))));
    let none = lead.replace(
        &lead[lead.find("<Notification>").unwrap()..lead.find("</notifications>").unwrap()],
        "",
    );
    assert_eq!(OutboundMessage::parse(&none), Err(SalesforceError::Count(0)));
    let start = lead.find("<Notification>").unwrap();
    let end = lead.find("</Notification>").unwrap() + "</Notification>".len();
    let many = lead.replace(&lead[start..end], &lead[start..end].repeat(101));
    assert_eq!(OutboundMessage::parse(&many), Err(SalesforceError::Count(101)));
    let bad_owner = lead.replace("005000000000001AAA", "005 0001");
    assert!(matches!(
        OutboundMessage::parse(&bad_owner).unwrap().facts(),
        Err(SalesforceError::Id { .. })
    ));
}

#[test]
fn a_resend_keeps_its_keys_even_when_the_values_moved_on() {
    let first = OutboundMessage::parse(&text("salesforce/lead-notification.xml"))
        .unwrap()
        .facts()
        .unwrap();
    let resent =
        text("salesforce/lead-notification.xml").replace("2024-06-10T14:01:12.000Z", "2024-06-10T14:09:00.000Z");
    let again = OutboundMessage::parse(&resent).unwrap().facts().unwrap();
    let keys = |b: &leadclock_crm::Batch| b.facts.iter().map(|k| k.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&first), keys(&again));
    assert_ne!(
        first.facts[2].fact, again.facts[2].fact,
        "the owner fact is re-timed, its key is not"
    );
}
