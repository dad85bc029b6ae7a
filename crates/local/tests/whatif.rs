//! What-if: the stored events replayed under a tighter SLA give lower compliance and more
//! escalations, by exactly the leads the tighter SLA catches; nothing stored changes.

mod support;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use leadclock_app::query::{RawReportQuery, ReportQuery};
use leadclock_app::whatif_format;
use leadclock_domain::{ClockKind, Policy};
use support::{harness, ny, weekday, EXAMPLE};

#[tokio::test]
async fn a_tighter_sla_shows_lower_compliance_and_more_escalations() {
    let h = harness("whatif", Utc.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap());
    let feb = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    for i in 0..20 {
        let lead = format!("demo-{i}");
        let t = ny(weekday(feb, i, 19), 10, 0);
        h.form(&lead, t, "demo_request", "organic").await;
        h.assign(&lead, t + Duration::minutes(1), "alice").await;
        // Half answered in 30 s, half in 3 min: all inside 5 minutes, half outside 1 minute.
        let answer = if i % 2 == 0 {
            Duration::seconds(30)
        } else {
            Duration::minutes(3)
        };
        h.touch(&lead, t + Duration::minutes(1) + answer).await;
    }
    let tighter = EXAMPLE.replace(
        "label = \"Demo / pricing request\"\nwithin = \"5m\"",
        "label = \"Demo / pricing request\"\nwithin = \"1m\"",
    );
    assert_ne!(tighter, EXAMPLE, "the example policy's demo_request SLA moved");
    let proposed = Policy::parse(&tighter).unwrap();
    let q = ReportQuery::parse(&RawReportQuery {
        from: Some("2027-02-01".into()),
        to: Some("2027-02-28".into()),
        ..Default::default()
    })
    .unwrap();
    let before = h.report("2027-02-01", "2027-02-28", None).await;
    let w = h.app.whatif(&proposed, &q).await.unwrap();

    let (a, p) = (
        &w.actual.compliance["demo_request"],
        &w.proposed.compliance["demo_request"],
    );
    assert_eq!((a.met, a.missed), (20, 0));
    assert_eq!((p.met, p.missed), (10, 10));
    let owner_step = |j: &leadclock_domain::metrics::Judged| {
        j.steps
            .iter()
            .find(|s| s.clock == ClockKind::Response && s.step == 1)
            .map_or(0, |s| s.leads)
    };
    assert_eq!((owner_step(&w.actual), owner_step(&w.proposed)), (0, 10));
    // Touched within minutes: no lead reaches the manager step (2 h after the deadline) either way.
    assert!(w.proposed.steps.iter().all(|s| s.step == 1), "{:?}", w.proposed.steps);
    let alice =
        |j: &leadclock_domain::metrics::Judged| j.reps.iter().find(|r| r.owner == "alice").and_then(|r| r.score);
    assert_eq!(
        alice(&w.actual),
        alice(&w.proposed),
        "rep scores use the rubric, not the SLA"
    );

    // Nothing stored changed: the report under the policy in force is the same as before.
    let after = h.report("2027-02-01", "2027-02-28", None).await;
    assert_eq!(
        serde_json::to_value(&before.overall).unwrap(),
        serde_json::to_value(&after.overall).unwrap()
    );
    let table = whatif_format::table(&w, New_York);
    assert!(table.contains("100.0% (20/20"), "{table}");
    assert!(table.contains("50.0% (10/20"), "{table}");
    assert!(table.contains("response step 1 (owner)"), "{table}");
}
