mod common;

use common::{fixture, t};
use leadclock_crm::hubspot::signature::{sign_legacy, verify_legacy, LegacyRequest};
use leadclock_crm::hubspot::{parse_events, parse_workflow, HubSpotError};
use leadclock_crm::{Fact, OwnerRef, RecordKey, SignatureError, SigningSecret, Source};

#[test]
fn the_documented_example_reads_both_spellings_of_the_event_type() {
    let batch = parse_events(&fixture("hubspot/docs-example.json")).unwrap();
    assert!(batch.ignored.is_empty(), "{:?}", batch.ignored);
    let at = t("2016-05-02T19:11:47.945Z");
    let facts: Vec<&Fact> = batch.facts.iter().map(|k| &k.fact).collect();
    assert!(facts.contains(&&Fact::Property {
        record: RecordKey::hubspot(33, 1246965),
        at,
        name: "lifecyclestage".into(),
        value: Some("subscriber".into()),
    }));
    assert!(facts.contains(&&Fact::Seen {
        record: RecordKey::hubspot(33, 1246978),
        at,
        properties: Default::default()
    }));
    let keys: Vec<&str> = batch.facts.iter().map(|k| k.key.as_str()).collect();
    assert!(
        keys.contains(&"hubspot:33:1246965:lifecyclestage:1462216307945:subscriber"),
        "{keys:?}"
    );
    assert!(keys.contains(&"hubspot:33:1246978:created"), "{keys:?}");
}

#[test]
fn an_owner_change_is_an_owner_fact() {
    let batch = parse_events(&fixture("hubspot/owner-change.json")).unwrap();
    let [only] = batch.facts.as_slice() else {
        panic!("{batch:?}")
    };
    assert_eq!(
        only.fact,
        Fact::Owner {
            record: RecordKey::hubspot(62515, 123),
            at: t("2024-06-10T06:13:20Z"),
            owner: Some(OwnerRef::new(Source::HubSpot, "9001").unwrap()),
        }
    );
    assert_eq!(
        only.key.as_str(),
        "hubspot:62515:123:hubspot_owner_id:1718000000000:9001"
    );
}

#[test]
fn retries_share_a_key_and_batches_come_out_in_time_order() {
    let batch = parse_events(&fixture("hubspot/out-of-order-retry.json")).unwrap();
    let times: Vec<_> = batch.facts.iter().map(|k| k.fact.at()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // Event 2 and its retry (another eventId, another attemptNumber) are the same change.
    assert_eq!(batch.facts.len(), 3);
    assert_eq!(batch.facts[0].key, batch.facts[1].key);
    assert!(matches!(batch.facts[0].fact, Fact::Property { .. }));
    assert!(matches!(batch.facts[2].fact, Fact::Seen { .. }));
}

#[test]
fn generic_contact_events_merges_deletions_and_ignored_types() {
    let batch = parse_events(&fixture("hubspot/mixed-batch.json")).unwrap();
    let what: Vec<(usize, &str)> = batch.ignored.iter().map(|i| (i.position, i.what.as_str())).collect();
    assert_eq!(
        what,
        [
            (1, "object.propertyChange"),
            (2, "company.creation"),
            (6, "contact.associationChange")
        ]
    );
    assert!(batch.ignored[0].reason.contains("0-3"));
    let facts: Vec<&Fact> = batch.facts.iter().map(|k| &k.fact).collect();
    assert_eq!(facts.len(), 4);
    assert!(matches!(facts[0], Fact::Property { name, value: Some(v), .. } if name == "hs_lead_status" && v == "OPEN"));
    assert_eq!(
        facts[1],
        &Fact::Merged {
            into: RecordKey::hubspot(62515, 789),
            merged: vec![RecordKey::hubspot(62515, 123), RecordKey::hubspot(62515, 456)],
            at: t("2024-06-10T06:20:00Z"),
        }
    );
    assert_eq!(
        facts[2],
        &Fact::Deleted {
            record: RecordKey::hubspot(62515, 456),
            at: t("2024-06-10T06:21:40Z")
        }
    );
    assert!(
        matches!(facts[3], Fact::Owner { owner: None, .. }),
        "an emptied owner is unassigned"
    );
}

#[test]
fn bad_bodies_are_errors_and_a_bad_event_is_ignored_beside_good_ones() {
    assert!(matches!(parse_events(b"[{"), Err(HubSpotError::Json(_))));
    assert_eq!(parse_events(b"{}"), Err(HubSpotError::NotArray));
    let event = r#"{"subscriptionType":"contact.creation","portalId":1,"objectId":2,"occurredAt":3}"#;
    let big = format!("[{}]", vec![event; 101].join(","));
    assert_eq!(parse_events(big.as_bytes()), Err(HubSpotError::TooMany(101)));
    let hundred = format!("[{}]", vec![event; 100].join(","));
    assert_eq!(parse_events(hundred.as_bytes()).unwrap().facts.len(), 100);
    // One unreadable event is ignored with its reason; its neighbours are read.
    let no_portal = format!(
        r#"[{{"subscriptionType":"contact.creation","objectId":2,"occurredAt":3}},{event},
           {{"subscriptionType":"contact.propertyChange","portalId":1,"objectId":2,"occurredAt":4,
             "propertyName":"hubspot_owner_id","propertyValue":"not an owner id"}}]"#
    );
    let read = parse_events(no_portal.as_bytes()).unwrap();
    assert_eq!(read.facts.len(), 1, "{read:?}");
    let reasons: Vec<(usize, &str)> = read.ignored.iter().map(|i| (i.position, i.reason.as_str())).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].0 == 0 && reasons[0].1.contains("portalId"), "{reasons:?}");
    assert_eq!(reasons[1].0, 2, "{reasons:?}");
    // An unknown type is not an error, even with nothing else in it.
    let odd = parse_events(br#"[{"subscriptionType":"conversation.newMessage"}]"#).unwrap();
    assert_eq!(odd.ignored.len(), 1);
}

#[test]
fn workflow_contact_body_is_an_engagement_with_the_latest_form() {
    let batch = parse_workflow(&fixture("hubspot/workflow-contact.json"), Some(62515)).unwrap();
    let [only] = batch.facts.as_slice() else {
        panic!("{batch:?}")
    };
    let Fact::Engaged { record, at, properties } = &only.fact else {
        panic!("{only:?}")
    };
    assert_eq!(record, &RecordKey::hubspot(62515, 123));
    assert_eq!(*at, t("2024-06-10T06:13:20Z"));
    assert_eq!(properties["email"], "ada@example.com");
    assert_eq!(properties["lifecyclestage"], "marketingqualifiedlead");
    assert_eq!(properties["form-submissions.latest.title"], "Demo request");
    assert_eq!(properties["recent_conversion_event_name"], "Demo request");
    assert_eq!(only.key.as_str(), "hubspot:62515:123:workflow:1718000000000");
    assert_eq!(
        parse_workflow(&fixture("hubspot/workflow-contact.json"), Some(1)),
        Err(HubSpotError::PortalMismatch {
            body: 62515,
            configured: 1
        })
    );
}

#[test]
fn workflow_custom_body_uses_the_configured_portal() {
    let body = fixture("hubspot/workflow-custom.json");
    let batch = parse_workflow(&body, Some(62515)).unwrap();
    let Fact::Engaged { record, at, properties } = &batch.facts[0].fact else {
        panic!("{batch:?}")
    };
    assert_eq!(
        (record, *at),
        (&RecordKey::hubspot(62515, 123), t("2024-06-10T06:13:20Z"))
    );
    assert_eq!(properties["hs_analytics_source"], "ORGANIC_SEARCH");
    // The same form fill, sent by the full-contact shape, gets the same key.
    let full = parse_workflow(&fixture("hubspot/workflow-contact.json"), Some(62515)).unwrap();
    assert_eq!(batch.facts[0].key, full.facts[0].key);
    assert!(matches!(parse_workflow(&body, None), Err(HubSpotError::Workflow(_))));
    assert!(matches!(
        parse_workflow(br#"{"email":"a@b.c","createdate":"1"}"#, Some(1)),
        Err(HubSpotError::Workflow(_))
    ));
}

const DOC_SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";

#[test]
fn legacy_signatures_match_hubspots_documented_vectors() {
    let secret = SigningSecret::new(DOC_SECRET);
    let body = fixture("hubspot/v1-signature-example.json");
    let v1 = LegacyRequest {
        method: "POST",
        uri: "https://ignored.example",
        body: &body,
    };
    assert_eq!(
        sign_legacy(&secret, "v1", &v1).unwrap(),
        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    );
    let get = LegacyRequest {
        method: "GET",
        uri: "https://www.example.com/webhook_uri",
        body: b"",
    };
    assert_eq!(
        sign_legacy(&secret, "v2", &get).unwrap(),
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    );
    let post = LegacyRequest {
        method: "POST",
        uri: "https://www.example.com/webhook_uri",
        body: br#"{"example_field":"example_value"}"#,
    };
    assert_eq!(
        sign_legacy(&secret, "v2", &post).unwrap(),
        "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
    );
}

#[test]
fn legacy_verification_rotates_and_refuses_tampering() {
    let secrets = SigningSecret::list(&format!("retired-secret,{DOC_SECRET}"));
    let post = LegacyRequest {
        method: "POST",
        uri: "https://www.example.com/webhook_uri",
        body: br#"{"example_field":"example_value"}"#,
    };
    let good = "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900";
    assert_eq!(verify_legacy(&secrets, Some("v2"), Some(good), &post), Ok(1));
    let tampered = LegacyRequest {
        body: br#"{"example_field":"example_valuE"}"#,
        ..post
    };
    assert_eq!(
        verify_legacy(&secrets, Some("v2"), Some(good), &tampered),
        Err(SignatureError::Mismatch("x-hubspot-signature"))
    );
    assert_eq!(
        verify_legacy(&secrets, Some("v1"), Some(good), &post),
        Err(SignatureError::Mismatch("x-hubspot-signature"))
    );
    assert_eq!(
        verify_legacy(&secrets, Some("v9"), Some(good), &post),
        Err(SignatureError::Malformed("x-hubspot-signature-version"))
    );
    assert_eq!(
        verify_legacy(&secrets, None, Some(good), &post),
        Err(SignatureError::Missing("x-hubspot-signature-version"))
    );
}
