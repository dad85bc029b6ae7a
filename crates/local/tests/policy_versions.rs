//! Effective-dated policies on the local host: a policy change applies to leads engaged from
//! then on; last month's report is unchanged, byte for byte, and says which version judged it.

mod support;

use chrono::NaiveDate;
use leadclock_app::report_format;
use serde_json::Value;
use support::{ny, open, open_versioned, temp_dir, Harness, EXAMPLE};

/// The example policy with a 15-minute demo-request SLA instead of 5 minutes.
fn looser() -> String {
    let (head, tail) = EXAMPLE.split_once("[lead_types.demo_request]").unwrap();
    let tail = tail.replacen("within = \"5m\"", "within = \"15m\"", 1);
    format!("{head}[lead_types.demo_request]{tail}")
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, m, day).unwrap()
}

/// A demo request answered `minutes` after its assignment (assigned a minute after the form).
async fn demo(h: &Harness, lead: &str, day: NaiveDate, minutes: u32) {
    h.form(lead, ny(day, 10, 0), "demo_request", "organic").await;
    h.assign(lead, ny(day, 10, 1), "alice").await;
    h.touch(lead, ny(day, 10, 1 + minutes)).await;
}

/// The report's JSON without the instant it was generated.
async fn january(h: &Harness) -> Value {
    let mut r = serde_json::to_value(h.report("2027-01-01", "2027-01-31", Some("lead_type")).await).unwrap();
    r.as_object_mut().unwrap().remove("generated_at");
    r
}

fn compliance(r: &Value) -> (u64, u64) {
    let rate = &r["overall"]["sla"]["overall"]["rate"];
    (
        rate["numerator"].as_u64().unwrap(),
        rate["denominator"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn a_policy_change_leaves_last_months_report_unchanged() {
    let dir = temp_dir("versions");
    // January under the example policy: one demo answered in 3 minutes, one in 11.
    let h = open_versioned(&dir, EXAMPLE, ny(d(1, 20), 9, 0)).await;
    demo(&h, "jan-fast", d(1, 12), 3).await;
    demo(&h, "jan-slow", d(1, 12), 11).await;
    let before = january(&h).await;
    assert_eq!(compliance(&before), (1, 2), "{before:#}");
    assert_eq!(before["policy_versions"][0]["version"], 1);
    drop(h);

    // The server restarts with a looser SLA on February 1st: version 2 from then on.
    let h = open_versioned(&dir, &looser(), ny(d(2, 1), 9, 0)).await;
    assert_eq!(h.app.versions.all().len(), 2);
    assert_eq!(h.app.versions.current().effective_from, Some(ny(d(2, 1), 9, 0)));
    h.app.clock.set(ny(d(2, 2), 12, 0));
    demo(&h, "feb-slow", d(2, 2), 11).await;

    assert_eq!(january(&h).await, before, "last month's report changed with the policy");
    let feb = serde_json::to_value(h.report("2027-02-01", "2027-02-28", None).await).unwrap();
    assert_eq!(compliance(&feb), (1, 1), "{feb:#}");
    assert_eq!(feb["policy_versions"][0]["version"], 2, "{feb:#}");
    assert_eq!(feb["policy_versions"][0]["mqls"], 1, "{feb:#}");
    assert_eq!(h.app.lead("jan-slow").await.unwrap().policy_version, 1);
    assert_eq!(h.app.lead("feb-slow").await.unwrap().policy_version, 2);

    // The table says which version judged the period.
    let report = h.report("2027-01-01", "2027-02-28", None).await;
    let table = report_format::table(&report, chrono_tz::America::New_York);
    assert!(
        table.contains("POLICY     judged by version 1 (since the beginning) 2 MQL(s) · version 2 (since 2027-02-01 09:00 EST) 1 MQL(s)"),
        "{table}"
    );
    drop(h);

    // Without versions, the looser policy would have rewritten January: what versions prevent.
    let unversioned = open(&dir, &looser(), ny(d(2, 3), 9, 0));
    assert_eq!(compliance(&january(&unversioned).await), (2, 2));
    drop(unversioned);

    // Starting again with the same policy records nothing new.
    let h = open_versioned(&dir, &looser(), ny(d(2, 5), 9, 0)).await;
    assert_eq!(h.app.versions.all().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_lead_in_flight_at_the_switch_keeps_the_targets_it_engaged_under() {
    let dir = temp_dir("versions-flight");
    let day = d(3, 2); // a Tuesday
    let h = open_versioned(&dir, EXAMPLE, ny(day, 10, 2)).await;
    h.form("flight", ny(day, 10, 0), "demo_request", "organic").await;
    h.assign("flight", ny(day, 10, 1), "alice").await;
    drop(h);
    // The looser policy takes effect at 10:03, while the lead's 5-minute clock runs.
    let h = open_versioned(&dir, &looser(), ny(day, 10, 3)).await;
    let view = h.app.lead("flight").await.unwrap();
    assert_eq!(view.policy_version, 1);
    let response = view
        .clocks
        .iter()
        .find(|c| c.clock == leadclock_domain::ClockKind::Response)
        .unwrap();
    assert_eq!(response.deadline, Some(ny(day, 10, 6)), "{response:?}");
    // A lead engaged after the switch gets the new target.
    h.app.clock.set(ny(day, 10, 45));
    h.form("after", ny(day, 10, 30), "demo_request", "organic").await;
    h.assign("after", ny(day, 10, 31), "alice").await;
    let view = h.app.lead("after").await.unwrap();
    assert_eq!(view.policy_version, 2);
    let response = view
        .clocks
        .iter()
        .find(|c| c.clock == leadclock_domain::ClockKind::Response)
        .unwrap();
    assert_eq!(response.deadline, Some(ny(day, 10, 46)), "{response:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A deployment may bundle a version that takes effect later (the AWS manifest): until its
/// instant the version before it classifies and delivers, then it takes over.
#[tokio::test]
async fn a_version_bundled_ahead_of_its_instant_takes_over_only_at_it() {
    use leadclock_domain::policy::{Version, Versions};
    use leadclock_domain::steps::StepStatus;
    use leadclock_domain::{LeadId, Policy};
    use std::sync::Arc;
    let day = d(3, 3); // a Wednesday
    let shadow = EXAMPLE.replace(
        "label = \"Demo / pricing request\"",
        "label = \"Demo / pricing request\"\nmode = \"shadow\"",
    );
    assert_ne!(shadow, EXAMPLE);
    let versions = Versions::new(vec![
        Version {
            number: 1,
            effective_from: None,
            policy: Arc::new(Policy::parse(EXAMPLE).unwrap()),
        },
        Version {
            number: 2,
            effective_from: Some(ny(day, 12, 0)),
            policy: Arc::new(Policy::parse(&shadow).unwrap()),
        },
    ])
    .unwrap();
    let dir = temp_dir("versions-ahead");
    let h = open(&dir, EXAMPLE, ny(day, 10, 2)).with_versions(versions);
    // Before noon: version 1 is in force, the owner step is delivered live.
    h.form("morning", ny(day, 10, 0), "demo_request", "organic").await;
    h.assign("morning", ny(day, 10, 1), "alice").await;
    h.app.clock.set(ny(day, 10, 6) + chrono::Duration::seconds(30));
    let morning = LeadId::parse("morning").unwrap();
    h.app.reconcile(&morning).await.unwrap();
    assert_eq!(support::response_steps(&h, &morning).await[0].1, StepStatus::Delivering);
    // After noon: version 2 (shadow for demo requests) judges and delivers.
    h.app.clock.set(ny(day, 14, 2));
    h.form("afternoon", ny(day, 14, 0), "demo_request", "organic").await;
    h.assign("afternoon", ny(day, 14, 1), "alice").await;
    h.app.clock.set(ny(day, 14, 6) + chrono::Duration::seconds(30));
    let afternoon = LeadId::parse("afternoon").unwrap();
    h.app.reconcile(&afternoon).await.unwrap();
    assert_eq!(support::response_steps(&h, &afternoon).await[0].1, StepStatus::Shadow);
    let _ = std::fs::remove_dir_all(&h.dir);
}

/// A lead recycled after a policy change: its first cycle keeps the old verdict, its new cycle
/// is judged by the version in force when it re-engaged.
#[tokio::test]
async fn each_cycle_of_a_recycled_lead_is_judged_by_the_version_at_its_engagement() {
    let dir = temp_dir("versions-recycle");
    let h = open_versioned(&dir, EXAMPLE, ny(d(1, 20), 9, 0)).await;
    demo(&h, "again", d(1, 12), 11).await; // missed under 5 minutes
    h.stage("again", ny(d(1, 13), 10, 0), "nurture", None).await;
    drop(h);
    let h = open_versioned(&dir, &looser(), ny(d(2, 1), 9, 0)).await;
    h.app.clock.set(ny(d(2, 2), 12, 0));
    demo(&h, "again", d(2, 2), 11).await; // the recycle: met under 15 minutes
    let view = h.app.lead("again").await.unwrap();
    assert_eq!(view.recycle_count, 1);
    assert_eq!(view.policy_version, 2);
    assert_eq!(compliance(&january(&h).await), (0, 1), "January's cycle keeps its miss");
    let feb = serde_json::to_value(h.report("2027-02-01", "2027-02-28", None).await).unwrap();
    assert_eq!(compliance(&feb), (1, 1), "{feb:#}");
    let _ = std::fs::remove_dir_all(&dir);
}
