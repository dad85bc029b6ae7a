//! The baseline against an independent computation: a month of deterministic but irregular
//! history goes through the real handlers into SQLite; the expected figures are worked out
//! here from the raw times alone, with business time counted minute by minute on the example
//! policy's us_east calendar (Mon–Fri 09:00–17:00 New York, no holiday in February 2027).

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::America::New_York;
use leadclock_app::baseline_format;
use leadclock_domain::metrics::{Candidate, Percentiles, Suggestion};
use support::{harness, ny, weekday, Lcg};

/// Business seconds in `[a, b)`, one minute at a time (every time here is on a whole minute).
fn business(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    let mut t = a;
    let mut minutes = 0;
    while t < b {
        let l = t.with_timezone(&New_York);
        let open_day = !matches!(l.weekday(), Weekday::Sat | Weekday::Sun);
        if open_day && (9..17).contains(&l.hour()) {
            minutes += 1;
        }
        t += Duration::minutes(1);
    }
    minutes * 60
}

fn nearest_rank(mut xs: Vec<i64>) -> [Option<i64>; 3] {
    xs.sort_unstable();
    let n = xs.len();
    [50, 80, 95].map(|q| {
        // The smallest value with at least q% of the sample at or below it.
        (1..=n).find(|k| k * 100 >= q * n).map(|k| xs[k - 1])
    })
}

fn triple(p: &Percentiles) -> [Option<i64>; 3] {
    [p.p50, p.p80, p.p95]
}

struct Lead {
    id: String,
    form: DateTime<Utc>,
    assigned: DateTime<Utc>,
    touch: Option<DateTime<Utc>>,
}

fn next_weekday(d: NaiveDate) -> NaiveDate {
    let mut n = d.succ_opt().unwrap();
    while matches!(n.weekday(), Weekday::Sat | Weekday::Sun) {
        n = n.succ_opt().unwrap();
    }
    n
}

fn history(prefix: &str, count: usize, rng: &mut Lcg) -> Vec<Lead> {
    let feb = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    (0..count)
        .map(|i| {
            let day = weekday(feb, i, 19);
            let form = ny(day, 9, 0) + rng.minutes(300);
            let assigned = form + rng.minutes(21);
            let touch = match rng.below(20) {
                0..=7 => Some(assigned + Duration::minutes(1) + rng.minutes(4)),
                8..=11 => Some(assigned + Duration::minutes(6) + rng.minutes(9)),
                12..=15 => Some(assigned + Duration::minutes(16) + rng.minutes(150)),
                16..=18 => Some(ny(next_weekday(day), 9, 1) + rng.minutes(180)),
                _ => None,
            };
            Lead {
                id: format!("{prefix}-{i}"),
                form,
                assigned,
                touch,
            }
        })
        .collect()
}

/// Met / decided for a response target, from the raw times.
fn would_meet(leads: &[Lead], target: Candidate) -> (u64, u64) {
    let met = leads
        .iter()
        .filter(|l| match (target, l.touch) {
            (_, None) => false,
            (Candidate::Minutes { minutes }, Some(t)) => business(l.assigned, t) <= minutes * 60,
            (Candidate::EndOfBusinessDay, Some(t)) => {
                t.with_timezone(&New_York).date_naive() == l.assigned.with_timezone(&New_York).date_naive()
            }
        })
        .count();
    (met as u64, leads.len() as u64)
}

#[tokio::test]
async fn baseline_matches_an_independent_computation() {
    let h = harness("baseline", Utc.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap());
    let mut rng = Lcg(7);
    let demos = history("demo", 90, &mut rng);
    let content = history("content", 12, &mut rng);
    for (lead_type, leads) in [("demo_request", &demos), ("content_mql", &content)] {
        for l in leads {
            h.form(&l.id, l.form, lead_type, "organic").await;
            h.assign(&l.id, l.assigned, "alice").await;
            if let Some(t) = l.touch {
                h.touch(&l.id, t).await;
            }
        }
    }
    let b = h.baseline("2027-02-01", "2027-02-28").await;
    let types: Vec<&str> = b.lead_types.iter().map(|t| t.lead_type.as_str()).collect();
    assert_eq!(types, ["content_mql", "demo_request"]);
    let demo = &b.lead_types[1];
    assert_eq!(demo.leads, 90);

    let touched: Vec<&Lead> = demos.iter().filter(|l| l.touch.is_some()).collect();
    let speed_cal = touched
        .iter()
        .map(|l| (l.touch.unwrap() - l.form).num_seconds())
        .collect();
    let speed_bus = touched.iter().map(|l| business(l.form, l.touch.unwrap())).collect();
    assert_eq!(triple(&demo.speed_to_lead.calendar), nearest_rank(speed_cal));
    assert_eq!(triple(&demo.speed_to_lead.business), nearest_rank(speed_bus));
    let human_bus = touched.iter().map(|l| business(l.assigned, l.touch.unwrap())).collect();
    assert_eq!(triple(&demo.human_delay.business), nearest_rank(human_bus));
    let systems = demos.iter().map(|l| (l.assigned - l.form).num_seconds()).collect();
    assert_eq!(triple(&demo.systems_delay.calendar), nearest_rank(systems));

    assert_eq!(demo.response_rate.numerator, touched.len() as u64);
    let within_5m = touched
        .iter()
        .filter(|l| (l.touch.unwrap() - l.form).num_seconds() <= 300)
        .count();
    assert_eq!(demo.five_minute_response_rate.numerator, within_5m as u64);

    // Every candidate, and the current 5-minute SLA, against the raw times.
    for c in &demo.candidates {
        let (met, decided) = would_meet(&demos, c.target);
        assert_eq!(
            (c.compliance.numerator, c.compliance.denominator),
            (met, decided),
            "{}",
            c.label
        );
    }
    let (met_5m, _) = would_meet(&demos, Candidate::Minutes { minutes: 5 });
    assert_eq!((demo.compliance.met, demo.compliance.missed), (met_5m, 90 - met_5m));

    // The suggestion: the first candidate, tightest first, that 85% of the leads met.
    let expected = Candidate::ALL.into_iter().find(|&c| {
        let (met, decided) = would_meet(&demos, c);
        met * 100 >= 85 * decided
    });
    assert!(expected.is_some(), "this history keeps some SLA");
    match (&demo.suggestion, expected) {
        (Suggestion::Target { target, .. }, Some(c)) => assert_eq!(*target, c),
        (Suggestion::NoneMet { .. }, None) => {}
        (got, want) => panic!("suggested {got:?}, expected {want:?}"),
    }

    // Twelve content MQLs are too few to suggest anything.
    assert_eq!(
        b.lead_types[0].suggestion,
        Suggestion::TooFewLeads { leads: 12, needed: 20 }
    );

    let table = baseline_format::table(&b, New_York);
    assert!(
        table.contains("demo_request · 90 leads · current SLA 5m (business)"),
        "{table}"
    );
    assert!(table.contains("too few leads to suggest one (12"), "{table}");
    let csv = baseline_format::csv(&b);
    assert!(csv.starts_with("lead_type,metric,value,band\n"), "{csv}");
}

#[tokio::test]
async fn leads_outside_the_window_are_left_out() {
    let h = harness("baseline-window", Utc.with_ymd_and_hms(2027, 3, 15, 12, 0, 0).unwrap());
    let jan = ny(NaiveDate::from_ymd_opt(2027, 1, 28).unwrap(), 10, 0);
    h.form("old", jan, "demo_request", "organic").await;
    h.assign("old", jan + Duration::minutes(1), "alice").await;
    let feb = ny(NaiveDate::from_ymd_opt(2027, 2, 3).unwrap(), 10, 0);
    h.form("new", feb, "demo_request", "organic").await;
    let b = h.baseline("2027-02-01", "2027-02-28").await;
    assert_eq!(b.lead_types.len(), 1);
    let t = &b.lead_types[0];
    assert_eq!(t.leads, 1);
    // Never assigned: no response clock, so no candidate can be judged.
    assert_eq!(t.candidates[0].compliance.denominator, 0);
    assert_eq!(t.response_rate.numerator, 0);
}
