//! Write-time report facts, end to end on SQLite: each pass keeps a settled lead's per-day
//! facts beside its summary, reports add up days instead of reading those leads, and the
//! answer is the report of every lead folded from its events — with late events on old days,
//! leads behind their events, leads without snapshots, and a store from before facts were kept.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadclock_app::inbound::Kind;
use leadclock_app::ports::{Clock, EventStore, LeadIndex};
use leadclock_domain::metrics::{self, Dimension, Facts};
use leadclock_domain::{Lead, LeadId};
use serde_json::json;
use support::{harness, open, temp_dir, Harness, Lcg, EXAMPLE};

fn start() -> DateTime<Utc> {
    // Monday 2026-11-30, 09:00 in New York.
    Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0).unwrap()
}

/// Sends `body` as `kind` with the clock at `at`, as a live webhook arrives.
async fn live(h: &Harness, kind: Kind, at: DateTime<Utc>, body: serde_json::Value) {
    h.app.clock.set(at);
    let accepted = h.app.ingest(kind, body.to_string().as_bytes()).await;
    assert!(accepted.is_ok(), "{body}: {:?}", accepted.err());
}

/// `n` leads over five days: forms of every type and source, most assigned (some twice), most
/// touched (some late, some never), some accepted or rejected, each sent as it happens.
async fn busy_week(h: &Harness, rng: &mut Lcg, n: u32) -> Vec<LeadId> {
    busy_days(h, rng, n, start()).await
}

/// [`busy_week`] from `start`.
async fn busy_days(h: &Harness, rng: &mut Lcg, n: u32, start: DateTime<Utc>) -> Vec<LeadId> {
    let mut ids = Vec::new();
    for l in 0..n {
        let lead = format!("F-{l}");
        let engaged = start + Duration::minutes(i64::from(l) * 5 * 24 * 60 / i64::from(n));
        let lead_type = ["demo_request", "content_mql", "free_trial", "contact_form"][rng.below(4) as usize];
        let source = ["organic", "paid", "event"][rng.below(3) as usize];
        let region = ["na", "emea"][rng.below(2) as usize];
        live(
            h,
            Kind::Form,
            engaged,
            json!({"lead_id": lead, "occurred_at": engaged.to_rfc3339(),
             "lead_type": lead_type, "source": source, "region": region}),
        )
        .await;
        let mut at = engaged;
        if rng.below(8) > 0 {
            at += Duration::seconds(rng.below(1_800) as i64);
            let owner = ["alice", "bob", "carol"][rng.below(3) as usize];
            live(
                h,
                Kind::Assignment,
                at,
                json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "owner": owner}),
            )
            .await;
        }
        if rng.below(4) == 0 {
            at += Duration::seconds(rng.below(3_600) as i64);
            live(
                h,
                Kind::Assignment,
                at,
                json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "owner": "dana"}),
            )
            .await;
        }
        if rng.below(6) > 0 {
            at += Duration::seconds(rng.below(6 * 3_600) as i64);
            let outcome = ["connected", "voicemail"][rng.below(2) as usize];
            live(
                h,
                Kind::Touch,
                at,
                json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "channel": "call",
                 "outcome": outcome}),
            )
            .await;
            if rng.below(2) == 0 {
                at += Duration::hours(rng.below(30) as i64 + 1);
                let stage = ["sal", "rejected", "sql"][rng.below(3) as usize];
                live(
                    h,
                    Kind::Stage,
                    at,
                    json!({"lead_id": lead, "occurred_at": at.to_rfc3339(), "stage": stage}),
                )
                .await;
            }
        }
        ids.push(LeadId::parse(&lead).unwrap());
    }
    ids
}

/// Every lead folded from its stored events: what a report means, without snapshots or facts.
async fn folded(h: &Harness, ids: &[LeadId]) -> Vec<Lead> {
    let mut leads = Vec::new();
    for id in ids {
        let events = h.app.store.load(id).await.unwrap();
        let mut lead = h.app.versions.fold(id.clone(), &events).0;
        lead.timeline = Vec::new();
        leads.push(lead);
    }
    leads
}

/// The app's report of `[from, to]` must be the report of every lead folded from its events.
async fn assert_report_is_of_the_leads(h: &Harness, ids: &[LeadId], from: &str, to: &str, by: Option<&str>) {
    let report = h.report(from, to, by).await;
    let direct = metrics::report_for(
        &folded(h, ids).await,
        h.app.versions.as_ref(),
        report.from,
        report.to,
        report.by,
        h.app.clock.now(),
        &leadclock_domain::Scope::All,
    );
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        serde_json::to_value(&direct).unwrap(),
        "{from}..{to} by {by:?}"
    );
}

/// The first day [`kept_days`] reads: its sum is on this day.
fn first_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

/// The store's days under this release's tag, summed over every day there is (as one day's).
async fn kept_days(h: &Harness) -> Facts {
    let first = first_day();
    let end = chrono::NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
    h.app
        .store
        .report_facts(h.app.fold_tag(), first, end, &Dimension::ALL)
        .await
        .unwrap()
}

/// The facts of every lead whose summary says they are kept, worked out again from its events:
/// what the days must add up to.
async fn recomputed(h: &Harness, ids: &[LeadId]) -> (Facts, usize) {
    let (mut sum, mut kept) = (Facts::default(), 0);
    let tz = h.app.policy.reporting_timezone;
    for (id, lead) in ids.iter().zip(folded(h, ids).await) {
        let saved = h.app.store.saved(id).await.unwrap().unwrap();
        if let Some(k) = saved.facts.filter(|k| k.tag == h.app.fold_tag()) {
            sum.add(&Facts::of_lead(&lead, h.app.versions.as_ref(), tz, k.at));
            kept += 1;
        }
    }
    (sum, kept)
}

#[tokio::test]
async fn reports_add_up_kept_days_and_answer_the_report_of_every_lead() {
    let h = harness("facts", start());
    let mut rng = Lcg(7);
    let ids = busy_week(&h, &mut rng, 120).await;
    // Six weeks on: every clock has stopped (touched, or aged out as no response); the sweep
    // passes the leads whose clocks ended by time, and they settle.
    h.app.clock.set(start() + Duration::days(42));
    h.app.sweep(Duration::zero()).await.unwrap();
    h.app.backfill_facts(1_000).await.unwrap();

    // The fold stays the source of truth: the days add up exactly the kept leads' facts.
    let (sum, kept) = recomputed(&h, &ids).await;
    assert!(kept >= 110, "settled leads keep facts: {kept} of {}", ids.len());
    assert_eq!(kept_days(&h).await, sum.collapsed(first_day()));

    // A report reads only the leads without current facts.
    let (from, to) = (start() - Duration::days(7), start() + Duration::days(7));
    let without = h
        .app
        .store
        .active_without_facts(from, to, h.app.fold_tag())
        .await
        .unwrap();
    assert!(without.len() <= 10, "leads read in full: {}", without.len());
    for (from, to) in [
        ("2026-11-30", "2026-12-04"),
        ("2026-12-01", "2026-12-01"),
        ("2026-11-23", "2026-12-06"),
    ] {
        for by in [None, Some("lead_type"), Some("owner"), Some("source")] {
            assert_report_is_of_the_leads(&h, &ids, from, to, by).await;
        }
    }

    // Late events on old days: stored, not yet passed (the lead's facts are behind its events)...
    let late = [&ids[3], &ids[40], &ids[77]];
    for (i, id) in late.iter().enumerate() {
        let at = start() + Duration::days(i as i64) + Duration::hours(3);
        let body = json!({"lead_id": id.as_str(), "occurred_at": at.to_rfc3339(), "owner": "erin"}).to_string();
        let request = leadclock_app::inbound::Inbound::body(body.as_bytes(), h.app.clock.now());
        use leadclock_app::inbound::PayloadFormat;
        for e in (leadclock_app::inbound::LeadclockJson { kind: Kind::Assignment })
            .events(&request, &h.app.policy)
            .unwrap()
        {
            h.app.store.append(&e).await.unwrap();
        }
    }
    let stale = h
        .app
        .store
        .active_without_facts(from, to, h.app.fold_tag())
        .await
        .unwrap();
    assert!(
        late.iter().all(|id| stale.iter().any(|(s, f)| s == *id && f.is_some())),
        "a lead behind its events comes with its facts, to take out"
    );
    assert_report_is_of_the_leads(&h, &ids, "2026-11-30", "2026-12-04", Some("owner")).await;
    // ...then passed: their old days change, and still add up.
    h.app.sweep(Duration::zero()).await.unwrap();
    let (sum, _) = recomputed(&h, &ids).await;
    assert_eq!(kept_days(&h).await, sum.collapsed(first_day()));
    assert_report_is_of_the_leads(&h, &ids, "2026-11-30", "2026-12-04", Some("owner")).await;
    assert_report_is_of_the_leads(&h, &ids, "2026-12-02", "2026-12-02", None).await;
}

#[tokio::test]
async fn another_policy_starts_the_days_again_and_the_backfill_refills_them() {
    let dir = temp_dir("facts-policy");
    let h = open(&dir, EXAMPLE, start());
    let mut rng = Lcg(3);
    let ids = busy_week(&h, &mut rng, 40).await;
    h.app.clock.set(start() + Duration::days(42));
    h.app.sweep(Duration::zero()).await.unwrap();
    h.app.backfill_facts(1_000).await.unwrap();
    assert!(!kept_days(&h).await.is_empty());
    drop(h);

    // The same store under a stricter policy: no lead's facts are current under it, so
    // reports read every lead, until the backfill has passed them all.
    let stricter = EXAMPLE.replace("recycle_limit = 2", "recycle_limit = 3");
    assert_ne!(stricter, EXAMPLE);
    let h = open(&dir, &stricter, start() + Duration::days(42));
    assert!(kept_days(&h).await.is_empty());
    assert_report_is_of_the_leads(&h, &ids, "2026-11-30", "2026-12-04", Some("lead_type")).await;
    let mut passed = 0;
    loop {
        let n = h.app.backfill_facts(7).await.unwrap();
        if n == 0 {
            break;
        }
        passed += n;
        // Half way through, a report reads the leads not yet passed, and is still right.
        assert_report_is_of_the_leads(&h, &ids, "2026-11-30", "2026-12-04", None).await;
    }
    assert_eq!(passed, ids.len(), "each lead passed once");
    let (sum, kept) = recomputed(&h, &ids).await;
    assert!(kept >= 30, "{kept}");
    assert_eq!(kept_days(&h).await, sum.collapsed(first_day()));
    assert_report_is_of_the_leads(&h, &ids, "2026-11-30", "2026-12-04", Some("owner")).await;
    // The other tag's days were dropped on the way.
    let rows: i64 = rusqlite::Connection::open(dir.join("leadclock.db"))
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM report_facts WHERE tag <> ?1",
            [h.app.fold_tag().text()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn a_store_written_before_report_facts_upgrades_and_the_backfill_fills_its_days() {
    // Written by the previous release's server (schema 9): two leads answered, two still open.
    let dir = temp_dir("facts-v9");
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/v9.sql")).unwrap();
    drop(conn);
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 23, 30, 0).unwrap();
    let h = support::open_versioned(&dir, EXAMPLE, now).await;
    let ids: Vec<LeadId> = ["V9-DONE-1", "V9-DONE-2", "V9-DONE-3", "V9-OPEN"]
        .iter()
        .map(|s| LeadId::parse(s).unwrap())
        .collect();
    let user_version: i64 = rusqlite::Connection::open(dir.join("leadclock.db"))
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(user_version, leadclock_local::store::schema::VERSION);
    // Nothing kept yet: the report reads every lead, as the previous release did.
    assert!(kept_days(&h).await.is_empty());
    let before = h.report("2026-12-01", "2026-12-07", Some("lead_type")).await;
    assert_eq!(before.overall.volume.mqls, 4);
    assert_report_is_of_the_leads(&h, &ids, "2026-12-01", "2026-12-07", Some("lead_type")).await;

    // The backfill passes each lead once; the settled ones keep their facts.
    assert_eq!(h.app.backfill_facts(100).await.unwrap(), 4);
    assert_eq!(h.app.backfill_facts(100).await.unwrap(), 0, "each lead once");
    let (sum, kept) = recomputed(&h, &ids).await;
    assert_eq!(kept, 2, "the two answered leads");
    assert_eq!(kept_days(&h).await, sum.collapsed(first_day()));
    let after = h.report("2026-12-01", "2026-12-07", Some("lead_type")).await;
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        serde_json::to_value(&before).unwrap()
    );
}

#[tokio::test]
async fn a_period_across_a_dst_change_counts_the_edge_of_the_period_before_from_its_leads() {
    // New York falls back on 2026-11-01 (a 25-hour day) and springs forward on 2027-03-14 (23
    // hours): the period before such a day starts at 23:00 or 01:00, an hour off its midnight.
    for (tag, events_from, edge_lead_at, day) in [
        (
            "facts-fall",
            "2026-10-28T14:00:00Z",
            "2026-10-31T03:30:00Z",
            "2026-11-01",
        ),
        (
            "facts-spring",
            "2027-03-10T14:00:00Z",
            "2027-03-13T05:30:00Z",
            "2027-03-14",
        ),
    ] {
        let events_from: DateTime<Utc> = events_from.parse().unwrap();
        let h = harness(tag, events_from);
        let mut ids = busy_days(&h, &mut Lcg(5), 150, events_from).await;
        // A lead engaged in the edge hour (23:30 the evening before, or 00:30), answered.
        let at: DateTime<Utc> = edge_lead_at.parse().unwrap();
        h.form("EDGE", at, "demo_request", "paid").await;
        h.assign("EDGE", at + Duration::minutes(1), "alice").await;
        h.touch("EDGE", at + Duration::minutes(3)).await;
        ids.push(LeadId::parse("EDGE").unwrap());
        h.app.clock.set(events_from + Duration::days(42));
        h.app.sweep(Duration::zero()).await.unwrap();
        let (sum, kept) = recomputed(&h, &ids).await;
        assert!(kept >= 140, "{tag}: {kept}");
        assert_eq!(kept_days(&h).await, sum.collapsed(first_day()));
        for by in [None, Some("lead_type"), Some("source")] {
            assert_report_is_of_the_leads(&h, &ids, day, day, by).await;
        }
        let report = h.report(day, day, None).await;
        assert!(report.overall.volume.previous_period_mqls > 0, "{tag}");
    }
}
