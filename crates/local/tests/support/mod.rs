//! The harness the metrics tests share: the real handlers over a SQLite store in a temp dir,
//! a manual clock, and helpers that send one webhook each.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use leadclock_app::inbound::Kind;
use leadclock_app::ports::ManualClock;
use leadclock_app::query::{RawReportQuery, ReportQuery};
use leadclock_app::App;
use leadclock_domain::metrics::{Baseline, Report};
use leadclock_domain::Policy;
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::SqliteStore;
use leadclock_local::timers::{Fired, LocalTimers};
use serde_json::{json, Value};
use std::sync::Arc;

pub type TestApp = App<SqliteStore, LocalTimers, LocalNotifier, ManualClock>;

pub struct Harness {
    pub app: TestApp,
    pub dir: std::path::PathBuf,
    _fired: tokio::sync::mpsc::UnboundedReceiver<Fired>,
}

pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("leadclock-metrics-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The example policy.
pub const EXAMPLE: &str = include_str!("../../../../policies/example.toml");

pub fn harness(tag: &str, now: DateTime<Utc>) -> Harness {
    open(&temp_dir(tag), EXAMPLE, now)
}

/// The real handlers over the store in `dir` (new or existing) under `policy`.
pub fn open(dir: &std::path::Path, policy: &str, now: DateTime<Utc>) -> Harness {
    let policy = Arc::new(Policy::parse(policy).unwrap());
    let clock = ManualClock::at(now);
    let (timers, fired) = LocalTimers::start(clock.clone());
    let notifier = LocalNotifier::new(dir, Webhooks::default(), false);
    Harness {
        app: App::new(policy, SqliteStore::open(dir).unwrap(), timers, notifier, clock),
        dir: dir.to_owned(),
        _fired: fired,
    }
}

/// The real handlers over the store in `dir`, started with `policy` at `now` as the server
/// starts: the policy is recorded as a new version when it changed, and each lead is judged by
/// the version in force at its first engagement.
pub async fn open_versioned(dir: &std::path::Path, policy: &str, now: DateTime<Utc>) -> Harness {
    let h = open(dir, policy, now);
    let stored = h.app.store.adopt_policy(policy, now).await.unwrap();
    h.with_versions(leadclock_app::policy_file::versions_of(&stored, "test").unwrap())
}

impl Harness {
    /// The same handlers and store, judging by `versions`.
    pub fn with_versions(self, versions: leadclock_domain::policy::Versions) -> Harness {
        Harness {
            app: self.app.with_versions(versions),
            dir: self.dir,
            _fired: self._fired,
        }
    }
}

/// New York wall time on a date.
pub fn ny(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    New_York
        .from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// The `i`-th weekday (Mon–Fri) from `start`, skipping the policy's US holidays.
pub fn weekday(start: NaiveDate, i: usize, days: usize) -> NaiveDate {
    let mut d = start;
    let mut seen = 0;
    loop {
        use chrono::Datelike;
        let open = d.weekday().num_days_from_monday() < 5 && d != NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        if open {
            if seen == i % days {
                return d;
            }
            seen += 1;
        }
        d = d.succ_opt().unwrap();
    }
}

impl Harness {
    pub async fn send(&self, kind: Kind, body: Value) {
        let r = self.app.ingest(kind, body.to_string().as_bytes()).await;
        assert!(r.as_ref().is_ok_and(|a| !a.duplicate), "{body}: {:?}", r.err());
    }
    pub async fn form(&self, lead: &str, at: DateTime<Utc>, lead_type: &str, source: &str) {
        self.send(Kind::Form, json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "lead_type": lead_type, "source": source, "region": "na"}))
            .await;
    }
    pub async fn assign(&self, lead: &str, at: DateTime<Utc>, owner: &str) {
        self.send(
            Kind::Assignment,
            json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "owner": owner}),
        )
        .await;
    }
    pub async fn touch(&self, lead: &str, at: DateTime<Utc>) {
        self.send(
            Kind::Touch,
            json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "channel": "call", "outcome": "connected"}),
        )
        .await;
    }
    pub async fn stage(&self, lead: &str, at: DateTime<Utc>, stage: &str, reason: Option<&str>) {
        self.send(
            Kind::Stage,
            json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "stage": stage, "reason": reason}),
        )
        .await;
    }
    pub async fn report(&self, from: &str, to: &str, by: Option<&str>) -> Report {
        let raw = RawReportQuery {
            from: Some(from.into()),
            to: Some(to.into()),
            by: by.map(Into::into),
            ..Default::default()
        };
        self.app.metrics(&ReportQuery::parse(&raw).unwrap()).await.unwrap()
    }
    pub async fn baseline(&self, from: &str, to: &str) -> Baseline {
        let raw = RawReportQuery {
            from: Some(from.into()),
            to: Some(to.into()),
            ..Default::default()
        };
        self.app.baseline(&ReportQuery::parse(&raw).unwrap()).await.unwrap()
    }
}

/// The response clock's step records of `lead`, by step: `(step, status)`.
pub async fn response_steps(
    h: &Harness,
    lead: &leadclock_domain::LeadId,
) -> Vec<(u32, leadclock_domain::steps::StepStatus)> {
    use leadclock_app::ports::StepLog;
    let mut r: Vec<_> = h
        .app
        .store
        .steps(lead)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.key.clock == leadclock_domain::ClockKind::Response)
        .map(|r| (r.key.step, r.status))
        .collect();
    r.sort_by_key(|(s, _)| *s);
    r
}

#[path = "../../../../tests/support/lcg.rs"]
mod lcg;
#[allow(unused_imports)] // not every test binary that includes the support module draws numbers
pub use lcg::Lcg;
