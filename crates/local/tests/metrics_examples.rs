//! The methodology's worked examples, reproduced from real event streams pushed through the
//! shared handlers into the SQLite store, then read back through the metrics handler.

mod support;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use leadclock_app::report_format;
use leadclock_domain::metrics::{Band, Held};
use serde_json::Value;
use support::{harness, ny, open, temp_dir, weekday, EXAMPLE};

fn pct(r: &leadclock_domain::metrics::Rate) -> f64 {
    (r.percent.unwrap() * 10.0).round() / 10.0
}

#[tokio::test]
async fn february_sla_compliance_example() {
    let h = harness("february", Utc.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap());
    let feb = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    // (lead type, leads, responded within SLA, response delay inside / outside the window)
    let tiers = [
        ("demo_request", 50, 38, Duration::minutes(3), Duration::minutes(20)),
        ("content_mql", 80, 68, Duration::hours(2), Duration::hours(6)),
        ("event_attendee", 20, 18, Duration::hours(3), Duration::hours(26)),
    ];
    let mut n = 0;
    for (lead_type, total, within, fast, slow) in tiers {
        for i in 0..total {
            let lead = format!("{lead_type}-{i}");
            let t = ny(weekday(feb, n, 20), 10, 0);
            n += 1;
            h.form(&lead, t, lead_type, "organic").await;
            h.assign(&lead, t + Duration::minutes(1), "alice").await;
            let delay = if i < within { fast } else { slow };
            h.touch(&lead, t + Duration::minutes(1) + delay).await;
        }
    }
    let r = h.report("2027-02-01", "2027-02-28", Some("lead_type")).await;
    let sla = &r.overall.sla;
    assert_eq!(
        (
            sla.by_lead_type["demo_request"].met,
            sla.by_lead_type["demo_request"].assigned
        ),
        (38, 50)
    );
    assert_eq!(pct(&sla.by_lead_type["demo_request"].rate), 76.0);
    assert_eq!(pct(&sla.by_lead_type["content_mql"].rate), 85.0);
    assert_eq!(pct(&sla.by_lead_type["event_attendee"].rate), 90.0);
    assert_eq!((sla.overall.met, sla.overall.met + sla.overall.missed), (124, 150));
    assert_eq!(pct(&sla.overall.rate), 82.7);
    assert_eq!(sla.overall.rate.band, Some(Band::Warning));
    assert_eq!(sla.overall.pending, 0);
    assert!(!sla.too_lenient);
    // Every lead was assigned a minute after engagement: systems delay 1m, band good.
    assert_eq!(r.overall.systems_delay.timing.calendar.average, Some(60.0));
    assert_eq!(r.overall.systems_delay.timing.band, Some(Band::Good));
    assert_eq!(r.groups["demo_request"].volume.mqls, 50);
    assert_eq!(pct(&r.groups["content_mql"].sla.overall.rate), 85.0);
    // The table names the figures people look for.
    let table = report_format::table(&r, New_York);
    assert!(table.contains("76.0% (38/50, warning)"), "{table}");
    assert!(table.contains("82.7% (124/150, warning)"), "{table}");
    let csv = report_format::csv(&r);
    assert!(csv.contains("overall,sla_compliance_pct,82.67,warning"), "{csv}");
}

#[tokio::test]
async fn january_cohort_example() {
    let h = harness("january", Utc.with_ymd_and_hms(2027, 3, 31, 12, 0, 0).unwrap());
    let jan = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    let march = ny(NaiveDate::from_ymd_opt(2027, 3, 10).unwrap(), 11, 0);
    for i in 0..200 {
        let lead = format!("jan-{i}");
        let t = ny(weekday(jan, i, 19), 9, 30);
        h.form(&lead, t, "contact_form", if i % 2 == 0 { "organic" } else { "paid" })
            .await;
        h.assign(&lead, t + Duration::minutes(2), "bob").await;
        h.touch(&lead, t + Duration::minutes(20)).await;
        if i < 120 {
            h.stage(&lead, t + Duration::hours(1), "sal", None).await;
            if i < 36 {
                // Converted weeks later, in March: still counted in January's cohort.
                h.stage(&lead, march, "sql", None).await;
            } else if i < 66 {
                h.stage(&lead, t + Duration::days(20), "disqualified", None).await;
            }
        } else {
            let reason = if i < 180 {
                Some(["no budget", "wrong persona", "student"][i % 3])
            } else {
                None
            };
            h.stage(&lead, t + Duration::hours(1), "rejected", reason).await;
        }
    }
    let r = h.report("2027-01-01", "2027-01-31", None).await;
    let f = &r.overall.funnel;
    assert_eq!(f.mqls, 200);
    assert_eq!(pct(&f.sal_acceptance), 60.0);
    assert_eq!(f.sal_acceptance.band, Some(Band::Good));
    assert_eq!(pct(&f.sal_to_sql), 30.0);
    assert_eq!(pct(&f.mql_to_sql), 18.0);
    // "Overall MQL-to-SQL (so far) ... 54 still in progress; final conversion will be higher":
    // at the March snapshot the cohort has not had its 60-day sales cycle, so no band yet.
    let final_from = ny(NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(), 0, 0) + Duration::days(60);
    let so_far = Held::InProgress {
        still_open: 54,
        final_from,
    };
    assert_eq!((f.mql_to_sql.band, f.mql_to_sql.held), (None, Some(so_far)));
    assert_eq!((f.sal_to_sql.band, f.sal_to_sql.held), (None, Some(so_far)));
    let table = report_format::table(&r, New_York);
    assert!(
        table.contains("18.0% so far (36/200, in progress: 54 still open, final from 2027-04-02)"),
        "{table}"
    );
    assert!(report_format::csv(&r).contains("overall,mql_to_sql_pct,18.00,in_progress"));
    assert_eq!(f.in_progress, 54);
    assert_eq!(f.disqualified_after_acceptance, 30);
    assert_eq!(pct(&f.rejection), 40.0);
    assert_eq!(pct(&f.rejection_reason_completion), 75.0);
    assert_eq!(f.rejection_reasons["(no reason given)"], 20);
    assert_eq!(f.rejection_reasons.values().sum::<u64>(), 80);
    // Conversion by source: the 36 SQLs are the even and odd leads below 36, half each.
    assert_eq!(pct(&r.conversion_by_source["organic"]), 18.0);
    // A period that only sees March does not count January's MQLs as its own.
    let march_report = h.report("2027-03-01", "2027-03-31", None).await;
    assert_eq!(march_report.overall.funnel.mqls, 0);
    // Once the cycle has passed, the same figures are final and banded.
    h.app.clock.set(final_from);
    let r = h.report("2027-01-01", "2027-01-31", None).await;
    assert_eq!(r.overall.funnel.mql_to_sql.band, Some(Band::Warning));
    assert_eq!(r.overall.funnel.mql_to_sql.held, None);
}

#[tokio::test]
async fn rep_score_example_and_pending_assignments() {
    let h = harness("rep", Utc.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap());
    let feb = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    // 20 × 10 + 10 × 8 + 10 × 6 + 5 × 4 + 5 × 0 = 360 points over 50 leads: 7.2 average, 72%.
    let plan: Vec<Option<Duration>> = std::iter::repeat_n(Some(Duration::minutes(2)), 20)
        .chain(std::iter::repeat_n(Some(Duration::minutes(10)), 10))
        .chain(std::iter::repeat_n(Some(Duration::minutes(30)), 10))
        .chain(std::iter::repeat_n(Some(Duration::hours(2)), 5))
        .chain(std::iter::repeat_n(None, 5))
        .collect();
    for (i, response) in plan.iter().enumerate() {
        let lead = format!("rita-{i}");
        let t = ny(weekday(feb, i, 20), 10, 0);
        h.form(&lead, t, "contact_form", "organic").await;
        h.assign(&lead, t, "rita").await;
        if let Some(d) = response {
            h.touch(&lead, t + *d).await;
        }
    }
    // A lead assigned just now is pending, not a zero.
    let now = ny(NaiveDate::from_ymd_opt(2027, 2, 26).unwrap(), 15, 0);
    h.app.clock.set(now);
    h.form("rita-fresh", now, "content_mql", "organic").await;
    h.assign("rita-fresh", now, "rita").await;
    let r = h.report("2027-02-01", "2027-02-28", None).await;
    let rita = r.reps.iter().find(|x| x.owner == "rita").unwrap();
    assert_eq!((rita.leads, rita.points, rita.pending), (50, 360, 1));
    assert_eq!(rita.score, Some(72.0));
    assert_eq!(rita.distribution, [20, 10, 10, 5, 0, 0, 5]);
    // The fresh lead is on the open-SLA list: 4 business hours from Friday 15:00 is Monday 11:00.
    let open = r.open_slas.iter().find(|o| o.lead_id == "rita-fresh").unwrap();
    let monday = ny(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(), 11, 0);
    assert_eq!(open.deadline, Some(monday));
    assert_eq!(open.seconds_left, Some((monday - now).num_seconds()));
}

#[tokio::test]
async fn formula_table_examples_lead_velocity_and_leakage() {
    let h = harness("formula", Utc.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap());
    // Two equal 7-day periods: 200 MQLs, then 220.
    let wk1 = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    let wk2 = NaiveDate::from_ymd_opt(2027, 2, 8).unwrap();
    for i in 0..200 {
        h.form(&format!("a-{i}"), ny(weekday(wk1, i, 5), 11, 0), "content_mql", "email")
            .await;
    }
    for i in 0..220 {
        let lead = format!("b-{i}");
        let t = ny(weekday(wk2, i, 5), 11, 0);
        h.form(&lead, t, "content_mql", "email").await;
        // Leakage: 200 assigned, 170 touched.
        if i < 200 {
            h.assign(&lead, t + Duration::minutes(3), "bob").await;
            if i < 170 {
                h.touch(&lead, t + Duration::hours(1)).await;
            }
        }
    }
    let r = h.report("2027-02-08", "2027-02-14", None).await;
    assert_eq!(
        (r.overall.volume.mqls, r.overall.volume.previous_period_mqls),
        (220, 200)
    );
    assert_eq!(r.overall.volume.lead_velocity_rate, Some(10.0));
    let leak = &r.overall.lead_leakage;
    assert_eq!((leak.numerator, leak.denominator), (30, 200));
    assert_eq!(pct(leak), 15.0);
    assert_eq!(r.overall.systems_delay.still_unassigned, 20);
    // Response rate counts every MQL: 170 of 220.
    assert_eq!(
        (r.overall.response_rate.numerator, r.overall.response_rate.denominator),
        (170, 220)
    );
}

#[tokio::test]
async fn empty_periods_no_responses_spanning_and_recycled_leads() {
    // A handful of leads each: the bands' edges are under test, not the minimum sample.
    let policy = EXAMPLE.replace("min_sample = 20", "min_sample = 1");
    let h = open(
        &temp_dir("edges"),
        &policy,
        Utc.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap(),
    );
    // Empty period: every figure is n/a, nothing panics.
    let empty = h.report("2026-06-01", "2026-06-30", Some("owner")).await;
    assert_eq!(empty.overall.volume.mqls, 0);
    assert_eq!(empty.overall.sla.overall.rate.percent, None);
    assert_eq!(empty.overall.systems_delay.timing.calendar.average, None);
    assert!(empty.groups.is_empty());
    let text = report_format::table(&empty, New_York);
    assert!(text.contains("n/a"));

    // No responses: assigned, never touched.
    let d = NaiveDate::from_ymd_opt(2027, 2, 3).unwrap();
    for i in 0..4 {
        let lead = format!("silent-{i}");
        h.form(&lead, ny(d, 10, 0), "demo_request", "paid").await;
        h.assign(&lead, ny(d, 10, 1), "zed").await;
    }
    let r = h.report("2027-02-03", "2027-02-03", None).await;
    assert_eq!(r.overall.response_rate.percent, Some(0.0));
    assert_eq!(r.overall.sla.overall.rate.percent, Some(0.0));
    assert_eq!(r.overall.lead_leakage.percent, Some(100.0));
    // All 4 escalated to the manager step (the silence lasted weeks).
    assert_eq!(r.overall.sla.breach_escalation_rate.percent, Some(100.0));
    assert_eq!(r.reps.iter().find(|x| x.owner == "zed").unwrap().score, Some(0.0));

    // Spanning two periods: engaged Jan 29 (Friday) evening, assigned and touched Monday Feb 1.
    let fri = NaiveDate::from_ymd_opt(2027, 1, 29).unwrap();
    let mon = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    h.form("span", ny(fri, 18, 0), "contact_form", "organic").await;
    h.assign("span", ny(mon, 9, 0), "alice").await;
    h.touch("span", ny(mon, 9, 30)).await;
    let jan = h.report("2027-01-25", "2027-01-31", None).await;
    let feb = h.report("2027-02-01", "2027-02-07", None).await;
    assert_eq!(jan.overall.volume.mqls, 1, "counted where its MQL was created");
    assert_eq!(jan.overall.sla.overall.assigned, 0);
    assert_eq!(
        feb.overall.sla.overall.assigned - 4,
        1,
        "compliance counts where it entered sales ownership"
    );
    // Business versus calendar time: Friday 18:00 → Monday 09:00 is 63 hours, but no open time.
    let sys = jan.overall.systems_delay.timing.clone();
    assert_eq!(sys.calendar.average, Some(63.0 * 3600.0));
    assert_eq!(sys.business.average, Some(0.0));
    let total = jan.overall.speed_to_lead.clone();
    assert_eq!(
        (total.calendar.average, total.business.average),
        (Some(63.5 * 3600.0), Some(1800.0))
    );

    // Recycled: rejected, then re-engaged.
    let d2 = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    h.form("cyc", ny(d2, 10, 0), "content_mql", "event").await;
    h.assign("cyc", ny(d2, 10, 5), "alice").await;
    h.stage("cyc", ny(d2, 11, 0), "rejected", Some("timing")).await;
    h.form("cyc", ny(d2.succ_opt().unwrap(), 10, 0), "demo_request", "event")
        .await;
    h.form("fresh", ny(d2, 12, 0), "content_mql", "event").await;
    let r = h.report("2027-03-01", "2027-03-07", None).await;
    assert_eq!(
        (r.overall.volume.mqls, r.overall.volume.new, r.overall.volume.recycled),
        (3, 2, 1)
    );
    assert_eq!(pct(&r.overall.volume.recycled_share), 33.3);
    assert_eq!(r.overall.volume.recycled_share.band, Some(Band::Warning));
    assert!(r.flags.iter().any(|f| f.contains("recycled")));
}

#[tokio::test]
async fn rollup_stores_and_publishes_the_day() {
    let h = harness("rollup", Utc.with_ymd_and_hms(2027, 2, 4, 12, 0, 0).unwrap());
    let d = NaiveDate::from_ymd_opt(2027, 2, 3).unwrap();
    h.form("r-1", ny(d, 10, 0), "demo_request", "organic").await;
    h.assign("r-1", ny(d, 10, 1), "alice").await;
    h.touch("r-1", ny(d, 10, 3)).await;
    let report = h.app.rollup(d).await.unwrap();
    assert_eq!(report.overall.volume.mqls, 1);
    let stored = h.app.store.rollup("2027-02-03").await.unwrap().unwrap();
    let v: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(v["overall"]["sla"]["overall"]["met"], 1);
}
