//! A lead's fold snapshot, end to end on SQLite: a POST continues the saved fold by one event
//! instead of re-reading the history, and answers exactly what a re-fold (GET) answers, in
//! order, out of order, repeated or corrected; a store written before snapshots upgrades.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadclock_app::fold_state::{EncodedSnapshot, FoldTag};
use leadclock_app::inbound::Kind;
use leadclock_app::ports::{Clock, LeadIndex};
use leadclock_domain::LeadId;
use serde_json::{json, Value};
use support::{harness, open, temp_dir, Harness, Lcg};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 14, 0, 0).unwrap()
}

/// A view as JSON without what only a GET reads (the outbox's deliveries, the write-back).
fn comparable(view: &impl serde::Serialize) -> Value {
    let mut v = serde_json::to_value(view).unwrap();
    v.as_object_mut().unwrap().remove("write_back");
    for s in v["escalations"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("deliveries");
    }
    v
}

/// Posts `body` as `kind`; the POST's lead view must equal the GET's.
async fn post_and_compare(h: &Harness, kind: Kind, body: Value) -> Value {
    let accepted = h.app.ingest(kind, body.to_string().as_bytes()).await.unwrap();
    let posted = comparable(accepted.lead.as_ref().expect("the lead after the event"));
    let got = comparable(&h.app.lead(&accepted.lead_id).await.unwrap());
    assert_eq!(posted, got, "after {body}");
    posted
}

/// Event `i` of a long, busy history: touches, reassignments, stage changes and returns to
/// the queue; every seventh lands before the ones already posted, every eleventh is a resend.
fn event(rng: &mut Lcg, lead: &str, i: u32, at: DateTime<Utc>) -> (Kind, Value) {
    let at = at.to_rfc3339();
    let id = format!("{lead}-{i}");
    let mut pick = |options: &[&'static str]| options[rng.below(options.len() as u64) as usize];
    match pick(&["0", "1", "2", "3", "3", "3", "3", "3", "3", "3"]) {
        "0" => (
            Kind::Assignment,
            json!({"event_id": id, "lead_id": lead, "occurred_at": at, "owner": pick(&["alice", "bob"])}),
        ),
        "1" => (
            Kind::Stage,
            json!({"event_id": id, "lead_id": lead, "occurred_at": at, "stage": pick(&["sal", "nurture", "sql"])}),
        ),
        "2" => (
            Kind::Form,
            json!({"event_id": id, "lead_id": lead, "occurred_at": at, "lead_type": "demo_request", "source": "organic",
                   "attributes": {"utm": "spring"}}),
        ),
        _ => (
            Kind::Touch,
            json!({"event_id": id, "lead_id": lead, "occurred_at": at, "channel": pick(&["email", "call"]),
                   "outcome": pick(&["connected", "voicemail"])}),
        ),
    }
}

#[tokio::test]
async fn every_post_of_a_long_history_answers_what_a_re_fold_answers() {
    let h = harness("snapshot-history", start() + Duration::days(2));
    let lead = "SNAP-1";
    let mut rng = Lcg(7);
    let mut sent: Vec<(Kind, Value)> = Vec::new();
    let first = json!({"event_id": "SNAP-1-form", "lead_id": lead, "occurred_at": start().to_rfc3339(),
                       "lead_type": "demo_request", "source": "organic"});
    post_and_compare(&h, Kind::Form, first).await;
    for i in 1..=240u32 {
        let at = if i % 7 == 0 {
            start() + Duration::minutes(i64::from(i) - 5) + Duration::seconds(7)
        } else {
            start() + Duration::minutes(i64::from(i))
        };
        let (kind, body) = event(&mut rng, lead, i, at);
        post_and_compare(&h, kind, body.clone()).await;
        sent.push((kind, body));
        if i % 11 == 0 {
            let (kind, body) = sent[rng.below(sent.len() as u64) as usize].clone();
            post_and_compare(&h, kind, body).await;
        }
    }
    let id = LeadId::parse(lead).unwrap();
    let saved = h.app.store.saved(&id).await.unwrap().unwrap();
    assert_eq!(saved.stored, 241);
    let snapshot = saved.summary.snapshot.expect("a long history keeps a snapshot");
    assert!(!snapshot.as_str().contains("spring"), "form properties are never kept");
    let view = h.app.lead(lead).await.unwrap();
    assert_eq!((view.timeline_total, view.timeline.len()), (241, 200));

    // A correction re-folds, and the history keeps no snapshot from then on.
    let fix = json!({"event_id": "SNAP-1-fix", "lead_id": lead, "occurred_at": (start() + Duration::minutes(3)).to_rfc3339(),
                     "channel": "call", "outcome": "connected", "supersedes": "SNAP-1-3"});
    post_and_compare(&h, Kind::Touch, fix).await;
    let later = json!({"event_id": "SNAP-1-after", "lead_id": lead, "occurred_at": (start() + Duration::hours(9)).to_rfc3339(),
                       "channel": "call", "outcome": "connected"});
    post_and_compare(&h, Kind::Touch, later).await;
    let saved = h.app.store.saved(&id).await.unwrap().unwrap();
    assert!(saved.summary.snapshot.is_none());
}

/// Saves `lead`'s snapshot with its source changed to `marker`: a pass that answers with the
/// marker continued the snapshot; one that does not re-read the events.
async fn mark_snapshot(h: &Harness, lead: &LeadId, marker: &str) {
    let mut saved = h.app.store.saved(lead).await.unwrap().unwrap();
    let tag = FoldTag::of(&h.app.versions);
    let events = saved.summary.events;
    let mut snapshot = saved
        .summary
        .snapshot
        .as_ref()
        .unwrap()
        .decode(tag, lead, events)
        .unwrap();
    snapshot.lead.source = Some(marker.into());
    saved.summary.snapshot = EncodedSnapshot::encode(snapshot, tag, events);
    h.app.store.save_summary(&saved.summary).await.unwrap();
}

#[tokio::test]
async fn an_event_after_the_last_continues_the_snapshot_and_an_earlier_one_re_folds() {
    let h = harness("snapshot-continues", start() + Duration::days(1));
    let lead = LeadId::parse("SNAP-2").unwrap();
    h.form("SNAP-2", start(), "demo_request", "organic").await;
    let n = 32;
    for i in 1..n {
        h.touch("SNAP-2", start() + Duration::minutes(i)).await;
    }
    mark_snapshot(&h, &lead, "from-snapshot").await;
    let touch = |at: DateTime<Utc>| json!({"lead_id": "SNAP-2", "occurred_at": at.to_rfc3339(), "channel": "email"});
    let later = h
        .app
        .ingest(
            Kind::Touch,
            touch(start() + Duration::minutes(n)).to_string().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(
        later.lead.unwrap().source.as_deref(),
        Some("from-snapshot"),
        "one step of the fold"
    );
    let earlier = h
        .app
        .ingest(
            Kind::Touch,
            touch(start() + Duration::seconds(30)).to_string().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(
        earlier.lead.unwrap().source.as_deref(),
        Some("organic"),
        "a re-fold of the events"
    );

    // An event stored but not yet reconciled (a concurrent request, a crash after the append):
    // the next event is not the only one the snapshot lacks, so the pass re-folds.
    mark_snapshot(&h, &lead, "from-snapshot").await;
    let racing = leadclock_app::inbound::LeadclockJson { kind: Kind::Touch };
    let body = touch(start() + Duration::minutes(n + 1)).to_string();
    let request = leadclock_app::inbound::Inbound::body(body.as_bytes(), h.app.clock.now());
    use leadclock_app::inbound::PayloadFormat;
    for e in racing.events(&request, &h.app.policy).unwrap() {
        leadclock_app::ports::EventStore::append(&h.app.store, &e)
            .await
            .unwrap();
    }
    let after = h
        .app
        .ingest(
            Kind::Touch,
            touch(start() + Duration::minutes(n + 2)).to_string().as_bytes(),
        )
        .await
        .unwrap();
    let view = after.lead.unwrap();
    assert_eq!(view.source.as_deref(), Some("organic"));
    assert_eq!(view.timeline_total, 32 + 4);

    // A snapshot another policy made is not continued.
    mark_snapshot(&h, &lead, "from-snapshot").await;
    let other = open(
        &h.dir,
        &support::EXAMPLE.replace("recycle_limit = 2", "recycle_limit = 4"),
        h.app.clock.now(),
    );
    assert_ne!(FoldTag::of(&other.app.versions), FoldTag::of(&h.app.versions));
    let a = other
        .app
        .ingest(Kind::Touch, touch(start() + Duration::hours(2)).to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(a.lead.unwrap().source.as_deref(), Some("organic"));
}

#[tokio::test]
async fn a_store_written_before_snapshots_upgrades_and_its_long_leads_continue() {
    let dir = temp_dir("snapshot-v7");
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/v7.sql")).unwrap();
    drop(conn);
    let h = open(
        &dir,
        include_str!("../../../tests/fixtures/fast.toml"),
        Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap(),
    );
    let lead = LeadId::parse("V7-LONG").unwrap();
    let saved = h.app.store.saved(&lead).await.unwrap().unwrap();
    assert_eq!(
        (saved.stored, saved.summary.events, saved.summary.snapshot),
        (40, 40, None)
    );
    // The first pass re-folds and keeps a snapshot; the next event continues it.
    let next = json!({"event_id": "v7-after-1", "lead_id": "V7-LONG", "occurred_at": "2026-12-04T16:00:00Z", "channel": "call", "outcome": "connected"});
    post_and_compare(&h, Kind::Touch, next).await;
    assert!(h
        .app
        .store
        .saved(&lead)
        .await
        .unwrap()
        .unwrap()
        .summary
        .snapshot
        .is_some());
    mark_snapshot(&h, &lead, "from-snapshot").await;
    let then = json!({"event_id": "v7-after-2", "lead_id": "V7-LONG", "occurred_at": "2026-12-04T16:05:00Z", "channel": "email"});
    let a = h.app.ingest(Kind::Touch, then.to_string().as_bytes()).await.unwrap();
    assert_eq!(a.lead.unwrap().source.as_deref(), Some("from-snapshot"));
    let short = h.app.lead("V7-SHORT").await.unwrap();
    assert_eq!(short.timeline_total, 1);
    let user_version: i64 = rusqlite::Connection::open(dir.join("leadclock.db"))
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(user_version, leadclock_local::store::schema::VERSION);
}

#[tokio::test]
async fn a_store_written_before_open_clocks_upgrades_and_its_open_leads_gain_them() {
    use leadclock_app::ports::LeadIndex;
    // Written by the previous release's binary (schema 8): one lead open, one answered.
    let dir = temp_dir("open-clocks-v8");
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/v8.sql")).unwrap();
    drop(conn);
    let h = open(
        &dir,
        include_str!("../../../tests/fixtures/fast.toml"),
        Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap(),
    );
    let lead = LeadId::parse("V8-OPEN").unwrap();
    // No clocks kept yet: a report reads the lead in full and still counts its clock.
    assert_eq!(h.app.store.open_clocks().await.unwrap(), vec![(lead.clone(), None)]);
    let before = h.report("2026-12-07", "2026-12-07", None).await;
    assert_eq!(
        (before.open_total, before.open_slas[0].lead_id.as_str()),
        (1, "V8-OPEN")
    );
    // Its next pass keeps them, and the report counts it from them alike.
    h.app.reconcile(&lead).await.unwrap();
    let kept = h.app.store.open_clocks().await.unwrap();
    assert!(kept[0].1.is_some(), "{kept:?}");
    let after = h.report("2026-12-07", "2026-12-07", None).await;
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        serde_json::to_value(&before).unwrap()
    );
    let user_version: i64 = rusqlite::Connection::open(dir.join("leadclock.db"))
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(user_version, leadclock_local::store::schema::VERSION);
}

/// Every lead of the store folded from its events, as a report would without snapshots.
async fn folded_from_events(h: &Harness, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<leadclock_domain::Lead> {
    use leadclock_app::ports::EventStore;
    let (span_from, span_to) = leadclock_domain::metrics::span_needed(from, to);
    let mut ids: std::collections::BTreeSet<LeadId> = h
        .app
        .store
        .active_between(span_from, span_to)
        .await
        .unwrap()
        .into_iter()
        .collect();
    ids.extend(h.app.store.open_leads().await.unwrap());
    let mut leads = Vec::new();
    for id in ids {
        let events = h.app.store.load(&id).await.unwrap();
        leads.push(h.app.versions.fold(id, &events).0);
    }
    leads
}

#[tokio::test]
async fn a_report_read_from_snapshots_is_the_report_of_the_folded_events() {
    let h = harness("snapshot-report", start() + Duration::days(3));
    let mut rng = Lcg(11);
    for l in 0..40u32 {
        let lead = format!("REP-{l}");
        let engaged = start() + Duration::minutes(i64::from(l) * 37);
        let lead_type = ["demo_request", "content_mql"][l as usize % 2];
        let form = json!({"event_id": format!("{lead}-form"), "lead_id": lead, "occurred_at": engaged.to_rfc3339(),
                          "lead_type": lead_type, "source": "organic"});
        h.app.ingest(Kind::Form, form.to_string().as_bytes()).await.unwrap();
        for i in 1..=rng.below(12) as u32 {
            let back = if i % 5 == 0 { -3 } else { 0 };
            let (kind, body) = event(&mut rng, &lead, i, engaged + Duration::minutes(i64::from(i) * 9 + back));
            h.app.ingest(kind, body.to_string().as_bytes()).await.unwrap();
        }
    }
    // One lead corrected (no snapshot), one with an event stored but not reconciled (its
    // snapshot is behind): both are read from their events.
    let fix = json!({"event_id": "REP-3-fix", "lead_id": "REP-3", "occurred_at": (start() + Duration::hours(2)).to_rfc3339(),
                     "channel": "call", "outcome": "connected", "supersedes": "REP-3-form"});
    h.app.ingest(Kind::Touch, fix.to_string().as_bytes()).await.unwrap();
    h.form("REP-NEW", start() + Duration::hours(20), "demo_request", "organic")
        .await;
    let pending = json!({"lead_id": "REP-NEW", "occurred_at": (start() + Duration::hours(20) + Duration::minutes(4)).to_rfc3339(), "owner": "carol"});
    use leadclock_app::inbound::PayloadFormat;
    let body = pending.to_string();
    let request = leadclock_app::inbound::Inbound::body(body.as_bytes(), h.app.clock.now());
    for e in (leadclock_app::inbound::LeadclockJson { kind: Kind::Assignment })
        .events(&request, &h.app.policy)
        .unwrap()
    {
        leadclock_app::ports::EventStore::append(&h.app.store, &e)
            .await
            .unwrap();
    }
    let with_snapshots = h
        .app
        .store
        .saved_many(
            &(0..40)
                .map(|l| LeadId::parse(&format!("REP-{l}")).unwrap())
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap()
        .iter()
        .filter(|s| {
            s.as_ref()
                .is_some_and(|s| s.summary.snapshot.is_some() && s.stored == s.summary.events)
        })
        .count();
    assert!(
        with_snapshots >= 30,
        "most leads are read from their snapshots ({with_snapshots})"
    );

    for by in [None, Some("lead_type"), Some("owner")] {
        let report = h.report("2026-12-01", "2026-12-03", by).await;
        let (from, to) = (report.from, report.to);
        let leads = folded_from_events(&h, from, to).await;
        let direct = leadclock_domain::metrics::report_for(
            &leads,
            h.app.versions.as_ref(),
            from,
            to,
            report.by,
            h.app.clock.now(),
            &leadclock_domain::Scope::All,
        );
        assert!(
            report.overall.volume.mqls >= 20,
            "{by:?}: {}",
            report.overall.volume.mqls
        );
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::to_value(&direct).unwrap(),
            "{by:?}"
        );
    }

    // A later period: leads of the first day still open and untouched are quiet in it, and
    // counted from the open clocks their last pass kept, without being read.
    for l in 0..6 {
        let (lead, at) = (format!("QUIET-{l}"), start() + Duration::minutes(l * 7));
        h.form(&lead, at, ["demo_request", "content_mql"][l as usize % 2], "organic")
            .await;
        h.assign(&lead, at + Duration::minutes(1), "alice").await;
    }
    let report = h.report("2026-12-04", "2026-12-04", Some("lead_type")).await;
    let (span_from, span_to) = leadclock_domain::metrics::span_needed(report.from, report.to);
    let active = h.app.store.active_between(span_from, span_to).await.unwrap();
    let from_index = h
        .app
        .store
        .open_clocks()
        .await
        .unwrap()
        .into_iter()
        .filter(|(id, clocks)| clocks.is_some() && !active.contains(id))
        .count();
    assert!(from_index >= 5, "open leads quiet in the period: {from_index}");
    let leads = folded_from_events(&h, report.from, report.to).await;
    let direct = leadclock_domain::metrics::report(
        &leads,
        h.app.versions.as_ref(),
        report.from,
        report.to,
        report.by,
        h.app.clock.now(),
    );
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        serde_json::to_value(&direct).unwrap()
    );
    assert!(report.open_total as usize >= from_index);
}
