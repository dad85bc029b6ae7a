//! Classification on the way in: a form without a lead type is typed by the policy's rules or
//! excluded by them, and an excluded lead is never clocked but counted apart in reports.

use chrono::{DateTime, Duration, Utc};
use leadclock_app::error::HttpError;
use leadclock_app::inbound::Kind;
use leadclock_app::memory::MemoryStore;
use leadclock_app::ports::ManualClock;
use leadclock_app::query::{RawReportQuery, ReportQuery};
use leadclock_app::App;
use leadclock_domain::event::Classified;
use leadclock_domain::Policy;
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::timers::LocalTimers;
use std::sync::Arc;

type TestApp = App<MemoryStore, LocalTimers, LocalNotifier, ManualClock>;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn app(
    now: DateTime<Utc>,
) -> (
    TestApp,
    tokio::sync::mpsc::UnboundedReceiver<leadclock_local::timers::Fired>,
) {
    let policy = Arc::new(Policy::parse(include_str!("../../../policies/example.toml")).unwrap());
    let clock = ManualClock::at(now);
    let (timers, fired) = LocalTimers::start(clock.clone());
    let dir = std::env::temp_dir().join(format!("leadclock-classify-{}", std::process::id()));
    let notifier = LocalNotifier::new(&dir, Webhooks::default(), false);
    (App::new(policy, MemoryStore::new(), timers, notifier, clock), fired)
}

/// Monday 2026-11-23 10:00 New York.
const MON10: &str = "2026-11-23T15:00:00Z";

fn form(lead: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut body = serde_json::json!({"lead_id": lead, "occurred_at": MON10});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body.to_string().into_bytes()
}

#[tokio::test]
async fn rules_type_a_form_and_an_explicit_lead_type_wins() {
    let (app, _fired) = app(t(MON10));
    let a = app
        .ingest(
            Kind::Form,
            &form(
                "L-demo",
                serde_json::json!({"attributes": {"form_name": "Book a demo"}}),
            ),
        )
        .await
        .unwrap();
    let view = a.lead.unwrap();
    assert_eq!(view.lead_type.as_deref(), Some("demo_request"));
    let lead = app.lead("L-demo").await.unwrap();
    assert_eq!(lead.cycles[0].lead_type, "demo_request");
    // The same facts with an explicit type: the sender wins over every rule.
    let explicit = serde_json::json!({"lead_type": "content_mql", "attributes": {"form_name": "Book a demo"}});
    let b = app.ingest(Kind::Form, &form("L-explicit", explicit)).await.unwrap();
    assert_eq!(b.lead.unwrap().lead_type.as_deref(), Some("content_mql"));
}

#[tokio::test]
async fn an_excluded_lead_is_never_clocked_and_is_counted_apart() {
    let (app, _fired) = app(t(MON10));
    let partner = serde_json::json!({"attributes": {"partner": "yes", "form_name": "Book a demo"}});
    let a = app.ingest(Kind::Form, &form("L-partner", partner)).await.unwrap();
    let view = a.lead.unwrap();
    assert!(view.clocks.is_empty(), "no clock runs: {:?}", view.clocks);
    assert!(view.next_escalation.is_none());
    let fold = leadclock_domain::Lead::fold(
        leadclock_domain::LeadId::parse("L-partner").unwrap(),
        &leadclock_app::ports::EventStore::load(&app.store, &leadclock_domain::LeadId::parse("L-partner").unwrap())
            .await
            .unwrap(),
        &app.policy,
    );
    assert_eq!(
        fold.cycles[0].classified,
        Some(Classified::Excluded {
            rule: "partners".into(),
            reason: "partner".into()
        })
    );
    app.ingest(Kind::Form, &form("L-content", serde_json::json!({"score": 55})))
        .await
        .unwrap();
    app.clock.advance(Duration::days(1));
    let raw = RawReportQuery {
        from: Some("2026-11-23".into()),
        to: Some("2026-11-23".into()),
        ..Default::default()
    };
    let report = app.metrics(&ReportQuery::parse(&raw).unwrap()).await.unwrap();
    assert_eq!(report.excluded.total, 1);
    assert_eq!(report.excluded.by_rule.get("partners"), Some(&1));
    assert_eq!(report.overall.volume.mqls, 1, "the excluded lead is not an MQL");
}

#[tokio::test]
async fn an_untyped_form_the_rules_cannot_place_is_refused_with_a_clear_error() {
    let (app, _fired) = app(t(MON10));
    let e = app
        .ingest(Kind::Form, &form("L-none", serde_json::json!({"source": "organic"})))
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.code(), e.field().as_deref()),
        (422, "unclassified", Some("lead_type"))
    );
    let e = app
        .ingest(Kind::Form, &form("L-bad", serde_json::json!({"lead_type": "yacht"})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unknown_lead_type");
}
