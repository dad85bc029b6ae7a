//! Shadow mode on the local host: steps fall due and are recorded as `shadow`, nothing reaches
//! the outbox, reports say what would have gone out; switching the policy to live delivers the
//! next step of a lead already in flight.

mod support;

use chrono::{Duration, NaiveDate};
use chrono_tz::America::New_York;
use leadclock_app::outbox::Channel;
use leadclock_app::ports::Outbox;
use leadclock_app::report_format;
use leadclock_domain::metrics::Earned;
use leadclock_domain::steps::StepStatus;
use leadclock_domain::{ClockKind, LeadId};
use support::{ny, open, response_steps, temp_dir, EXAMPLE};

const OUTCOME: &str = "\"type\":\"leadclock.step_outcome\"";

fn shadow_policy() -> String {
    let shadow = EXAMPLE.replace(
        "label = \"Demo / pricing request\"",
        "label = \"Demo / pricing request\"\nmode = \"shadow\"",
    );
    assert_ne!(shadow, EXAMPLE, "the example policy's demo_request section moved");
    shadow
}

#[tokio::test]
async fn shadow_mode_measures_without_delivering_and_going_live_takes_over_in_flight() {
    let day = NaiveDate::from_ymd_opt(2027, 2, 3).unwrap(); // a Wednesday
    let dir = temp_dir("shadow");
    let lead = LeadId::parse("demo-1").unwrap();
    let h = open(&dir, &shadow_policy(), ny(day, 10, 2));
    h.form("demo-1", ny(day, 10, 0), "demo_request", "organic").await;
    h.assign("demo-1", ny(day, 10, 1), "alice").await;

    // The owner step (10:06) and the manager step (12:06) fall due as timers would fire them.
    for at in [ny(day, 10, 6), ny(day, 12, 6)] {
        h.app.clock.set(at + Duration::seconds(30));
        let r = h.app.reconcile(&lead).await.unwrap();
        assert!(r.sent.is_empty(), "shadow mode sent {:?}", r.sent);
    }
    assert_eq!(
        response_steps(&h, &lead).await,
        [(0, StepStatus::Shadow), (1, StepStatus::Shadow)]
    );
    // Only the audit trail (escalations.jsonl) hears of them, as outcomes, never as escalations.
    let messages = h.app.store.lead_messages(&lead).await.unwrap();
    assert!(
        messages
            .iter()
            .all(|m| m.channel == Channel::Jsonl && m.payload.contains(OUTCOME)),
        "{messages:?}"
    );

    let r = h.report("2027-02-03", "2027-02-03", None).await;
    let e = r.overall.escalations;
    assert_eq!(
        e.shadow,
        Earned {
            leads: 1,
            manager: 1,
            exec: 0
        }
    );
    assert_eq!(e.live, Earned::default());
    let table = report_format::table(&r, New_York);
    assert!(
        table.contains("shadow mode: would have escalated 1 leads (manager 1, exec 0)"),
        "{table}"
    );
    drop(h);

    // Going live is the one-line policy change: the lead in flight gets its next step live.
    let h = open(&dir, EXAMPLE, ny(day, 12, 7));
    h.app.clock.set(ny(day, 17, 0) + Duration::seconds(30));
    let r = h.app.reconcile(&lead).await.unwrap();
    assert_eq!(r.sent.len(), 1, "{:?}", r.recorded);
    assert_eq!(
        response_steps(&h, &lead).await,
        [
            (0, StepStatus::Shadow),
            (1, StepStatus::Shadow),
            (2, StepStatus::Delivering)
        ]
    );
    let escalations: Vec<_> = h
        .app
        .store
        .lead_messages(&lead)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| !m.payload.contains(OUTCOME))
        .collect();
    assert_eq!(escalations.len(), 1, "{escalations:?}");
    assert_eq!(
        (escalations[0].step.clock, escalations[0].step.step),
        (ClockKind::Response, 2)
    );
}
