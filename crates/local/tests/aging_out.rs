//! Open leads age out on the local host: an untouched lead closes as `no_response` at
//! engagement + `open_for`, the sweep comes back at that instant and the open index forgets
//! it, so reports stop folding it; nothing is written for it but its summary.

mod support;

use chrono::{Duration, NaiveDate};
use leadclock_app::ports::LeadIndex;
use leadclock_domain::clock::{ClockStatus, StopCause};
use leadclock_domain::{ClockKind, LeadId};
use support::{harness, ny};

#[tokio::test]
async fn an_untouched_lead_leaves_the_open_index_at_its_horizon_and_reports_count_it() {
    let day = NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(); // a Tuesday
    let start = ny(day, 10, 0);
    let h = harness("aging", start);
    h.form("quiet", start, "demo_request", "paid").await;
    h.assign("quiet", start + Duration::minutes(1), "alice").await;
    h.form("answered", start, "demo_request", "paid").await;
    h.assign("answered", start + Duration::minutes(1), "alice").await;
    h.touch("answered", start + Duration::minutes(3)).await;
    let quiet = LeadId::parse("quiet").unwrap();
    assert_eq!(h.app.store.open_leads().await.unwrap(), vec![quiet.clone()]);

    // Weeks later every step of the ladder is behind it; the horizon is what brings the
    // sweep back.
    h.app.clock.set(start + Duration::days(29));
    h.app.sweep(Duration::zero()).await.unwrap();
    let s = h.app.store.summary(&quiet).await.unwrap().unwrap();
    let horizon = start + Duration::days(30);
    assert_eq!((s.open, s.next_due), (true, Some(horizon)));
    assert!(h
        .app
        .store
        .needing_attention(horizon - Duration::seconds(1))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        h.app.store.needing_attention(horizon).await.unwrap(),
        vec![quiet.clone()]
    );

    let events = h.app.store.count_events().await.unwrap();
    h.app.clock.set(horizon);
    assert_eq!(h.app.sweep(Duration::zero()).await.unwrap(), 1);
    let s = h.app.store.summary(&quiet).await.unwrap().unwrap();
    assert_eq!((s.open, s.next_due), (false, None));
    assert!(h.app.store.open_leads().await.unwrap().is_empty());
    assert_eq!(
        h.app.store.count_events().await.unwrap(),
        events,
        "no event is written for it"
    );

    let r = h.report("2027-03-02", "2027-03-02", None).await;
    assert_eq!((r.open_total, r.overall.no_response), (0, 1));
    assert_eq!(r.overall.lead_leakage.numerator, 1);
    let view = h.app.lead("quiet").await.unwrap();
    let response = view.clocks.iter().find(|c| c.clock == ClockKind::Response).unwrap();
    assert_eq!(
        (response.stopped_by, response.status, response.stopped_at),
        (Some(StopCause::NoResponse), ClockStatus::Missed, Some(horizon))
    );
    assert!(view.next_escalation.is_none());
}
