//! Fault injection on the shared handlers with the real SQLite store: failed notifications,
//! failed timers, a crash between storing and scheduling, and racing timers. In every case
//! the event is kept, the escalation still happens, and no step is sent twice.

use chrono::{DateTime, Duration, Utc};
use leadclock_app::error::PortError;
use leadclock_app::inbound::Kind;
use leadclock_app::ports::{EventStore, ManualClock, Notifier, Timers};
use leadclock_app::App;
use leadclock_domain::clock::{Escalation, Timer};
use leadclock_domain::{LeadId, Policy};
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

fn policy() -> Arc<Policy> {
    Arc::new(Policy::parse(include_str!("../../../policies/example.toml")).unwrap())
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("leadclock-faults-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The real local notifier behind a switch that fails the first `fail_first` calls.
#[derive(Clone)]
struct Flaky {
    inner: LocalNotifier,
    fail_first: Arc<AtomicU32>,
}

impl Notifier for Flaky {
    async fn notify(&self, e: &Escalation) -> Result<(), PortError> {
        if self.fail_first.load(Ordering::SeqCst) > 0 {
            self.fail_first.fetch_sub(1, Ordering::SeqCst);
            return Err(PortError::transient("publish", "injected failure"));
        }
        self.inner.notify(e).await
    }
    async fn publish_rollup(&self, day: &str, summary: &str, report: &serde_json::Value) -> Result<(), PortError> {
        self.inner.publish_rollup(day, summary, report).await
    }
}

/// Records what is armed; can be told to fail.
#[derive(Clone, Default)]
struct RecordingTimers {
    armed: Arc<Mutex<Vec<Timer>>>,
    cancelled: Arc<Mutex<Vec<Timer>>>,
    failing: Arc<AtomicU32>,
}

impl Timers for RecordingTimers {
    async fn schedule(&self, timer: &Timer) -> Result<(), PortError> {
        if self.failing.load(Ordering::SeqCst) > 0 {
            self.failing.fetch_sub(1, Ordering::SeqCst);
            return Err(PortError::transient("create schedule", "injected failure"));
        }
        let mut armed = self.armed.lock().unwrap();
        armed.retain(|t| t.key() != timer.key());
        armed.push(timer.clone());
        Ok(())
    }
    async fn cancel(&self, timer: &Timer) -> Result<(), PortError> {
        self.armed.lock().unwrap().retain(|t| t.key() != timer.key());
        self.cancelled.lock().unwrap().push(timer.clone());
        Ok(())
    }
}

type TestApp = App<SqliteStore, RecordingTimers, Flaky, ManualClock>;

fn app(tag: &str, now: DateTime<Utc>) -> (TestApp, std::path::PathBuf) {
    let dir = temp_dir(tag);
    let store = SqliteStore::open(&dir).unwrap();
    let notifier = Flaky {
        inner: LocalNotifier::new(&dir, Webhooks::default(), false),
        fail_first: Arc::default(),
    };
    (
        App::new(
            policy(),
            store,
            RecordingTimers::default(),
            notifier,
            ManualClock::at(now),
        ),
        dir,
    )
}

fn sent_lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("escalations.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Monday 2026-11-23 10:00 New York.
const MON10: &str = "2026-11-23T15:00:00Z";

async fn demo_lead(app: &TestApp, lead: &str) {
    let at = app_now(app).to_rfc3339();
    let form = format!(r#"{{"lead_id":"{lead}","occurred_at":"{at}","lead_type":"demo_request"}}"#);
    let assign = format!(r#"{{"lead_id":"{lead}","occurred_at":"{at}","owner":"alice"}}"#);
    app.ingest(Kind::Form, form.as_bytes()).await.unwrap();
    app.ingest(Kind::Assignment, assign.as_bytes()).await.unwrap();
}

fn app_now(app: &TestApp) -> DateTime<Utc> {
    use leadclock_app::ports::Clock;
    app.clock.now()
}

#[tokio::test]
async fn a_failed_notification_is_retried_and_sent_once() {
    let (app, dir) = app("notify", t(MON10));
    demo_lead(&app, "L-1").await;
    let lead = LeadId::parse("L-1").unwrap();
    app.notifier.fail_first.store(2, Ordering::SeqCst);
    app.clock.advance(Duration::minutes(6));
    let r = app.reconcile(&lead, None).await.unwrap();
    assert!(r.sent.is_empty());
    assert_eq!(r.failures.len(), 1);
    // The retry timer is armed a little later, not in a tight loop.
    let armed = app.timers.armed.lock().unwrap().clone();
    assert_eq!(
        armed[0].due_at,
        app_now(&app) + leadclock_app::handlers::reconcile::RETRY_DELAY
    );
    // The lead stays marked for the sweep.
    let pending = leadclock_app::ports::LeadIndex::needing_attention(&app.store, app_now(&app))
        .await
        .unwrap();
    assert_eq!(pending, vec![lead.clone()]);
    // Second attempt fails too; the third delivers.
    app.clock.advance(Duration::seconds(30));
    assert_eq!(app.sweep(Duration::zero()).await.unwrap(), 1);
    assert!(sent_lines(&dir).is_empty());
    app.clock.advance(Duration::seconds(30));
    app.sweep(Duration::zero()).await.unwrap();
    assert_eq!(sent_lines(&dir).len(), 1);
    // Further passes send nothing more.
    app.reconcile(&lead, None).await.unwrap();
    app.sweep(Duration::zero()).await.unwrap();
    assert_eq!(sent_lines(&dir).len(), 1);
    let claims = app
        .store
        .load(&lead)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_id.as_str().starts_with("esc:"))
        .count();
    assert_eq!(claims, 1);
}

#[tokio::test]
async fn a_crash_between_storing_and_scheduling_is_mended_by_the_sweep() {
    let (app, dir) = app("crash", t(MON10));
    // Store events without reconciling, as if the process died right after the append.
    let policy = policy();
    for (kind, body) in [
        (
            Kind::Form,
            r#"{"lead_id":"L-2","occurred_at":"2026-11-23T15:00:00Z","lead_type":"demo_request"}"#,
        ),
        (
            Kind::Assignment,
            r#"{"lead_id":"L-2","occurred_at":"2026-11-23T15:00:00Z","owner":"alice"}"#,
        ),
    ] {
        let e =
            leadclock_app::inbound::leadclock_json::parse_event(kind, body.as_bytes(), &policy, app_now(&app)).unwrap();
        app.store.append(&e).await.unwrap();
    }
    assert!(app.timers.armed.lock().unwrap().is_empty());
    // The sweep finds the unreconciled lead and arms its timer.
    assert_eq!(app.sweep(Duration::zero()).await.unwrap(), 1);
    let armed = app.timers.armed.lock().unwrap().clone();
    assert_eq!(armed.len(), 1);
    assert_eq!(armed[0].due_at, t(MON10) + Duration::minutes(5));
    // Once reconciled and not yet due, the sweep leaves it alone.
    assert_eq!(app.sweep(Duration::zero()).await.unwrap(), 0);
    // Even if the timer itself is lost, the sweep sends the step when due.
    app.timers.armed.lock().unwrap().clear();
    app.clock.advance(Duration::minutes(5));
    assert_eq!(app.sweep(Duration::zero()).await.unwrap(), 1);
    assert_eq!(sent_lines(&dir).len(), 1);
}

#[tokio::test]
async fn a_failed_schedule_leaves_the_lead_for_the_sweep() {
    let (app, _dir) = app("schedule", t(MON10));
    app.timers.failing.store(1, Ordering::SeqCst);
    demo_lead(&app, "L-3").await;
    // The form's timer failed; the assignment's pass armed the response timer.
    let pending = leadclock_app::ports::LeadIndex::needing_attention(&app.store, app_now(&app))
        .await
        .unwrap();
    assert!(pending.is_empty(), "the second pass succeeded and cleared the mark");
    app.timers.failing.store(1, Ordering::SeqCst);
    let form = r#"{"lead_id":"L-3b","occurred_at":"2026-11-23T15:01:00Z","lead_type":"free_trial"}"#;
    let accepted = app.ingest(Kind::Form, form.as_bytes()).await.unwrap();
    assert!(!accepted.duplicate, "the event is kept although its timer failed");
    let pending = leadclock_app::ports::LeadIndex::needing_attention(&app.store, app_now(&app))
        .await
        .unwrap();
    assert_eq!(pending, vec![LeadId::parse("L-3b").unwrap()]);
    app.sweep(Duration::zero()).await.unwrap();
    let armed = app.timers.armed.lock().unwrap().clone();
    assert!(armed.iter().any(|t| t.lead_id.as_str() == "L-3b"), "{armed:?}");
    assert_eq!(app.sweep(Duration::zero()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_touch_cancels_the_armed_timer() {
    let (app, _dir) = app("cancel", t(MON10));
    demo_lead(&app, "L-4").await;
    assert_eq!(app.timers.armed.lock().unwrap().len(), 1);
    let touch = r#"{"lead_id":"L-4","occurred_at":"2026-11-23T15:02:00Z","channel":"email"}"#;
    app.ingest(Kind::Touch, touch.as_bytes()).await.unwrap();
    assert!(app.timers.armed.lock().unwrap().is_empty());
    assert_eq!(
        app.timers.cancelled.lock().unwrap().len(),
        2,
        "the form's assignment timer and the response timer"
    );
}

#[tokio::test]
async fn racing_timers_send_each_step_once() {
    let (app, dir) = app("race", t(MON10));
    let app = Arc::new(app);
    for i in 0..5 {
        demo_lead(&app, &format!("L-r{i}")).await;
    }
    // Eight hours later every step of every lead is due; fire 8 reconciles per lead at once.
    app.clock.advance(Duration::hours(8));
    let mut tasks = Vec::new();
    for i in 0..5 {
        for _ in 0..8 {
            let app = app.clone();
            let lead = LeadId::parse(&format!("L-r{i}")).unwrap();
            tasks.push(tokio::spawn(async move {
                app.reconcile(&lead, None).await.unwrap().sent.len()
            }));
        }
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 15, "3 steps x 5 leads");
    assert_eq!(sent_lines(&dir).len(), 15);
}

#[tokio::test]
async fn an_event_that_sends_a_due_step_arms_the_next_one() {
    let (app, dir) = app("next-step", t(MON10));
    demo_lead(&app, "L-5").await;
    // The owner step is due; before its timer fires, an unrelated event arrives.
    app.clock.advance(Duration::minutes(6));
    let voicemail = r#"{"lead_id":"L-5","occurred_at":"2026-11-23T15:05:30Z","channel":"call","outcome":"voicemail"}"#;
    app.ingest(Kind::Touch, voicemail.as_bytes()).await.unwrap();
    assert_eq!(
        sent_lines(&dir).len(),
        1,
        "the due owner step was sent by the ingest pass"
    );
    let armed = app.timers.armed.lock().unwrap().clone();
    assert_eq!(armed.len(), 1);
    assert_eq!(
        (armed[0].step, armed[0].due_at),
        (1, t(MON10) + Duration::minutes(5) + Duration::hours(2))
    );
}
