//! A report, and the nightly rollup that stores it, stays the same size however many leads are
//! open: it lists the soonest open SLAs and counts the rest. Listing all of them made the AWS
//! rollup item pass DynamoDB's 400 KB limit at about 2,250 open leads.

mod support;

use chrono::{Duration, NaiveDate};
use leadclock_app::inbound::batch;
use leadclock_domain::metrics::OPEN_LISTED;
use serde_json::json;
use support::{harness, ny, Harness};

/// `n` demo requests engaged over the hour before now, none assigned: every one has a running
/// assignment clock.
async fn open_leads(h: &Harness, n: usize) {
    let now = h.app.clock.now();
    let events: Vec<_> = (0..n)
        .map(|i| {
            let at = now - Duration::seconds(3_600 - (i % 3_600) as i64);
            let v = json!({"kind": "form", "lead_id": format!("OPEN-{i:05}"), "occurred_at": at.to_rfc3339(),
                           "lead_type": "demo_request", "region": "na", "history": true});
            batch::item(&v, &h.app.policy, now)
        })
        .collect();
    for chunk in events.chunks(batch::MAX_ITEMS) {
        let out = h.app.receive_batch(chunk.to_vec(), true).await.unwrap();
        assert_eq!(out.accepted, chunk.len());
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 3, 3).unwrap()
}

use leadclock_app::ports::Clock as _;

#[tokio::test]
async fn the_rollup_of_2500_open_leads_lists_the_soonest_and_counts_them_all() {
    let h = harness("rollup-size", ny(day(), 14, 0));
    // Past the 2,250 open leads at which the full list outgrew a DynamoDB item.
    open_leads(&h, 2_500).await;
    let report = h.app.rollup(day()).await.unwrap();
    assert_eq!((report.open_total, report.open_slas.len()), (2_500, OPEN_LISTED));
    // The listed ones are the soonest: no unlisted clock has an earlier deadline.
    let deadlines: Vec<_> = report.open_slas.iter().map(|o| o.deadline).collect();
    assert!(deadlines.windows(2).all(|w| w[0] <= w[1]));
    assert!(report.open_breached > 0 && report.open_breached <= report.open_total);
    let stored = h
        .app
        .store
        .rollup("2027-03-03")
        .await
        .unwrap()
        .expect("the rollup is stored");
    // DynamoDB's item limit is 400 KB: listing all 2,500 open leads adds 402,500 bytes (161 per entry).
    assert!(stored.len() < 64 * 1024, "rollup is {} bytes", stored.len());
    let per_entry = serde_json::to_string(&report.open_slas[0]).unwrap().len() + 1;
    eprintln!(
        "rollup {} bytes; listing all 2,500 would add {} bytes",
        stored.len(),
        per_entry * 2_500
    );
    let text = leadclock_app::report_format::render(
        &report,
        leadclock_app::report_format::Format::Table,
        h.app.policy.reporting_timezone,
    )
    .1;
    assert!(text.contains("OPEN SLAS NOW (2500, "), "{text}");
    assert!(text.contains("… 2475 more"), "{text}");
}

#[tokio::test]
async fn a_few_open_leads_are_all_listed() {
    let h = harness("rollup-few", ny(day(), 14, 0));
    open_leads(&h, 30).await;
    let report = h.app.rollup(day()).await.unwrap();
    assert_eq!((report.open_total, report.open_slas.len()), (30, 30));
}
