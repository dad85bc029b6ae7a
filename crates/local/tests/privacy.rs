//! Personal data's lifecycle on the real handlers over SQLite: erasure by lead and by email,
//! the retention pass visiting each quiet lead once, old data erased as it arrives, and
//! timelines and metrics unchanged by any of it.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadclock_app::handlers::privacy::{ContactEmail, PrivacyError, Subject};
use leadclock_app::inbound::Kind;
use leadclock_app::ports::{EventStore, PersonalData};
use leadclock_domain::{Event, EventBody, LeadId};
use serde_json::json;
use support::{harness, open, temp_dir, Harness, EXAMPLE};

fn lead(id: &str) -> LeadId {
    LeadId::parse(id).unwrap()
}

/// A Tuesday morning in New York, so the example policy's business hours apply.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 2, 15, 0, 0).unwrap()
}

/// A form with a contact, then an assignment and a touch, all at the clock's instant.
async fn lead_with_contact(h: &Harness, id: &str, at: DateTime<Utc>, email: &str) {
    h.app.clock.set(at);
    h.send(
        Kind::Form,
        json!({"lead_id": id, "occurred_at": at.to_rfc3339(), "lead_type": "demo_request", "region": "na",
               "contact": {"name": "Ada Lovelace", "email": email, "company": "Analytical Engines"},
               "attributes": {"job_title": "Countess"}, "phone": "+1 555 0100"}),
    )
    .await;
    h.assign(id, at + Duration::minutes(2), "alice").await;
    h.touch(id, at + Duration::minutes(9)).await;
}

fn holds_contact(events: &[Event]) -> bool {
    events.iter().any(Event::holds_personal_data)
}

async fn stored(h: &Harness, id: &str) -> Vec<Event> {
    let mut events = h.app.store.load(&lead(id)).await.unwrap();
    events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    events
}

/// What the fold reads from the stored events: everything but personal data and its mark.
fn facts(events: &[Event]) -> Vec<(String, DateTime<Utc>, String)> {
    events
        .iter()
        .map(|e| {
            let kind = match &e.body {
                EventBody::Form(f) => format!("form {} {:?} {:?}", f.lead_type, f.source, f.region),
                other => format!("{other:?}"),
            };
            (e.event_id.to_string(), e.occurred_at, kind)
        })
        .collect()
}

#[tokio::test]
async fn erasure_by_email_takes_every_lead_of_the_person_and_leaves_the_metrics() {
    let h = harness("erase-email", t0());
    lead_with_contact(&h, "P-1", t0(), "Ada@Example.com").await;
    lead_with_contact(&h, "P-2", t0() + Duration::hours(1), "ada@example.com").await;
    lead_with_contact(&h, "P-3", t0() + Duration::hours(2), "grace@example.com").await;
    let (from, to) = ("2027-03-01", "2027-03-05");
    let before = serde_json::to_value(h.report(from, to, Some("lead_type")).await).unwrap();
    let views_before = (h.app.lead("P-1").await.unwrap(), h.app.lead("P-2").await.unwrap());
    let events_before = stored(&h, "P-1").await;

    let email = ContactEmail::parse("ADA@example.COM").unwrap();
    let done = h.app.erase(&Subject::Email(email.clone())).await.unwrap();
    let mut erased: Vec<_> = done.leads.iter().map(|l| l.lead_id.as_str()).collect();
    erased.sort_unstable();
    assert_eq!(erased, ["P-1", "P-2"]);
    // The form of each: its contact, attributes and unknown field ("phone").
    assert_eq!(done.events_erased, 2);
    for id in ["P-1", "P-2"] {
        assert!(!holds_contact(&stored(&h, id).await), "{id} still holds personal data");
    }
    assert!(
        holds_contact(&stored(&h, "P-3").await),
        "another person's lead is left alone"
    );
    assert_eq!(facts(&stored(&h, "P-1").await), facts(&events_before));

    // Timelines, clocks and every metric read as before.
    let after = serde_json::to_value(h.report(from, to, Some("lead_type")).await).unwrap();
    assert_eq!(after, before);
    let views_after = (h.app.lead("P-1").await.unwrap(), h.app.lead("P-2").await.unwrap());
    for (b, a) in [(&views_before.0, &views_after.0), (&views_before.1, &views_after.1)] {
        assert_eq!(
            serde_json::to_value(&a.timeline).unwrap(),
            serde_json::to_value(&b.timeline).unwrap()
        );
        assert_eq!(
            serde_json::to_value(&a.cycles).unwrap(),
            serde_json::to_value(&b.cycles).unwrap()
        );
    }

    // Erasing again erases nothing: a lead id still names its lead; the email names none any
    // more, which is an answer, not an error (a retried request, or an email never stored:
    // the two must look alike).
    let again = h.app.erase(&Subject::Lead(lead("P-1"))).await.unwrap();
    assert_eq!((again.leads.len(), again.events_erased), (1, 0));
    let again = h.app.erase(&Subject::Email(email)).await.unwrap();
    assert_eq!((again.leads.len(), again.events_erased), (0, 0));
    let nobody = ContactEmail::parse("nobody@example.com").unwrap();
    assert!(h.app.erase(&Subject::Email(nobody)).await.unwrap().leads.is_empty());
    assert!(matches!(
        h.app.erase(&Subject::Lead(lead("NO-SUCH"))).await,
        Err(PrivacyError::NotFound)
    ));
}

#[tokio::test]
async fn forms_told_apart_only_by_personal_data_stay_two_after_the_erasure() {
    let h = harness("erase-twins", t0());
    for (id, form_name) in [("f-a", "Request a demo"), ("f-b", "Pricing page")] {
        h.send(
            Kind::Form,
            json!({"event_id": id, "lead_id": "T-1", "occurred_at": t0().to_rfc3339(), "lead_type": "demo_request",
                   "attributes": {"form_name": form_name}, "contact": {"email": "twin@example.com"}}),
        )
        .await;
    }
    // The same form again under a third id: one fact with f-a, before and after.
    h.send(
        Kind::Form,
        json!({"event_id": "f-c", "lead_id": "T-1", "occurred_at": t0().to_rfc3339(), "lead_type": "demo_request",
               "attributes": {"form_name": "Request a demo"}, "contact": {"email": "twin@example.com"}}),
    )
    .await;
    let before = h.app.lead("T-1").await.unwrap();
    h.app.erase(&Subject::Lead(lead("T-1"))).await.unwrap();
    let after = h.app.lead("T-1").await.unwrap();
    assert!(!holds_contact(&stored(&h, "T-1").await));
    assert_eq!(after.timeline_total, before.timeline_total);
    assert_eq!(
        serde_json::to_value(&after.timeline).unwrap(),
        serde_json::to_value(&before.timeline).unwrap()
    );
    assert_eq!(
        serde_json::to_value(&after.cycles).unwrap(),
        serde_json::to_value(&before.cycles).unwrap()
    );
}

#[tokio::test]
async fn the_same_event_resent_after_an_erasure_is_a_duplicate_not_a_conflict() {
    let h = harness("erase-resend", t0());
    let form = json!({"event_id": "f-1", "lead_id": "R-1", "occurred_at": t0().to_rfc3339(),
                      "lead_type": "demo_request", "contact": {"email": "ada@example.com"}});
    h.send(Kind::Form, form.clone()).await;
    h.app.erase(&Subject::Lead(lead("R-1"))).await.unwrap();
    let again = h.app.ingest(Kind::Form, form.to_string().as_bytes()).await.unwrap();
    assert!(again.duplicate);
    assert!(
        !holds_contact(&stored(&h, "R-1").await),
        "the resend does not bring the data back"
    );
    // A changed fact under the same id is still a conflict.
    let changed = json!({"event_id": "f-1", "lead_id": "R-1", "occurred_at": t0().to_rfc3339(),
                         "lead_type": "free_trial", "contact": {"email": "ada@example.com"}});
    let err = h
        .app
        .ingest(Kind::Form, changed.to_string().as_bytes())
        .await
        .unwrap_err();
    assert_eq!(leadclock_app::error::HttpError::code(&err), "event_id_conflict");
}

#[tokio::test]
async fn the_retention_pass_erases_each_lead_once_it_has_been_quiet_for_the_period() {
    let h = harness("retention", t0());
    lead_with_contact(&h, "Q-1", t0(), "q1@example.com").await;
    lead_with_contact(&h, "Q-2", t0() + Duration::days(10), "q2@example.com").await;
    let (from, to) = ("2027-03-01", "2027-03-20");

    // 95 days after Q-1's last event: Q-1 has been quiet for 90 days, Q-2 for 85.
    h.app.clock.set(t0() + Duration::days(95));
    let before = serde_json::to_value(h.report(from, to, None).await).unwrap();
    let pass = h.app.apply_retention().await.unwrap();
    assert_eq!((pass.leads_erased, pass.events_erased), (1, 1));
    assert!(!holds_contact(&stored(&h, "Q-1").await));
    assert!(holds_contact(&stored(&h, "Q-2").await));
    assert_eq!(serde_json::to_value(h.report(from, to, None).await).unwrap(), before);
    let through = h.app.store.retention_through().await.unwrap();
    assert_eq!(through, Some(t0() + Duration::days(5)));

    // A second pass the same instant has nothing to look at.
    assert_eq!(h.app.apply_retention().await.unwrap().leads_checked, 0);

    // Six days on, Q-2's turn; Q-1 is not visited again.
    h.app.clock.set(t0() + Duration::days(101));
    let pass = h.app.apply_retention().await.unwrap();
    assert_eq!((pass.leads_checked, pass.leads_erased), (1, 1));
    assert!(!holds_contact(&stored(&h, "Q-2").await));
}

#[tokio::test]
async fn personal_data_that_arrives_past_retention_is_not_kept() {
    let h = harness("retention-late", t0() + Duration::days(200));
    // An import of a lead whose last activity is 200 days old: erased as it is reconciled.
    let old = json!({"lead_id": "OLD-1", "occurred_at": t0().to_rfc3339(), "lead_type": "demo_request",
                     "contact": {"email": "old@example.com"}, "history": true});
    h.send(Kind::Form, old).await;
    assert!(!holds_contact(&stored(&h, "OLD-1").await));
    // A recent lead keeps its contact.
    let at = t0() + Duration::days(199);
    h.send(
        Kind::Form,
        json!({"lead_id": "NEW-1", "occurred_at": at.to_rfc3339(), "lead_type": "demo_request",
               "contact": {"email": "new@example.com"}, "history": true}),
    )
    .await;
    assert!(holds_contact(&stored(&h, "NEW-1").await));
}

#[tokio::test]
async fn retention_off_keeps_personal_data_until_erased_on_request() {
    let dir = temp_dir("retention-off");
    let policy = format!(
        "{}\n",
        EXAMPLE.replace("contact_retention = \"90days\"", "contact_retention = \"off\"")
    );
    assert!(policy.contains("\"off\""), "the example policy sets contact_retention");
    let h = open(&dir, &policy, t0());
    lead_with_contact(&h, "K-1", t0(), "k@example.com").await;
    h.app.clock.set(t0() + Duration::days(400));
    let pass = h.app.apply_retention().await.unwrap();
    assert_eq!((pass.cutoff, pass.leads_checked), (None, 0));
    assert!(holds_contact(&stored(&h, "K-1").await));
    assert_eq!(h.app.store.retention_through().await.unwrap(), None);
}
