//! Raw webhooks kept and replayed, on the SQLite store: a fix to the mapping (here the policy's
//! classification) replayed over what was received corrects the timeline once; a fact the
//! mapping no longer derives is voided and comes back when it does again; a person voided by
//! hand stays voided; erasure and retention delete the kept bodies.

use chrono::{DateTime, Duration, Utc};
use leadclock_app::ports::{Clock, EventStore, ManualClock, RawHooks};
use leadclock_app::raw_hooks::{HookSource, RawHook};
use leadclock_app::App;
use leadclock_domain::event::Void;
use leadclock_domain::{Event, EventBody, EventId, Lead, LeadId, Policy};
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::SqliteStore;
use leadclock_local::timers::LocalTimers;
use std::path::{Path, PathBuf};
use std::sync::Arc;

type TestApp = App<SqliteStore, LocalTimers, LocalNotifier, ManualClock>;

const WORKFLOW: &str = include_str!("../../crm/tests/fixtures/hubspot/workflow-contact.json");
const EXAMPLE: &str = include_str!("../../../policies/example.toml");
const LEAD: &str = "hubspot:62515:123";

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("leadclock-replay-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The example policy with a rule that types the workflow's "Demo request" conversion.
fn fixed_policy() -> String {
    let rule = "[[classify]]\nname = \"demo form (HubSpot)\"\nwhen = [{ field = \"properties.recent_conversion_event_name\", matches = \"*demo*\" }]\nlead_type = \"demo_request\"\n\n";
    EXAMPLE.replacen("[[classify]]", &format!("{rule}[[classify]]"), 1)
}

/// An app over the store in `dir` with `policy`, at `now`.
fn app(dir: &Path, policy: &str, now: DateTime<Utc>) -> TestApp {
    let policy = Arc::new(Policy::parse(policy).unwrap());
    let clock = ManualClock::at(now);
    let (timers, _fired) = LocalTimers::start(clock.clone());
    let notifier = LocalNotifier::new(dir, Webhooks::default(), false);
    App::new(policy, SqliteStore::open(dir).unwrap(), timers, notifier, clock)
}

async fn receive(app: &TestApp, body: &str) -> usize {
    let raw = RawHook::new(
        HookSource::HubSpotWorkflow,
        Some("62515".into()),
        body.into(),
        app.clock.now(),
    );
    let batch = raw.batch().unwrap();
    app.receive_hook(raw, &batch, &[]).await.unwrap().batch.accepted
}

async fn lead(app: &TestApp) -> Lead {
    let events = app.store.load(&LeadId::parse(LEAD).unwrap()).await.unwrap();
    Lead::fold(LeadId::parse(LEAD).unwrap(), &events, &app.policy)
}

const NOW: &str = "2026-12-02T12:00:00Z";

fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (t(NOW) - Duration::days(1), t(NOW) + Duration::days(1))
}

#[tokio::test]
async fn a_fixed_classification_replayed_corrects_the_form_once_and_can_be_undone() {
    let dir = temp_dir("classify");
    let before = app(&dir, EXAMPLE, t(NOW));
    assert_eq!(receive(&before, WORKFLOW).await, 1);
    let old_type = lead(&before).await.lead_type;
    assert_ne!(
        old_type.as_deref(),
        Some("demo_request"),
        "the example policy has no rule for it"
    );
    drop(before);

    let fixed = app(&dir, &fixed_policy(), t(NOW) + Duration::hours(1));
    let r = fixed.replay_hooks(window(), None, 100, &[]).await.unwrap();
    assert_eq!(
        (r.hooks, r.corrected, r.added, r.voided, r.unchanged),
        (1, 1, 0, 0, 0),
        "{r:?}"
    );
    let l = lead(&fixed).await;
    assert_eq!(l.lead_type.as_deref(), Some("demo_request"));
    assert_eq!(
        l.cycles.len(),
        1,
        "the correction replaces the form, it is not a second one"
    );
    // Twice changes nothing the second time.
    let again = fixed.replay_hooks(window(), None, 100, &[]).await.unwrap();
    assert_eq!((again.corrected, again.unchanged), (0, 1), "{again:?}");
    let stored = fixed.store.load(&LeadId::parse(LEAD).unwrap()).await.unwrap().len();
    drop(fixed);

    // Back to the old policy: the latest version is superseded again, and the old type returns.
    let undone = app(&dir, EXAMPLE, t(NOW) + Duration::hours(2));
    let r = undone.replay_hooks(window(), None, 100, &[]).await.unwrap();
    assert_eq!(r.corrected, 1, "{r:?}");
    assert_eq!(lead(&undone).await.lead_type, old_type);
    assert_eq!(
        undone.store.load(&LeadId::parse(LEAD).unwrap()).await.unwrap().len(),
        stored + 1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What an older mapping gave the workflow's form: another id for the same fact.
fn old_mapping_form(app_events: &[Event]) -> Event {
    let mut e = app_events[0].clone();
    e.event_id = EventId::parse("hubspot:62515:123:old-mapping").unwrap();
    e
}

#[tokio::test]
async fn a_fact_the_mapping_no_longer_derives_is_voided_and_one_it_derives_again_comes_back() {
    let dir = temp_dir("void");
    let a = app(&dir, EXAMPLE, t(NOW));
    let id = LeadId::parse(LEAD).unwrap();
    // The kept webhook says its events were an older mapping's: the form under another id.
    let mut raw = RawHook::new(
        HookSource::HubSpotWorkflow,
        Some("62515".into()),
        WORKFLOW.into(),
        t(NOW),
    );
    let current =
        leadclock_app::inbound::crm::map(&raw.batch().unwrap(), &a.policy, leadclock_domain::Origin::Live, t(NOW));
    let old = old_mapping_form(&current.events);
    raw.derived = vec![(id.clone(), old.event_id.clone())];
    a.store.keep_raw_hook(&raw).await.unwrap();
    a.receive_batch(vec![Ok(old.clone())], false).await.unwrap();

    let r = a.replay_hooks(window(), None, 100, &[]).await.unwrap();
    assert_eq!((r.added, r.voided), (1, 1), "{r:?}");
    let events = a.store.load(&id).await.unwrap();
    let void = events
        .iter()
        .find(|e| matches!(&e.body, EventBody::Void(v) if v.target == old.event_id))
        .expect("the old mapping's event is voided");
    assert!(void.event_id.as_str().starts_with("hubspot:62515:123:old-mapping~v"));
    assert_eq!(lead(&a).await.cycles.len(), 1, "one form counts, not two");
    // The kept webhook now says what it derives: a second replay changes nothing.
    let again = a.replay_hooks(window(), None, 100, &[]).await.unwrap();
    assert_eq!((again.added, again.voided, again.unchanged), (0, 0, 1), "{again:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_fact_voided_by_hand_stays_voided() {
    let dir = temp_dir("by-hand");
    let a = app(&dir, EXAMPLE, t(NOW));
    receive(&a, WORKFLOW).await;
    let id = LeadId::parse(LEAD).unwrap();
    let form = a.store.load(&id).await.unwrap().remove(0);
    let by_hand = Event::new(
        EventId::parse("ops-void-1").unwrap(),
        id.clone(),
        form.occurred_at,
        EventBody::Void(Void {
            target: form.event_id.clone(),
            reason: "test contact".into(),
        }),
    );
    a.receive_batch(vec![Ok(by_hand)], false).await.unwrap();
    let fixed = app(&dir, &fixed_policy(), t(NOW));
    let r = fixed.replay_hooks(window(), None, 100, &[]).await.unwrap();
    assert_eq!((r.corrected, r.added, r.unchanged), (0, 0, 1), "{r:?}");
    assert!(lead(&fixed).await.cycles.is_empty(), "still voided");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn pages_cover_the_window_once_and_an_unreadable_body_is_reported() {
    let dir = temp_dir("pages");
    let a = app(&dir, EXAMPLE, t(NOW));
    for i in 0..5 {
        let body = WORKFLOW.replace("\"vid\": 123", &format!("\"vid\": {}", 900 + i));
        let body = body.replace("\"canonical-vid\": 123", &format!("\"canonical-vid\": {}", 900 + i));
        a.clock.advance(Duration::seconds(1));
        let raw = RawHook::new(HookSource::HubSpotWorkflow, Some("62515".into()), body, a.clock.now());
        let batch = raw.batch().unwrap();
        a.receive_hook(raw, &batch, &[]).await.unwrap();
    }
    // A body this release cannot read (kept by a release whose parser it was).
    let broken = RawHook::new(
        HookSource::HubSpot,
        None,
        "{\"not\": \"an array\"}".into(),
        a.clock.now(),
    );
    a.store.keep_raw_hook(&broken).await.unwrap();
    let (mut after, mut hooks, mut unchanged, mut failed) = (None, 0, 0, 0);
    loop {
        let page = a.replay_hooks(window(), after.as_ref(), 2, &[]).await.unwrap();
        hooks += page.hooks;
        unchanged += page.unchanged;
        failed += page.failed.len();
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!((hooks, unchanged, failed), (6, 5, 1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn erasure_and_retention_delete_the_kept_bodies_and_off_keeps_none() {
    use leadclock_app::handlers::privacy::{ContactEmail, Subject};
    let dir = temp_dir("privacy");
    let a = app(&dir, EXAMPLE, t(NOW));
    receive(&a, WORKFLOW).await;
    let kept = |a: &TestApp| {
        let store = a.store.clone();
        async move {
            store
                .raw_hooks_between(window().0, window().1, None, 10)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(kept(&a).await, 1);
    let done = a
        .erase(&Subject::Email(ContactEmail::parse("ADA@example.com").unwrap()))
        .await
        .unwrap();
    assert_eq!(done.raw_hooks_deleted, 1);
    assert_eq!(kept(&a).await, 0);

    // Retention: 90 days by default, counted from receipt.
    receive(&a, &WORKFLOW.replace("Ada", "Adah")).await;
    a.clock.advance(Duration::days(89));
    assert_eq!(a.apply_retention().await.unwrap().raw_hooks_deleted, 0);
    a.clock.advance(Duration::days(2));
    assert_eq!(a.apply_retention().await.unwrap().raw_hooks_deleted, 1);

    // "off": nothing is kept, and the events are stored all the same.
    let off = EXAMPLE.replace("raw_hooks = \"90days\"", "raw_hooks = \"off\"");
    assert_ne!(off, EXAMPLE, "the example policy sets raw_hooks");
    let dir2 = temp_dir("off");
    let b = app(&dir2, &off, t(NOW));
    assert_eq!(b.policy.privacy.raw_hooks, None);
    receive(&b, WORKFLOW).await;
    assert_eq!(kept(&b).await, 0);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

const SALESFORCE: &str = include_str!("../../crm/tests/fixtures/salesforce/lead-notification.xml");

/// A Salesforce Outbound Message as the route receives it: kept, stored, reconciled.
async fn receive_salesforce(app: &TestApp, body: String) {
    let raw = RawHook::new(HookSource::Salesforce, None, body, app.clock.now());
    let batch = raw.batch().unwrap();
    app.receive_hook(raw, &batch, &[]).await.unwrap();
}

/// The fixture's lead as a later full-record message sends it: another notification, edited
/// since, with another status.
fn salesforce_edit() -> String {
    SALESFORCE
        .replace("04l000000000001AAA", "04l000000000002AAA")
        .replace("2024-06-10T14:01:12.000Z", "2024-06-11T09:30:00.000Z")
        .replace("Working - Contacted", "Qualified")
}

#[tokio::test]
async fn salesforce_messages_repeating_a_creation_replay_to_no_change_twice() {
    let dir = temp_dir("salesforce");
    let a = app(&dir, EXAMPLE, t(NOW));
    for body in [SALESFORCE.to_owned(), salesforce_edit()] {
        receive_salesforce(&a, body).await;
    }
    let lead = LeadId::parse("salesforce:00D000000000001AAA:00Q000000000001AAA").unwrap();
    let before = a.store.load(&lead).await.unwrap().len();
    for pass in 0..2 {
        let r = a.replay_hooks(window(), None, 100, &[]).await.unwrap();
        assert_eq!(
            (r.hooks, r.added, r.corrected, r.voided),
            (2, 0, 0, 0),
            "pass {pass}: {r:?}"
        );
        assert!(r.failed.is_empty(), "{r:?}");
    }
    assert_eq!(
        a.store.load(&lead).await.unwrap().len(),
        before,
        "replays wrote nothing"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_delivery_out_of_time_stores_everything_and_leaves_its_leads_to_the_sweep() {
    use leadclock_app::ports::LeadIndex;
    let dir = temp_dir("budget");
    let a = app(&dir, EXAMPLE, t(NOW));
    let raw = RawHook::new(HookSource::Salesforce, None, SALESFORCE.to_owned(), a.clock.now());
    let mapped =
        leadclock_app::inbound::crm::map(&raw.batch().unwrap(), &a.policy, leadclock_domain::Origin::Live, t(NOW));
    let stored = mapped.events.len();
    let items = mapped.events.into_iter().map(Ok).collect();
    let out = a
        .receive_batch_within(items, false, Some(std::time::Duration::ZERO))
        .await
        .unwrap();
    assert_eq!((out.accepted, out.leads, out.deferred), (stored, 0, 1), "{out:?}");
    let lead = LeadId::parse("salesforce:00D000000000001AAA:00Q000000000001AAA").unwrap();
    assert_eq!(
        a.store.load(&lead).await.unwrap().len(),
        stored,
        "stored before the time ran out"
    );
    assert!(a.store.needing_attention(t(NOW)).await.unwrap().contains(&lead));
    assert!(a.sweep(Duration::zero()).await.unwrap() >= 1);
    assert_eq!(
        a.store.summary(&lead).await.unwrap().map(|s| s.events),
        Some(stored as u64)
    );
    assert!(
        !a.store.needing_attention(t(NOW)).await.unwrap().contains(&lead),
        "the sweep reconciled it"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_replay_judges_dates_as_of_each_webhooks_arrival() {
    // The fixture's lead was created in June 2024; kept in December 2026 it was 2.5 years old,
    // replayed in July 2027 it is past the 3-year window, and must not be voided for that.
    let dir = temp_dir("replay-window");
    let a = app(&dir, EXAMPLE, t(NOW));
    receive_salesforce(&a, SALESFORCE.to_owned()).await;
    a.clock.set(t("2027-07-01T00:00:00Z"));
    let r = a.replay_hooks(window(), None, 100, &[]).await.unwrap();
    assert_eq!((r.hooks, r.added, r.corrected, r.voided), (1, 0, 0, 0), "{r:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
