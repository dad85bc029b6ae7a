//! Outreach and Salesloft: the sales-engagement tools.
mod common;

use common::{fixture, t};
use leadclock_crm::{outreach, salesloft, Fact, OwnerRef, PersonRef, SignatureError, SigningSecret, Source};

#[test]
fn outreach_signature_known_vector_rotation_and_tampering() {
    let body = fixture("outreach/mailing-delivered.json");
    let sig = "a030a0ec00ac2b9b1cfb13954a5d58d5715101dd3e83065f34071d8def560bd9";
    let secrets = SigningSecret::list("old-secret,outreach-webhook-secret");
    assert_eq!(outreach::verify(&secrets, &body, Some(sig)), Ok(1));
    let mut tampered = body.clone();
    tampered[20] ^= 1;
    assert_eq!(
        outreach::verify(&secrets, &tampered, Some(sig)),
        Err(SignatureError::Mismatch(outreach::SIGNATURE_HEADER))
    );
    assert_eq!(
        outreach::verify(&secrets, &body, None),
        Err(SignatureError::Missing(outreach::SIGNATURE_HEADER))
    );
}

#[test]
fn outreach_touches_name_the_prospect_and_the_user() {
    let batch = outreach::parse(&fixture("outreach/mailing-delivered.json")).unwrap();
    assert_eq!(
        batch.facts[0].fact,
        Fact::Touch {
            who: PersonRef::tool(Source::Outreach, "42").unwrap(),
            owner: None,
            channel: "email".into(),
            outcome: Some("delivered".into()),
            at: t("2024-06-10T14:05:00Z"),
        }
    );
    assert_eq!(batch.facts[0].key.as_str(), "outreach:mailing:5001:delivered");
    let call = outreach::parse(&fixture("outreach/call-created.json")).unwrap();
    let Fact::Touch {
        owner,
        outcome,
        at,
        channel,
        ..
    } = &call.facts[0].fact
    else {
        panic!("{call:?}")
    };
    assert_eq!(owner, &Some(OwnerRef::new(Source::Outreach, "11").unwrap()));
    assert_eq!(
        (channel.as_str(), outcome.as_deref(), *at),
        ("call", Some("Answered"), t("2024-06-10T14:30:05Z"))
    );
    let task = outreach::parse(&fixture("outreach/task-completed.json")).unwrap();
    let Fact::Touch { owner, channel, .. } = &task.facts[0].fact else {
        panic!("{task:?}")
    };
    assert_eq!(
        (channel.as_str(), owner.as_ref().map(|o| o.id.as_str())),
        ("email", Some("11"))
    );
    assert_eq!(task.facts[0].key.as_str(), "outreach:task:8001:completed");
}

#[test]
fn outreach_prospects_teach_their_emails_and_other_events_are_ignored() {
    let batch = outreach::parse(&fixture("outreach/prospect-updated.json")).unwrap();
    let Fact::Identified { who, at } = &batch.facts[0].fact else {
        panic!("{batch:?}")
    };
    assert_eq!(who.tool, Some((Source::Outreach, "42".into())));
    assert_eq!(who.emails, ["ada.lovelace@example.org", "ada@example.com"]);
    assert_eq!(*at, t("2025-11-05T10:30:00Z"));
    let none = outreach::parse(&fixture("outreach/prospect-updated-no-emails.json")).unwrap();
    assert_eq!((none.facts.len(), none.ignored.len()), (0, 1));
    let install = outreach::parse(&fixture("outreach/install-created.json")).unwrap();
    assert_eq!(install.ignored[0].what, "install.created");
    assert!(outreach::parse(br#"{"data":{"id":1}}"#).is_err());
    // A call that names no prospect: ignored with the reason, not refused.
    let orphan = outreach::parse(br#"{"data":{"type":"call","id":7,"attributes":{}},"meta":{"eventName":"call.created","deliveredAt":"2025-11-05T10:30:00Z"}}"#).unwrap();
    assert!(orphan.facts.is_empty());
    assert!(
        orphan.ignored[0].reason.contains("relationships.prospect"),
        "{orphan:?}"
    );
}

#[test]
fn salesloft_signature_known_vector_and_tampering() {
    let body = fixture("salesloft/call-created.json");
    let sig = "325b27fdf1545bb1225bd09b4cb95e397b541da8";
    let tokens = SigningSecret::list("salesloft-callback-token");
    assert_eq!(salesloft::verify(&tokens, &body, Some(sig)), Ok(0));
    let tampered = String::from_utf8(body).unwrap().replace("62", "63");
    assert_eq!(
        salesloft::verify(&tokens, tampered.as_bytes(), Some(sig)),
        Err(SignatureError::Mismatch(salesloft::SIGNATURE_HEADER))
    );
    // A SHA-256-length digest is not a SHA-1 signature.
    assert_eq!(
        salesloft::verify(&tokens, b"{}", Some(&"ab".repeat(32))),
        Err(SignatureError::Malformed(salesloft::SIGNATURE_HEADER))
    );
}

#[test]
fn salesloft_calls_and_sent_emails_are_touches() {
    let call = salesloft::parse("call_created", &fixture("salesloft/call-created.json")).unwrap();
    assert_eq!(
        call.facts[0].fact,
        Fact::Touch {
            who: PersonRef::tool(Source::Salesloft, "4242").unwrap(),
            owner: Some(OwnerRef::new(Source::Salesloft, "55").unwrap()),
            channel: "call".into(),
            outcome: Some("Connected".into()),
            at: t("2024-06-10T14:05:00Z"),
        }
    );
    assert_eq!(call.facts[0].key.as_str(), "salesloft:call:777");
    let sent = salesloft::parse("email_updated", &fixture("salesloft/email-updated-sent.json")).unwrap();
    let Fact::Touch { who, at, channel, .. } = &sent.facts[0].fact else {
        panic!("{sent:?}")
    };
    assert_eq!(
        (channel.as_str(), *at, who.emails.as_slice()),
        ("email", t("2024-06-10T14:06:00Z"), &["ada@example.com".to_string()][..])
    );
    let scheduled = salesloft::parse("email_updated", &fixture("salesloft/email-updated-scheduled.json")).unwrap();
    assert!(scheduled.facts.is_empty());
    assert!(scheduled.ignored[0].reason.contains("scheduled"));
    let bounced = String::from_utf8(fixture("salesloft/email-updated-sent.json"))
        .unwrap()
        .replace("\"bounced\":false", "\"bounced\":true");
    assert!(salesloft::parse("email_updated", bounced.as_bytes())
        .unwrap()
        .facts
        .is_empty());
}

#[test]
fn salesloft_people_teach_email_and_crm_id() {
    let batch = salesloft::parse("person_updated", &fixture("salesloft/person-updated.json")).unwrap();
    let Fact::Identified { who, at } = &batch.facts[0].fact else {
        panic!("{batch:?}")
    };
    assert_eq!(who.emails, ["ada@example.com"]);
    assert_eq!(who.crm_id.as_deref(), Some("00Q000000000001AAA"));
    assert_eq!(*at, t("2024-06-10T13:00:00Z"));
    let other = salesloft::parse("meeting_booked", &fixture("salesloft/person-updated.json")).unwrap();
    assert_eq!(other.ignored[0].what, "meeting_booked");
    assert!(salesloft::parse("call_created", b"[]").is_err());
    // A call that names no person is a real call with no lead: ignored with the reason.
    let nobody = salesloft::parse("call_created", br#"{"id":1,"created_at":"2024-06-10T10:05:00Z"}"#).unwrap();
    assert!(nobody.facts.is_empty());
    assert!(nobody.ignored[0].reason.contains("called_person"), "{nobody:?}");
}

#[test]
fn later_updates_of_a_sent_email_are_duplicates() {
    let first = salesloft::parse("email_updated", &fixture("salesloft/email-updated-sent.json")).unwrap();
    let opened = String::from_utf8(fixture("salesloft/email-updated-sent.json"))
        .unwrap()
        .replace("\"views\":0", "\"views\":3")
        .replace(
            "10:06:00.000000-04:00\",\"recipient",
            "11:30:00.000000-04:00\",\"recipient",
        );
    let later = salesloft::parse("email_updated", opened.as_bytes()).unwrap();
    assert_eq!(first.facts[0].key, later.facts[0].key);
    let again = outreach::parse(&fixture("outreach/call-created.json")).unwrap();
    assert_eq!(again.facts[0].key.as_str(), "outreach:call:7001:created");
}
