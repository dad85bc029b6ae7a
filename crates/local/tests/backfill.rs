//! A back-filled lead whose steps were all over before leadclock heard of it: every overdue
//! step settles in one window and is then recorded as stale, nothing is sent, and the step
//! still ahead of it is delivered live when it falls due.

mod support;

use chrono::{Duration, NaiveDate};
use leadclock_domain::steps::StepStatus;
use leadclock_domain::LeadId;
use support::{harness, ny, response_steps};

#[tokio::test]
async fn overdue_steps_settle_together_then_go_stale_and_the_next_one_is_live() {
    let day = NaiveDate::from_ymd_opt(2027, 2, 3).unwrap(); // a Wednesday
    let lead = LeadId::parse("late-1").unwrap();
    // Form 10:00, assigned 10:01: the owner step was due 10:06, the manager step 12:06.
    let h = harness("backfill", ny(day, 13, 30));
    h.form("late-1", ny(day, 10, 0), "demo_request", "organic").await;
    h.assign("late-1", ny(day, 10, 1), "alice").await;
    assert_eq!(
        response_steps(&h, &lead).await,
        [(0, StepStatus::Settling), (1, StepStatus::Settling)]
    );

    // One window for both: at its end each is decided, nothing is sent, the exec step waits.
    h.app.clock.advance(Duration::seconds(61));
    let r = h.app.reconcile(&lead).await.unwrap();
    assert!(r.sent.is_empty(), "{:?}", r.sent);
    assert_eq!(
        response_steps(&h, &lead).await,
        [(0, StepStatus::Stale), (1, StepStatus::Stale)]
    );
    assert_eq!(r.timers.len(), 1, "{:?}", r.timers);
    assert_eq!(r.timers[0].due_at, ny(day, 17, 0));

    // The lead is still untouched at end of day: that step is live, and it is sent.
    h.app.clock.set(ny(day, 17, 0) + Duration::seconds(5));
    let r = h.app.reconcile(&lead).await.unwrap();
    assert_eq!(r.sent.len(), 1);
    assert_eq!(response_steps(&h, &lead).await[2], (2, StepStatus::Delivering));
}
