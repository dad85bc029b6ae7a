//! Stores written by the previous release open and upgrade in place: the schema migrates, the
//! escalations it sent become `delivered` step records, and nothing is sent again.

use chrono::{DateTime, Duration, Utc};
use leadclock_app::ports::{Clock, EventStore, ManualClock, Outbox, StepLog};
use leadclock_app::App;
use leadclock_domain::steps::StepStatus;
use leadclock_domain::{LeadId, Policy};
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::{schema, SqliteStore};
use leadclock_local::timers::LocalTimers;
use std::path::PathBuf;
use std::sync::Arc;

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("leadclock-migrate-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A data dir holding what the previous release wrote.
fn legacy_dir(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/legacy-v1.sql")).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/legacy-v1-escalations.jsonl"
        ),
        dir.join("escalations.jsonl"),
    )
    .unwrap();
    dir
}

fn user_version(dir: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

fn lead(id: &str) -> LeadId {
    LeadId::parse(id).unwrap()
}

#[tokio::test]
async fn a_previous_release_store_upgrades_and_keeps_what_it_sent() {
    let dir = legacy_dir("upgrade");
    assert_eq!(user_version(&dir), 0);
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(user_version(&dir), schema::VERSION);
    // Every event is still there, claims included.
    assert_eq!(store.load(&lead("OLD-1")).await.unwrap().len(), 5);
    // The three steps it sent are delivered records now.
    let mut steps: Vec<(u32, StepStatus)> = store
        .steps(&lead("OLD-1"))
        .await
        .unwrap()
        .iter()
        .map(|r| (r.key.step, r.status))
        .collect();
    steps.sort();
    assert_eq!(
        steps,
        vec![
            (0, StepStatus::Delivered),
            (1, StepStatus::Delivered),
            (2, StepStatus::Delivered)
        ]
    );
    drop(store);
    // Opening again changes nothing.
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(store.steps(&lead("OLD-1")).await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_upgraded_lead_is_not_paged_again() {
    let dir = legacy_dir("no-resend");
    let store = SqliteStore::open(&dir).unwrap();
    let events = store.load(&lead("OLD-1")).await.unwrap();
    let last: DateTime<Utc> = events.iter().map(|e| e.occurred_at).max().unwrap();
    let policy = Arc::new(Policy::parse(include_str!("../../../tests/fixtures/fast.toml")).unwrap());
    let clock = ManualClock::at(last + Duration::seconds(30));
    let (timers, _fired) = LocalTimers::start(clock.clone());
    let notifier = LocalNotifier::new(&dir, Webhooks::default(), false);
    let app = App::new(policy, store, timers, notifier, clock);
    for id in ["OLD-1", "OLD-2", "OLD-3"] {
        app.reconcile(&lead(id)).await.unwrap();
    }
    app.dispatch().await.unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("escalations.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let old_one: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["lead_id"] == "OLD-1" && l["type"] == "leadclock.escalation")
        .collect();
    assert_eq!(
        old_one.len(),
        3,
        "the three lines the previous release wrote, none again"
    );
    assert!(app.store.lead_messages(&lead("OLD-1")).await.unwrap().is_empty());
    // The lead view shows what the previous release sent.
    let view = app.lead("OLD-1").await.unwrap();
    assert_eq!(view.escalations.len(), 3);
    assert!(view.escalations.iter().all(|s| s.status == StepStatus::Delivered));
}

#[test]
fn a_store_from_a_newer_release_is_refused() {
    let dir = temp_dir("newer");
    SqliteStore::open(&dir).unwrap();
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.pragma_update(None, "user_version", schema::VERSION + 1).unwrap();
    drop(conn);
    let err = SqliteStore::open(&dir).err().expect("refused");
    assert!(err.to_string().contains("newer than this release"), "{err}");
}

/// A data dir holding what the release before policy versions wrote (schema version 2).
fn v2_dir(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/v2.sql")).unwrap();
    dir
}

#[tokio::test]
async fn a_v2_store_upgrades_and_its_policy_becomes_version_1_since_the_beginning() {
    let dir = v2_dir("v2");
    assert_eq!(user_version(&dir), 2);
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(user_version(&dir), schema::VERSION);
    assert!(store.policy_versions().await.unwrap().is_empty());
    // What it stored is all there: events and step records.
    assert_eq!(store.load(&lead("V2-1")).await.unwrap().len(), 3);
    assert_eq!(store.steps(&lead("V2-2")).await.unwrap().len(), 5);

    let example = include_str!("../../../policies/example.toml");
    let stored = store.adopt_policy(example, Utc::now()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].number, stored[0].effective_from), (1, None));
    // Judged by version 1, every lead reads exactly as the release before judged it.
    let versions = leadclock_app::policy_file::versions_of(&stored, "test").unwrap();
    let policy = Arc::new(Policy::parse(example).unwrap());
    let at = DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let (timers, _fired) = LocalTimers::start(leadclock_app::ports::ManualClock::at(at));
    let notifier = LocalNotifier::new(&dir, Webhooks::default(), false);
    let clock = ManualClock::at(at);
    let app = App::new(policy.clone(), store.clone(), timers, notifier, clock).with_versions(versions);
    for id in ["V2-1", "V2-2", "V2-3"] {
        let events = store.load(&lead(id)).await.unwrap();
        let (judged, version) = app.versions.fold(lead(id), &events);
        assert_eq!(version.number, 1);
        assert_eq!(judged, leadclock_domain::Lead::fold(lead(id), &events, &policy));
        assert_eq!(app.lead(id).await.unwrap().policy_version, 1);
    }
    // A second start with the same policy records nothing; a changed one is version 2 from now.
    assert_eq!(store.adopt_policy(example, Utc::now()).await.unwrap().len(), 1);
    let changed = example.replacen("recycle_limit = 2", "recycle_limit = 3", 1);
    let stored = store.adopt_policy(&changed, at).await.unwrap();
    assert_eq!((stored[1].number, stored[1].effective_from), (2, Some(at)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A data dir holding what the release before personal-data retention wrote (schema version 3).
fn v3_dir(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/v3.sql")).unwrap();
    dir
}

#[tokio::test]
async fn a_v3_store_upgrades_and_its_contacts_can_be_found_and_erased() {
    use leadclock_app::ports::PersonalData;
    let dir = v3_dir("v3");
    assert_eq!(user_version(&dir), 3);
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(user_version(&dir), schema::VERSION);
    // Everything the previous release stored reads back: events, steps, its policy version.
    assert_eq!(store.load(&lead("V3-1")).await.unwrap().len(), 3);
    assert_eq!(store.load(&lead("V3-2")).await.unwrap().len(), 2);
    assert!(!store.steps(&lead("V3-2")).await.unwrap().is_empty());
    assert_eq!(store.policy_versions().await.unwrap().len(), 1);
    // No retention pass has run; the forms it stored are found by email in any case.
    assert_eq!(store.retention_through().await.unwrap(), None);
    let mut found = store.leads_with_email("ada@example.com").await.unwrap();
    found.sort();
    assert_eq!(found, [lead("V3-1"), lead("V3-4")]);
    // Erasing one of them keeps what the fold reads.
    let events = store.load(&lead("V3-1")).await.unwrap();
    let at = Utc::now();
    let erased: Vec<_> = leadclock_domain::event::erase_personal_data(&events, at);
    assert_eq!(erased.len(), 1);
    store.rewrite(&erased).await.unwrap();
    let after = store.load(&lead("V3-1")).await.unwrap();
    assert!(!after.iter().any(leadclock_domain::Event::holds_personal_data));
    let policy = Policy::parse(include_str!("../../../policies/example.toml")).unwrap();
    assert_eq!(
        leadclock_domain::Lead::fold(lead("V3-1"), &after, &policy),
        leadclock_domain::Lead::fold(lead("V3-1"), &events, &policy)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The release before CRM write-back (schema 5, commit `2594b62`): its CRM lead gets its
/// figures queued for the CRM on the first pass after the upgrade, and its other lead none.
#[tokio::test]
async fn a_v5_store_upgrades_and_its_crm_leads_get_their_figures_written_back() {
    use leadclock_app::outbox::OutboxStatus;
    use leadclock_app::ports::WriteBacks;
    use leadclock_app::writeback::{settings, SlaStatus, HUBSPOT_API_URL, HUBSPOT_TOKEN};
    let dir = temp_dir("v5");
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/v5.sql")).unwrap();
    drop(conn);
    assert_eq!(user_version(&dir), 5);
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(user_version(&dir), schema::VERSION);
    let crm_lead = lead("hubspot:62515:501");
    assert_eq!(store.load(&crm_lead).await.unwrap().len(), 3);
    let policy = Arc::new(Policy::parse(include_str!("../../../tests/fixtures/fast.toml")).unwrap());
    let clock = ManualClock::at("2026-12-03T16:00:00Z".parse().unwrap());
    let (timers, _fired) = LocalTimers::start(clock.clone());
    let notifier = LocalNotifier::new(&dir, Webhooks::default(), false);
    // A CRM nobody answers at: only what is stored is checked here.
    let on = settings(|k| match k {
        HUBSPOT_TOKEN => Some("pat-test".into()),
        HUBSPOT_API_URL => Some("http://127.0.0.1:9".into()),
        _ => None,
    })
    .unwrap();
    let app = App::new(policy, store, timers, notifier, clock).with_write_back(on);
    for id in ["hubspot:62515:501", "V5-PLAIN"] {
        app.reconcile(&lead(id)).await.unwrap();
    }
    let w = app
        .store
        .write_back(&crm_lead)
        .await
        .unwrap()
        .expect("the CRM lead's figures are queued");
    assert_eq!(w.status, OutboxStatus::Pending);
    let f = &w.figures;
    assert_eq!(
        (
            f.systems_delay_seconds,
            f.human_delay_seconds,
            f.speed_to_lead_seconds,
            f.sla_threshold_seconds
        ),
        (Some(90), Some(60), Some(150), Some(3600))
    );
    assert_eq!(f.sla_status, Some(SlaStatus::Met));
    assert_eq!(f.first_response_at, Some("2026-12-03T15:02:30Z".parse().unwrap()));
    assert_eq!(app.store.write_back(&lead("V5-PLAIN")).await.unwrap(), None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The release before raw webhooks were kept (schema 6, commit `02b29a4`): its hook-made lead
/// reads as before, no webhook of its is kept (they were not, then), and the first webhook
/// after the upgrade is kept and replayable.
#[tokio::test]
async fn a_v6_store_upgrades_and_keeps_the_webhooks_received_after() {
    use leadclock_app::ports::RawHooks;
    use leadclock_app::raw_hooks::{HookSource, RawHook};
    let dir = temp_dir("v6");
    let conn = rusqlite::Connection::open(dir.join("leadclock.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/v6.sql")).unwrap();
    drop(conn);
    assert_eq!(user_version(&dir), 6);
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(user_version(&dir), schema::VERSION);
    let hook_lead = lead("hubspot:62515:601");
    assert_eq!(store.load(&hook_lead).await.unwrap().len(), 2);
    let (from, to) = (
        "2026-01-01T00:00:00Z".parse().unwrap(),
        "2027-01-01T00:00:00Z".parse().unwrap(),
    );
    assert!(store.raw_hooks_between(from, to, None, 10).await.unwrap().is_empty());
    let policy = Arc::new(Policy::parse(include_str!("../../../tests/fixtures/fast.toml")).unwrap());
    let clock = ManualClock::at("2026-12-04T09:00:00Z".parse().unwrap());
    let (timers, _fired) = LocalTimers::start(clock.clone());
    let notifier = LocalNotifier::new(&dir, Webhooks::default(), false);
    let app = App::new(policy, store, timers, notifier, clock.clone());
    let body = r#"[{"eventId":3,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":1796310150000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":601,"propertyName":"lifecyclestage","propertyValue":"salesqualifiedlead","changeSource":"CRM_UI"}]"#;
    let raw = RawHook::new(HookSource::HubSpot, None, body.into(), clock.now());
    let batch = raw.batch().unwrap();
    let out = app.receive_hook(raw, &batch, &[]).await.unwrap();
    assert_eq!(out.batch.accepted, 1);
    let kept = app.store.raw_hooks_between(from, to, None, 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].leads().into_iter().collect::<Vec<_>>(), [&hook_lead]);
    let replayed = app.replay_hooks((from, to), None, 10, &[]).await.unwrap();
    assert_eq!((replayed.hooks, replayed.unchanged), (1, 1), "{replayed:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
