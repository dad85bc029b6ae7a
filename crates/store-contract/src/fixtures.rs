//! The events, summaries and instants cases store.
//!
//! Activity happens in March 2031 and escalations fall due in 2101: fixed instants, in whole
//! milliseconds (what the adapters index), and in the future, so a live stack's sweep sharing
//! the table finds no step of these leads due.

use crate::check::Failure;
use chrono::{DateTime, Duration, TimeZone, Utc};
use leadclock_app::outbox::{Channel, OutboxMessage};
use leadclock_app::ports::LeadSummary;
use leadclock_domain::event::{Assignment, Classified, Contact, Escalated, Form, Stage, Touch, Void};
use leadclock_domain::steps::{StepKey, StepRecord, StepStatus};
use leadclock_domain::{ClockKind, Event, EventBody, EventId, LeadId, Origin, StageChange};
use std::collections::BTreeMap;

/// `hour`:00 UTC on March `day`, 2031.
pub fn march(day: u32, hour: u32) -> Result<DateTime<Utc>, Failure> {
    Utc.with_ymd_and_hms(2031, 3, day, hour, 0, 0)
        .single()
        .ok_or_else(|| Failure::Fixture(format!("2031-03-{day} {hour}:00")))
}

/// An escalation due `minutes` after 2101-01-01 00:00 UTC.
pub fn due(minutes: i64) -> Result<DateTime<Utc>, Failure> {
    let start = Utc
        .with_ymd_and_hms(2101, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| Failure::Fixture("2101-01-01".into()))?;
    Ok(start + Duration::minutes(minutes))
}

pub fn event_id(id: &str) -> Result<EventId, Failure> {
    EventId::parse(id).map_err(|e| Failure::Fixture(format!("event id {id:?}: {e}")))
}

/// A plain touch: the smallest event.
pub fn touch(lead: &LeadId, id: &str, at: DateTime<Utc>) -> Result<Event, Failure> {
    Ok(event(
        lead,
        event_id(id)?,
        at,
        EventBody::Touch(Touch {
            owner: None,
            channel: "call".into(),
            outcome: None,
        }),
    ))
}

fn event(lead: &LeadId, event_id: EventId, occurred_at: DateTime<Utc>, body: EventBody) -> Event {
    Event::new(event_id, lead.clone(), occurred_at, body)
}

/// One event of every kind, every optional field filled, with text that must survive
/// storage unchanged: non-ASCII, quotes, backslashes, a fraction of a second.
pub fn every_kind(lead: &LeadId, at: DateTime<Utc>) -> Result<Vec<Event>, Failure> {
    let mut form = event(
        lead,
        event_id("form-1")?,
        at + Duration::nanoseconds(123_456_789),
        form_body(),
    );
    form.extra = BTreeMap::from([
        ("crm_id".to_owned(), "0065g00000XyZ".to_owned()),
        ("raw".to_owned(), r#"{"nested":[1,2]}"#.to_owned()),
    ]);
    let assignment = EventBody::Assignment(Assignment {
        owner: "alice".into(),
        team: Some("east".into()),
        manager: Some("maria".into()),
    });
    let touch = EventBody::Touch(Touch {
        owner: Some("alice".into()),
        channel: "call".into(),
        outcome: Some("connected".into()),
    });
    let stage = EventBody::Stage(Stage {
        stage: StageChange::Sal,
        reason: Some("fits the ICP — budget \"confirmed\"".into()),
    });
    // What stores written by earlier releases hold: a claim stored as an event.
    let escalated = EventBody::Escalated(Escalated {
        cycle: 1,
        clock: ClockKind::Response,
        step: 2,
        recipients: vec!["alice".into(), "maria".into()],
    });
    let void = EventBody::Void(Void {
        target: event_id("touch-1")?,
        reason: "logged on the wrong lead".into(),
    });
    let mut history = event(lead, event_id("assign-0")?, at - Duration::days(30), assignment.clone());
    history.origin = Origin::History;
    let mut correction = event(lead, event_id("stage-2")?, at + Duration::seconds(6), stage.clone());
    correction.supersedes = Some(event_id("stage-1")?);
    Ok(vec![
        form,
        history,
        event(lead, event_id("assign-1")?, at + Duration::seconds(1), assignment),
        event(lead, event_id("touch-1")?, at + Duration::milliseconds(2_500), touch),
        event(lead, event_id("stage-1")?, at + Duration::seconds(3), stage),
        event(
            lead,
            event_id(&format!("esc:{lead}:1:response:2"))?,
            at + Duration::seconds(4),
            escalated,
        ),
        event(lead, event_id("void:touch-1")?, at + Duration::seconds(5), void),
        correction,
    ])
}

fn form_body() -> EventBody {
    EventBody::Form(Box::new(Form {
        lead_type: "demo_request".into(),
        classified: Some(Classified::Rule {
            rule: "demo form".into(),
        }),
        source: Some("webinar".into()),
        region: Some("emea".into()),
        segment: Some("enterprise".into()),
        account: Some("acct-42".into()),
        score: Some(73.3),
        contact: Some(Contact {
            name: Some("Zoë Ångström".into()),
            email: Some("zoe@example.org".into()),
            company: Some("Grüße & Söhne \\ GmbH".into()),
        }),
        attributes: BTreeMap::from([
            ("utm_campaign".to_owned(), "spring-2031".to_owned()),
            ("note".to_owned(), "line one\nline two\t東京".to_owned()),
        ]),
        erased_fact: None,
    }))
}

/// A summary of `events` events ending at `last_activity`: nothing due, no engagement, closed.
pub fn summary(lead: &LeadId, events: u64, last_activity: DateTime<Utc>) -> LeadSummary {
    LeadSummary {
        lead_id: lead.clone(),
        events,
        next_due: None,
        first_engaged_at: None,
        last_activity,
        open: false,
        armed: Vec::new(),
        snapshot: None,
        open_clocks: None,
        facts: None,
    }
}

/// A step record with `status`, due at `due_at`, decided then.
pub fn record(key: StepKey, status: StepStatus, due_at: DateTime<Utc>) -> StepRecord {
    StepRecord {
        key,
        status,
        due_at,
        first_seen_at: due_at,
        settle_until: (status == StepStatus::Settling).then(|| due_at + Duration::seconds(60)),
        at: due_at,
        reason: format!("contract: {}", status.as_str()),
    }
}

/// A pending JSON-lines message of `key`, first due at `at`, carrying `tag`.
pub fn message(lead: &LeadId, key: StepKey, at: DateTime<Utc>, tag: &str) -> OutboxMessage {
    let payload = serde_json::json!({"type": "leadclock.test", "tag": tag}).to_string();
    OutboxMessage::new(lead.clone(), key, Channel::Jsonl, payload, at)
}
