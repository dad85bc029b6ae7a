//! Report facts on DynamoDB, end to end on the emulator: the real handlers over a table of
//! their own (`FACTS_TABLE_NAME`, made from the template by `tests/aws/test_stack.py`), so the
//! backfill's Scan sees only this test's leads. Until the backfill completes, reports read every
//! lead; then they add up days (their logs, then their sums once compacted) and still answer
//! the report of every lead folded from its events — with late events, and two compactions of
//! one day racing.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use futures_util::{stream, StreamExt};
use leadclock_app::error::PortError;
use leadclock_app::inbound::Kind;
use leadclock_app::outbox::{Channel, OutboxMessage, SendFailure};
use leadclock_app::ports::{Clock, EventStore, LeadIndex, ManualClock, Notifier, Timers};
use leadclock_app::query::{RawReportQuery, ReportQuery};
use leadclock_app::App;
use leadclock_aws::config::{env, sdk_config};
use leadclock_aws::dynamo::DynamoStore;
use leadclock_domain::metrics::{self, Dimension, Facts};
use leadclock_domain::steps::{StepStatus, Timer};
use leadclock_domain::{LeadId, Policy};
use serde_json::{json, Value};
use std::sync::Arc;

/// Timers and channels are not under test here: a pass arms and sends nothing anyone reads.
struct NoTimers;
impl Timers for NoTimers {
    async fn schedule(&self, _: &Timer) -> Result<(), PortError> {
        Ok(())
    }
    async fn cancel(&self, _: &Timer) -> Result<(), PortError> {
        Ok(())
    }
}

struct NoChannels;
impl Notifier for NoChannels {
    fn channels_for(&self, _: StepStatus) -> Vec<Channel> {
        Vec::new()
    }
    async fn send(&self, _: &OutboxMessage) -> Result<(), SendFailure> {
        Ok(())
    }
    async fn publish_rollup(&self, _: &str, _: &str, _: &Value) -> Result<(), PortError> {
        Ok(())
    }
}

type TestApp = App<DynamoStore, NoTimers, NoChannels, ManualClock>;

fn start() -> DateTime<Utc> {
    // Monday 2026-11-30, 09:00 in New York.
    Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0).unwrap()
}

/// The generator the local and black-box tests share: the same history on every run.
#[path = "../../../tests/support/lcg.rs"]
#[allow(dead_code)] // its helpers this test does not draw
mod lcg;
use lcg::Lcg;

async fn live(app: &TestApp, kind: Kind, at: DateTime<Utc>, body: Value) {
    app.clock.set(at);
    let accepted = app.ingest(kind, body.to_string().as_bytes()).await;
    assert!(accepted.is_ok(), "{body}: {:?}", accepted.err());
}

/// `n` leads over five days, each event sent as it happens (so each is passed live).
async fn busy_week(app: &TestApp, rng: &mut Lcg, n: u32) -> Vec<LeadId> {
    let mut ids = Vec::new();
    for l in 0..n {
        let lead = format!("D-{l}");
        let engaged = start() + Duration::minutes(i64::from(l) * 5 * 24 * 60 / i64::from(n));
        let lead_type = ["demo_request", "content_mql", "free_trial", "contact_form"][rng.below(4) as usize];
        let source = ["organic", "paid", "event"][rng.below(3) as usize];
        let form =
            json!({"lead_id": lead, "occurred_at": engaged.to_rfc3339(), "lead_type": lead_type, "source": source});
        live(app, Kind::Form, engaged, form).await;
        let mut at = engaged;
        if rng.below(8) > 0 {
            at += Duration::seconds(rng.below(1_800) as i64);
            let owner = ["alice", "bob", "carol"][rng.below(3) as usize];
            let body = json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "owner": owner});
            live(app, Kind::Assignment, at, body).await;
        }
        if rng.below(6) > 0 {
            at += Duration::seconds(rng.below(6 * 3_600) as i64);
            let body =
                json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "channel": "call", "outcome": "connected"});
            live(app, Kind::Touch, at, body).await;
        }
        ids.push(LeadId::parse(&lead).unwrap());
    }
    ids
}

async fn report(app: &TestApp, from: &str, to: &str, by: Option<&str>) -> metrics::Report {
    let raw = RawReportQuery {
        from: Some(from.into()),
        to: Some(to.into()),
        by: by.map(Into::into),
        ..Default::default()
    };
    app.metrics(&ReportQuery::parse(&raw).unwrap()).await.unwrap()
}

/// The report of every lead folded from its stored events, over `report`'s period: what a
/// report means.
async fn direct(app: &TestApp, ids: &[LeadId], report: &metrics::Report) -> metrics::Report {
    let mut leads = Vec::new();
    for id in ids {
        let events = app.store.load(id).await.unwrap();
        let mut lead = app.versions.fold(id.clone(), &events).0;
        lead.timeline = Vec::new();
        leads.push(lead);
    }
    let now = app.clock.now();
    metrics::report_for(
        &leads,
        app.versions.as_ref(),
        report.from,
        report.to,
        report.by,
        now,
        &leadclock_domain::Scope::All,
    )
}

async fn assert_reports_are_of_the_leads(app: &TestApp, ids: &[LeadId], when: &str) {
    for (from, to) in [("2026-11-30", "2026-12-04"), ("2026-12-01", "2026-12-01")] {
        for by in [None, Some("owner"), Some("lead_type")] {
            let got = report(app, from, to, by).await;
            let want = direct(app, ids, &got).await;
            assert_eq!(
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&want).unwrap(),
                "{when}: {from}..{to} by {by:?}"
            );
        }
    }
}

/// Every day's facts under the app's tag.
async fn kept_days(app: &TestApp) -> Facts {
    let (first, end) = (day(2026, 11, 1), day(2027, 1, 1));
    app.store
        .report_facts(app.fold_tag(), first, end, &Dimension::ALL)
        .await
        .unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
#[ignore = "needs DynamoDB: set AWS_ENDPOINT_URL and FACTS_TABLE_NAME (tests/aws/test_stack.py runs it on the emulator)"]
async fn dynamodb_reports_add_up_days_once_the_backfill_completes() {
    let required = |name| env(name).unwrap_or_else(|e| panic!("{e}"));
    required("AWS_ENDPOINT_URL");
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let store = DynamoStore::new(client, required("FACTS_TABLE_NAME")).with_facts_quiet(Duration::zero());
    let policy = Arc::new(Policy::parse(include_str!("../../../policies/example.toml")).unwrap());
    let app: TestApp = App::new(policy, store, NoTimers, NoChannels, ManualClock::at(start()));
    let tag = app.fold_tag();

    let ids = busy_week(&app, &mut Lcg(11), 60).await;
    app.clock.set(start() + Duration::days(42));
    for id in &ids {
        app.reconcile(id).await.unwrap();
    }
    // Not complete yet: reports read every lead, and answer as they always did.
    assert!(!app.store.facts_state(tag).await.unwrap().complete);
    assert_reports_are_of_the_leads(&app, &ids, "before the backfill completes").await;

    // The backfill's Scan finds nothing lacking (every pass ran under this tag): complete.
    for _ in 0..3 {
        app.backfill_facts(1_000).await.unwrap();
    }
    assert!(
        app.store.facts_state(tag).await.unwrap().complete,
        "a Scan finding nothing completes the tag"
    );
    let (from, to) = (start() - Duration::days(7), start() + Duration::days(7));
    let without = app.store.active_without_facts(from, to, tag).await.unwrap();
    assert!(
        without.len() <= 10,
        "settled leads are read from their days: {} read in full",
        without.len()
    );
    assert!(!kept_days(&app).await.is_empty());
    assert_reports_are_of_the_leads(&app, &ids, "from the days' logs").await;

    // Late events on old days: stored, not passed, read in full with their facts taken out...
    let late = [&ids[3], &ids[20], &ids[41]];
    for (i, id) in late.iter().enumerate() {
        let at = start() + Duration::days(i as i64) + Duration::hours(3);
        let body = json!({"lead_id": id.as_str(), "occurred_at": at.to_rfc3339(), "owner": "erin"}).to_string();
        let request = leadclock_app::inbound::Inbound::body(body.as_bytes(), app.clock.now());
        use leadclock_app::inbound::PayloadFormat;
        let events = (leadclock_app::inbound::LeadclockJson { kind: Kind::Assignment })
            .events(&request, &app.policy)
            .unwrap();
        for e in events {
            app.store.append(&e).await.unwrap();
        }
    }
    let stale = app.store.active_without_facts(from, to, tag).await.unwrap();
    assert!(
        late.iter().all(|id| stale.iter().any(|(s, f)| s == *id && f.is_some())),
        "a lead behind its events comes with its facts, to take out"
    );
    assert_reports_are_of_the_leads(&app, &ids, "with late events not passed").await;
    for id in late {
        app.reconcile(id).await.unwrap();
    }
    assert_reports_are_of_the_leads(&app, &ids, "with late events passed").await;

    // Each day's log added into its sum, two compactions of a day racing: each change once.
    let before = kept_days(&app).await;
    let mut added = 0;
    for d in day(2026, 11, 28).iter_days().take(10) {
        let (a, b) = tokio::join!(app.store.compact_day(tag, d), app.store.compact_day(tag, d));
        added += usize::from(a.unwrap()) + usize::from(b.unwrap());
    }
    assert!(added >= 5, "days added in: {added}");
    assert_eq!(kept_days(&app).await, before, "compaction changes no sum");
    assert_reports_are_of_the_leads(&app, &ids, "from the days' sums").await;
    // A pass after compaction logs again on top of the sums.
    let body = json!({"lead_id": ids[5].as_str(), "occurred_at": (start() + Duration::hours(30)).to_rfc3339(), "stage": "sql"});
    live(&app, Kind::Stage, start() + Duration::days(42), body).await;
    assert_reports_are_of_the_leads(&app, &ids, "sums and a log").await;
}

/// Settled leads through the real handlers: for `make bench-aws-read`, a day of
/// `FACTS_LEADS` leads (default 3,300: 100,000 a month) two days ago, each passed live under the
/// stack's policy versions (`LEADCLOCK_POLICY_VERSIONS`) into the stack's table `TABLE_NAME`;
/// the day's log added into its sum, and the sum copied to the `FACTS_DAYS` − 1 days before
/// (90 by default). A 90-day report then reads 90 days of sums the size of a real day's.
#[tokio::test]
#[ignore = "needs the emulator's stack: tests/aws/test_stack.py runs it for make bench-aws-read"]
async fn seed_days_of_settled_leads() {
    let required = |name| env(name).unwrap_or_else(|e| panic!("{e}"));
    required("AWS_ENDPOINT_URL");
    let (table, run) = (required("TABLE_NAME"), required("SEED_RUN"));
    let number = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (n, days) = (number("FACTS_LEADS", 3_300), number("FACTS_DAYS", 90));
    let versions = leadclock_aws::config::load_versions().unwrap_or_else(|e| panic!("policy versions: {e}"));
    let store =
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk_config().await), table).with_facts_quiet(Duration::zero());
    let now = Utc::now();
    let app: TestApp = App::new(
        versions.current().policy.clone(),
        store,
        NoTimers,
        NoChannels,
        ManualClock::at(now),
    )
    .with_versions(versions);
    let day = (now - Duration::days(2)).date_naive();
    let midnight = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let started = std::time::Instant::now();
    let mut rng = Lcg(5);
    let leads: Vec<Vec<(Kind, Value)>> = (0..n).map(|i| settled_lead(&run, i, n, midnight, &mut rng)).collect();
    stream::iter(leads)
        .map(|events| {
            let app = &app;
            async move {
                for (kind, body) in events {
                    let accepted = app.ingest(kind, body.to_string().as_bytes()).await;
                    assert!(accepted.is_ok(), "{body}: {:?}", accepted.err());
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let seeded_s = started.elapsed().as_secs_f64();
    let tag = app.fold_tag();
    while app.store.compact_day(tag, day).await.unwrap() {}
    let (parts, bytes) = copy_day_sum(tag, day, days).await;
    println!(
        "{}",
        json!({"leads": n, "day": day.to_string(), "seed_seconds": (seeded_s * 10.0).round() / 10.0,
               "sum_parts": parts, "sum_bytes": bytes, "days": days})
    );
}

/// One lead of `n` engaged on the day from `midnight`: a form, an assignment within half an
/// hour and a first touch within six hours, of every lead type, source and owner.
fn settled_lead(run: &str, i: usize, n: usize, midnight: DateTime<Utc>, rng: &mut Lcg) -> Vec<(Kind, Value)> {
    let lead = format!("{run}-{i}");
    let engaged = midnight + Duration::seconds((i * 16 * 3_600 / n) as i64);
    let assigned = engaged + Duration::seconds(rng.below(1_800) as i64 + 1);
    let touched = assigned + Duration::seconds(rng.below(6 * 3_600) as i64 + 1);
    // The lead types of the stack's policy (tests/fixtures/fast.toml).
    let lead_type = ["demo_request", "content_mql", "free_trial"][rng.below(3) as usize];
    let source = ["organic", "paid", "event"][rng.below(3) as usize];
    let owner = ["alice", "bob", "carol", "dana", "erin"][rng.below(5) as usize];
    vec![
        (
            Kind::Form,
            json!({"lead_id": lead, "occurred_at": engaged.to_rfc3339(), "lead_type": lead_type, "source": source}),
        ),
        (
            Kind::Assignment,
            json!({"lead_id": lead, "occurred_at": assigned.to_rfc3339(), "owner": owner}),
        ),
        (
            Kind::Touch,
            json!({"lead_id": lead, "occurred_at": touched.to_rfc3339(), "channel": "call", "outcome": "connected"}),
        ),
    ]
}

/// Copies `day`'s sum items (its head and parts) to each of the `days` − 1 days before it.
/// Returns the parts and the bytes of their facts.
async fn copy_day_sum(tag: leadclock_app::fold_state::FoldTag, day: NaiveDate, days: usize) -> (usize, usize) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let table = env("TABLE_NAME").unwrap();
    // Every page: a day's parts pass the 1 MB a Query answers.
    let items: Vec<_> = client
        .query()
        .table_name(&table)
        .consistent_read(true)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(leadclock_aws::dynamo::facts_sum_key(tag, day)))
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let bytes = items
        .iter()
        .filter_map(|i| i.get("facts").and_then(|v| v.as_s().ok()))
        .map(String::len)
        .sum();
    let parts = items.len().saturating_sub(1);
    for back in 1..days {
        let pk = leadclock_aws::dynamo::facts_sum_key(tag, day - Duration::days(back as i64));
        for item in &items {
            let mut copy = item.clone();
            copy.insert("PK".into(), AttributeValue::S(pk.clone()));
            client
                .put_item()
                .table_name(&table)
                .set_item(Some(copy))
                .send()
                .await
                .unwrap();
        }
    }
    (parts, bytes)
}
