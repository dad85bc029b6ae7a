//! Benchmark bands: every edge of every definition classifies as the report always has (lead
//! leakage at exactly 10% aside: good, by decision), and the report's flags carry the defined
//! numbers.

use chrono::{DateTime, Duration, Utc};
use leadclock_domain::event::{Assignment, Form};
use leadclock_domain::metrics::bands::{self, Band, Benchmark, Direction, BENCHMARKS};
use leadclock_domain::metrics::{self, Dimension};
use leadclock_domain::{Event, EventBody, EventId, Lead, LeadId, Policy};
use std::collections::BTreeSet;

use Band::{Good, Red, RedFlag, Warning, Watch, Yellow};

fn check(b: &Benchmark, cases: &[(f64, Band)]) {
    for &(x, want) in cases {
        assert_eq!(b.band(x), want, "{} at {x}", b.id);
    }
}

#[test]
fn edges_of_the_percent_bands() {
    check(
        &bands::RECYCLED_SHARE,
        &[(0.0, Good), (30.0, Good), (30.01, Warning), (100.0, Warning)],
    );
    check(
        &bands::RESPONSE_RATE,
        &[(90.0, Good), (89.9, Warning), (50.0, Warning), (49.9, RedFlag)],
    );
    check(
        &bands::FIVE_MINUTE_RESPONSE_RATE,
        &[(40.0, Good), (39.9, Warning), (5.0, Warning), (4.9, RedFlag)],
    );
    check(
        &bands::LEAD_LEAKAGE,
        &[(10.0, Good), (10.1, Warning), (50.0, Warning), (50.1, RedFlag)],
    );
    check(
        &bands::SLA_COMPLIANCE,
        &[(85.0, Good), (84.9, Warning), (70.0, Warning), (69.9, RedFlag)],
    );
    check(
        &bands::BREACH_ESCALATION_RATE,
        &[(9.9, Good), (10.0, Warning), (25.0, Warning), (25.1, RedFlag)],
    );
    check(
        &bands::SAL_ACCEPTANCE,
        &[(60.0, Good), (59.9, Warning), (40.0, Warning), (39.9, RedFlag)],
    );
    check(
        &bands::REJECTION,
        &[(19.9, Good), (20.0, Warning), (50.0, Warning), (50.1, RedFlag)],
    );
    check(
        &bands::REJECTION_REASON_COMPLETION,
        &[(80.0, Good), (79.9, Warning), (50.0, Warning), (49.9, RedFlag)],
    );
    check(
        &bands::SAL_TO_SQL,
        &[(75.0, Good), (74.9, Warning), (40.0, Warning), (39.9, RedFlag)],
    );
    check(
        &bands::SQL_TO_OPPORTUNITY,
        &[(65.0, Good), (64.9, Warning), (30.0, Warning), (29.9, RedFlag)],
    );
    check(
        &bands::MQL_TO_SQL,
        &[(20.0, Good), (19.9, Warning), (10.0, Warning), (9.9, RedFlag)],
    );
    assert!(!bands::SLA_TOO_LENIENT.contains(95.0));
    assert!(bands::SLA_TOO_LENIENT.contains(95.1));
}

#[test]
fn edges_of_the_duration_bands() {
    check(
        &bands::SYSTEMS_DELAY,
        &[
            (299.9, Good),
            (300.0, Watch),
            (599.9, Watch),
            (600.0, Yellow),
            (899.9, Yellow),
            (900.0, Red),
        ],
    );
    check(
        &bands::RESPONSE_TIME,
        &[
            (0.0, Good),
            (3600.0, Good),
            (3600.1, Warning),
            (86399.9, Warning),
            (86400.0, RedFlag),
        ],
    );
}

#[test]
fn each_metric_is_defined_once_and_red_lies_beyond_good() {
    let ids: BTreeSet<&str> = BENCHMARKS.iter().map(|b| b.id).collect();
    assert_eq!(ids.len(), BENCHMARKS.len());
    for b in BENCHMARKS {
        let Some(red) = b.red else { continue };
        let beyond = match b.direction {
            Direction::HigherIsBetter => red.value <= b.good.value,
            Direction::LowerIsBetter => red.value >= b.good.value,
        };
        assert!(beyond, "{}: red {} against good {}", b.id, red.value, b.good.value);
        assert_ne!(
            b.band(red.value),
            Good,
            "{}: the red threshold itself is not good",
            b.id
        );
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ev(lead: &str, id: &str, at: DateTime<Utc>, body: EventBody) -> Event {
    Event::new(EventId::parse(id).unwrap(), LeadId::parse(lead).unwrap(), at, body)
}

/// A demo request assigned `systems_minutes` after the form, never touched.
fn untouched_lead(lead: &str, at: DateTime<Utc>, systems_minutes: i64, policy: &Policy) -> Lead {
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
    let events = [
        ev(lead, &format!("{lead}-f"), at, form),
        ev(
            lead,
            &format!("{lead}-a"),
            at + Duration::minutes(systems_minutes),
            assign,
        ),
    ];
    Lead::fold(LeadId::parse(lead).unwrap(), &events, policy)
}

#[test]
fn flags_quote_the_defined_thresholds() {
    // One lead, so no minimum sample: the thresholds themselves are under test here.
    let src = include_str!("../../../policies/example.toml").replace("min_sample = 20", "min_sample = 1");
    let policy = Policy::parse(&src).unwrap();
    let at = t("2027-03-02T15:00:00Z");
    let leads = [untouched_lead("L-1", at, 12, &policy)];
    let (from, to, now) = (
        t("2027-03-02T00:00:00Z"),
        t("2027-03-03T00:00:00Z"),
        t("2027-03-10T00:00:00Z"),
    );
    let r = metrics::report(&leads, &policy, from, to, Some(Dimension::Owner), now);
    assert_eq!(r.overall.systems_delay.timing.band, Some(Yellow));
    assert_eq!(r.by, Some(Dimension::Owner));
    assert!(r.groups.contains_key("alice"), "{:?}", r.groups.keys());
    let joined = r.flags.join("\n");
    assert!(joined.contains("average systems delay is 10 min or more"), "{joined}");
    assert!(joined.contains("SLA compliance 0.0% is under 70%"), "{joined}");
    assert!(joined.contains("SAL acceptance 0.0% is under 40%"), "{joined}");
}
