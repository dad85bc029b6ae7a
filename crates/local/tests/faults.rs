//! Fault injection on the shared handlers with the real SQLite store and the real local
//! channels: failed sends, failed timers, a crash between storing and scheduling, racing
//! timers. In every case the event is kept, the step gets one outcome, its messages survive
//! until a channel takes them, and the JSON-lines file has each step exactly once.

use chrono::{DateTime, Duration, Utc};
use leadclock_app::error::PortError;
use leadclock_app::inbound::Kind;
use leadclock_app::outbox::{Channel, OutboxMessage, OutboxStatus, SendFailure};
use leadclock_app::ports::{Clock, EventStore, LeadIndex, ManualClock, Notifier, Outbox, StepLog, Timers};
use leadclock_app::App;
use leadclock_domain::steps::{StepStatus, Timer};
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

/// The real local channels behind a switch that fails the first `fail_first` sends.
#[derive(Clone)]
struct Flaky {
    inner: LocalNotifier,
    fail_first: Arc<AtomicU32>,
}

impl Notifier for Flaky {
    fn channels_for(&self, status: StepStatus) -> Vec<Channel> {
        self.inner.channels_for(status)
    }
    async fn send(&self, m: &OutboxMessage) -> Result<(), SendFailure> {
        if self.fail_first.load(Ordering::SeqCst) > 0 {
            self.fail_first.fetch_sub(1, Ordering::SeqCst);
            return Err(SendFailure::retry("injected failure"));
        }
        self.inner.send(m).await
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

fn lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("escalations.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The delivered escalations in the JSON-lines file.
fn sent_lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    lines(dir)
        .into_iter()
        .filter(|l| l["type"] == "leadclock.escalation")
        .collect()
}

/// Monday 2026-11-23 10:00 New York.
const MON10: &str = "2026-11-23T15:00:00Z";

async fn demo_lead(app: &TestApp, lead: &str) {
    let at = app.clock.now().to_rfc3339();
    let form = format!(r#"{{"lead_id":"{lead}","occurred_at":"{at}","lead_type":"demo_request"}}"#);
    let assign = format!(r#"{{"lead_id":"{lead}","occurred_at":"{at}","owner":"alice"}}"#);
    app.ingest(Kind::Form, form.as_bytes()).await.unwrap();
    app.ingest(Kind::Assignment, assign.as_bytes()).await.unwrap();
}

/// The response clock's step records, by step.
async fn statuses(app: &TestApp, lead: &LeadId) -> Vec<(u32, StepStatus)> {
    records(app, lead, leadclock_domain::ClockKind::Response).await
}

/// One clock's step records, by step.
async fn records(app: &TestApp, lead: &LeadId, clock: leadclock_domain::ClockKind) -> Vec<(u32, StepStatus)> {
    let mut s: Vec<(u32, StepStatus)> = app
        .store
        .steps(lead)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.key.clock == clock)
        .map(|r| (r.key.step, r.status))
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn a_failed_send_is_retried_with_backoff_and_written_once() {
    let (app, dir) = app("notify", t(MON10));
    demo_lead(&app, "L-1").await;
    let lead = LeadId::parse("L-1").unwrap();
    // The assignment clock's step, cancelled by the assignment, has its line written first.
    app.dispatch().await.unwrap();
    app.notifier.fail_first.store(2, Ordering::SeqCst);
    // The owner step falls due while its timer is armed: claimed at once.
    app.clock.advance(Duration::minutes(6));
    let r = app.reconcile(&lead).await.unwrap();
    assert_eq!(r.sent.len(), 1, "claimed with its messages in one write");
    assert_eq!(statuses(&app, &lead).await, vec![(0, StepStatus::Delivering)]);
    // Two failed attempts: the message waits longer each time, and is kept.
    let d = app.dispatch().await.unwrap();
    assert_eq!((d.sent, d.retrying), (0, 1));
    let pending = |all: Vec<OutboxMessage>| all.into_iter().find(|m| m.status == OutboxStatus::Pending).unwrap();
    let first_wait = pending(app.store.lead_messages(&lead).await.unwrap()).next_attempt_at - app.clock.now();
    assert_eq!(
        app.dispatch().await.unwrap().sent,
        0,
        "not due again before its backoff"
    );
    app.clock.advance(first_wait);
    app.dispatch().await.unwrap();
    let m = pending(app.store.lead_messages(&lead).await.unwrap());
    assert_eq!((m.attempts, m.status), (2, OutboxStatus::Pending));
    // 1 s, then 2 s, each with up to ±50% jitter.
    let wait = m.next_attempt_at - app.clock.now();
    assert!(first_wait <= Duration::milliseconds(1500), "{first_wait}");
    assert!((Duration::seconds(1)..=Duration::seconds(3)).contains(&wait), "{wait}");
    assert!(sent_lines(&dir).is_empty());
    // The third attempt writes the line once; the step is delivered; nothing more is sent.
    app.clock.advance(Duration::minutes(1));
    assert_eq!(app.dispatch().await.unwrap().sent, 1);
    assert_eq!(sent_lines(&dir).len(), 1);
    assert_eq!(statuses(&app, &lead).await, vec![(0, StepStatus::Delivered)]);
    app.reconcile(&lead).await.unwrap();
    app.sweep(Duration::zero()).await.unwrap();
    app.dispatch().await.unwrap();
    assert_eq!(sent_lines(&dir).len(), 1);
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
        let e = leadclock_app::inbound::leadclock_json::parse_event(kind, body.as_bytes(), &policy, app.clock.now())
            .unwrap();
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
    // Even if the timer itself is lost, the sweep delivers the step when due: it was armed.
    app.timers.armed.lock().unwrap().clear();
    app.clock.advance(Duration::minutes(5));
    assert_eq!(app.sweep(Duration::zero()).await.unwrap(), 1);
    app.dispatch().await.unwrap();
    assert_eq!(sent_lines(&dir).len(), 1);
}

#[tokio::test]
async fn a_failed_schedule_leaves_the_lead_for_the_sweep() {
    let (app, _dir) = app("schedule", t(MON10));
    app.timers.failing.store(1, Ordering::SeqCst);
    demo_lead(&app, "L-3").await;
    // The form's timer failed; the assignment's pass armed the response timer.
    let pending = app.store.needing_attention(app.clock.now()).await.unwrap();
    assert!(pending.is_empty(), "the second pass succeeded and cleared the mark");
    app.timers.failing.store(1, Ordering::SeqCst);
    let form = r#"{"lead_id":"L-3b","occurred_at":"2026-11-23T15:01:00Z","lead_type":"free_trial"}"#;
    let accepted = app.ingest(Kind::Form, form.as_bytes()).await.unwrap();
    assert!(!accepted.duplicate, "the event is kept although its timer failed");
    let pending = app.store.needing_attention(app.clock.now()).await.unwrap();
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
    // The armed steps that can no longer fall due are recorded as cancelled: the assignment
    // clock's (stopped by the assignment) and the response clock's (stopped by the touch).
    let lead = LeadId::parse("L-4").unwrap();
    let all = app.store.steps(&lead).await.unwrap();
    assert_eq!(
        all.iter().filter(|r| r.status == StepStatus::Cancelled).count(),
        2,
        "{all:?}"
    );
}

#[tokio::test]
async fn racing_passes_give_each_step_one_outcome() {
    let (app, dir) = app("race", t(MON10));
    let app = Arc::new(app);
    for i in 0..5 {
        demo_lead(&app, &format!("L-r{i}")).await;
    }
    // Eight hours pass with nothing running: every step of every lead fell due. They were
    // foreseen (the owner step was armed, the rest follow from it), so all are delivered.
    app.clock.advance(Duration::hours(8));
    let race = |app: Arc<TestApp>| async move {
        let mut tasks = Vec::new();
        for i in 0..5 {
            for _ in 0..8 {
                let app = app.clone();
                let lead = LeadId::parse(&format!("L-r{i}")).unwrap();
                tasks.push(tokio::spawn(
                    async move { app.reconcile(&lead).await.unwrap().sent.len() },
                ));
            }
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    };
    assert_eq!(race(app.clone()).await, 15, "3 steps x 5 leads, each claimed once");
    assert_eq!(race(app.clone()).await, 0, "nothing claimed twice");
    app.dispatch().await.unwrap();
    assert_eq!(sent_lines(&dir).len(), 15);
    let all = lines(&dir);
    let mut keys: Vec<&str> = all.iter().map(|l| l["idempotency_key"].as_str().unwrap()).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "every step once in the file");
}

#[tokio::test]
async fn an_event_after_a_watched_step_fell_due_delivers_it_and_arms_the_next() {
    let (app, dir) = app("next-step", t(MON10));
    demo_lead(&app, "L-5").await;
    // The owner step is due; before its timer fires, an unrelated event arrives.
    app.clock.advance(Duration::minutes(6));
    let voicemail = r#"{"lead_id":"L-5","occurred_at":"2026-11-23T15:05:30Z","channel":"call","outcome":"voicemail"}"#;
    app.ingest(Kind::Touch, voicemail.as_bytes()).await.unwrap();
    app.dispatch().await.unwrap();
    assert_eq!(
        sent_lines(&dir).len(),
        1,
        "the watched owner step was delivered by the ingest pass"
    );
    let armed = app.timers.armed.lock().unwrap().clone();
    assert_eq!(armed.len(), 1);
    assert_eq!(
        (armed[0].step, armed[0].due_at),
        (1, t(MON10) + Duration::minutes(5) + Duration::hours(2))
    );
}

#[tokio::test]
async fn a_late_form_whose_assignment_follows_within_the_settle_window_pages_nobody() {
    let (app, dir) = app("late-form", t(MON10) + Duration::minutes(7));
    // The form arrives 7 minutes late: its 5-minute assignment step is already overdue.
    let form = r#"{"lead_id":"L-6","occurred_at":"2026-11-23T15:00:00Z","lead_type":"demo_request"}"#;
    app.ingest(Kind::Form, form.as_bytes()).await.unwrap();
    let lead = LeadId::parse("L-6").unwrap();
    let assignment = leadclock_domain::ClockKind::Assignment;
    assert_eq!(records(&app, &lead, assignment).await, vec![(0, StepStatus::Settling)]);
    // A second later its in-SLA assignment (4 minutes after the form) arrives.
    app.clock.advance(Duration::seconds(1));
    let assign = r#"{"lead_id":"L-6","occurred_at":"2026-11-23T15:04:00Z","owner":"alice"}"#;
    app.ingest(Kind::Assignment, assign.as_bytes()).await.unwrap();
    // Past the settle window, still inside the response SLA.
    app.clock.advance(Duration::seconds(61));
    app.sweep(Duration::zero()).await.unwrap();
    app.dispatch().await.unwrap();
    assert!(sent_lines(&dir).is_empty(), "nobody paged");
    assert_eq!(records(&app, &lead, assignment).await, vec![(0, StepStatus::Cancelled)]);
}
