//! "No false red": no band or flag on fewer leads than `[reports] min_sample`, and a
//! conversion of a cohort younger than `[reports] sales_cycle` is in progress, never banded.

use chrono::{DateTime, Duration, Utc};
use leadclock_domain::event::{Assignment, Form, Stage, Touch};
use leadclock_domain::metrics::{self, Held, Report};
use leadclock_domain::{Event, EventBody, EventId, Lead, LeadId, Policy, StageChange};
use serde_json::Value;

const EXAMPLE: &str = include_str!("../../../policies/example.toml");

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ev(lead: &str, id: &str, at: DateTime<Utc>, body: EventBody) -> Event {
    Event::new(EventId::parse(id).unwrap(), LeadId::parse(lead).unwrap(), at, body)
}

/// A demo request assigned a minute after the form and called five minutes later; SQL at
/// `sql` when given.
fn lead(i: usize, at: DateTime<Utc>, sql: Option<Duration>, policy: &Policy) -> Lead {
    let id = format!("L-{i}");
    let form = EventBody::Form(Box::new(Form {
        lead_type: "demo_request".into(),
        region: Some("na".into()),
        ..Default::default()
    }));
    let assign = EventBody::Assignment(Assignment {
        owner: "alice".into(),
        team: None,
        manager: None,
    });
    let call = EventBody::Touch(Touch {
        owner: None,
        channel: "call".into(),
        outcome: None,
    });
    let mut events = vec![
        ev(&id, "f", at, form),
        ev(&id, "a", at + Duration::minutes(1), assign),
        ev(&id, "t", at + Duration::minutes(6), call),
    ];
    if let Some(after) = sql {
        let sal = Stage {
            stage: StageChange::Sal,
            reason: None,
        };
        let sql = Stage {
            stage: StageChange::Sql,
            reason: None,
        };
        events.push(ev(&id, "s1", at + Duration::minutes(30), EventBody::Stage(sal)));
        events.push(ev(&id, "s2", at + after, EventBody::Stage(sql)));
    }
    Lead::fold(LeadId::parse(&id).unwrap(), &events, policy)
}

const DAY: &str = "2027-03-02T15:00:00Z";

fn day_report(leads: &[Lead], policy: &Policy, now: DateTime<Utc>) -> Report {
    let from = t("2027-03-02T05:00:00Z");
    metrics::report(leads, policy, from, from + Duration::days(1), None, now)
}

/// Every `band` in a report's JSON that is not null, with its path.
fn bands_drawn(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "band" && !x.is_null() {
                    out.push(format!("{path}.band = {x}"));
                }
                bands_drawn(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(xs) => xs
            .iter()
            .enumerate()
            .for_each(|(i, x)| bands_drawn(x, &format!("{path}[{i}]"), out)),
        _ => {}
    }
}

fn drawn(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    bands_drawn(&serde_json::to_value(r).unwrap(), "report", &mut out);
    out
}

#[test]
fn fewer_leads_than_the_minimum_draw_no_band_and_raise_no_flag_anywhere() {
    let policy = Policy::parse(EXAMPLE).unwrap();
    let at = t(DAY);
    // Five leads, all met in time: 100% compliance would read "the SLA may be too lenient".
    let leads: Vec<Lead> = (0..5)
        .map(|i| lead(i, at, Some(Duration::minutes(40)), &policy))
        .collect();
    let now = at + Duration::days(100);
    let r = day_report(&leads, &policy, now);
    assert_eq!(r.overall.sla.overall.met, 5);
    assert_eq!(drawn(&r), Vec::<String>::new());
    assert!(r.flags.is_empty(), "{:?}", r.flags);
    assert!(!r.overall.sla.too_lenient);
    assert_eq!(r.overall.response_rate.held, Some(Held::SmallSample { min_sample: 20 }));
    assert_eq!(r.overall.human_delay.held, Some(Held::SmallSample { min_sample: 20 }));

    // The same leads with a minimum of 1: bands and the leniency flag come back, so the
    // walk above could have found them.
    let one = Policy::parse(&EXAMPLE.replace("min_sample = 20", "min_sample = 1")).unwrap();
    let leads: Vec<Lead> = (0..5).map(|i| lead(i, at, Some(Duration::minutes(40)), &one)).collect();
    let r = day_report(&leads, &one, now);
    assert!(drawn(&r).len() > 10, "{:?}", drawn(&r));
    assert!(r.overall.sla.too_lenient);
    assert!(r.flags.iter().any(|f| f.contains("too lenient")), "{:?}", r.flags);
}

#[test]
fn a_cohort_younger_than_the_sales_cycle_is_in_progress_then_banded() {
    let policy = Policy::parse(EXAMPLE).unwrap();
    let at = t(DAY);
    // 30 MQLs; 3 reach SQL the same day, 27 are still open.
    let leads: Vec<Lead> = (0..30)
        .map(|i| lead(i, at, (i < 3).then(|| Duration::hours(2)), &policy))
        .collect();
    let to = t("2027-03-03T05:00:00Z");
    let young = day_report(&leads, &policy, at + Duration::days(1));
    let f = &young.overall.funnel;
    assert_eq!((f.mql_to_sql.numerator, f.mql_to_sql.denominator), (3, 30));
    let final_from = to + Duration::days(60);
    assert_eq!(f.mql_to_sql.band, None);
    assert_eq!(
        f.mql_to_sql.held,
        Some(Held::InProgress {
            still_open: 27,
            final_from
        })
    );
    // The same-day SQLs have no opportunity yet: 0%, in progress, not a red flag.
    assert_eq!(f.sql_to_opportunity.percent, Some(0.0));
    assert_eq!(f.sql_to_opportunity.band, None);
    assert!(matches!(
        f.sql_to_opportunity.held,
        Some(Held::InProgress { still_open: 3, .. })
    ));
    assert!(matches!(
        young.conversion_by_source["(none)"].held,
        Some(Held::InProgress { still_open: 27, .. })
    ));
    // Figures that are not conversions are banded as soon as there are enough leads.
    assert!(young.overall.response_rate.band.is_some());

    let grown = day_report(&leads, &policy, final_from);
    let f = &grown.overall.funnel;
    assert!(f.mql_to_sql.band.is_some());
    assert_eq!(f.mql_to_sql.held, None);
    // Three SQLs are too few to band, grown or not.
    assert_eq!(f.sql_to_opportunity.held, Some(Held::SmallSample { min_sample: 20 }));
}

#[test]
fn report_settings_are_checked() {
    for (from, to, path) in [
        ("min_sample = 20", "min_sample = 0", "reports.min_sample"),
        ("min_sample = 20", "min_sample = 100000", "reports.min_sample"),
        (
            "sales_cycle = \"60days\"",
            "sales_cycle = \"2h\"",
            "reports.sales_cycle",
        ),
    ] {
        let problems = Policy::parse(&EXAMPLE.replace(from, to)).unwrap_err();
        assert!(problems.iter().any(|p| p.path == path), "{to}: {problems:?}");
    }
    let off = Policy::parse(&EXAMPLE.replace("sales_cycle = \"60days\"", "sales_cycle = \"off\"")).unwrap();
    assert_eq!(off.reports.sales_cycle, Duration::zero());
}
