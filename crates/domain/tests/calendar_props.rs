//! Property tests for business-hours calendars, checked against a minute-by-minute reference.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use leadclock_domain::policy::parse_calendars;
use leadclock_domain::Calendar;
use proptest::prelude::*;

const CALENDARS: &str = r#"
[calendars.us_east]
timezone = "America/New_York"
hours = { mon = ["09:00-17:00"], tue = ["09:00-12:00", "13:00-17:00"], wed = ["09:00-17:00"], thu = ["09:00-17:00"], fri = ["09:00-17:00"] }
holidays = ["2026-12-25", "2027-01-01"]

[calendars.night_shift]
timezone = "America/New_York"
hours = { sat = ["00:00-04:00", "22:00-24:00"], sun = ["00:00-03:30"], mon = ["01:30-02:30"] }

[calendars.emea]
timezone = "Europe/London"
hours = { mon = ["08:00-18:00"], tue = ["08:00-18:00"], wed = ["08:00-18:00"], thu = ["08:00-18:00"], fri = ["08:00-18:00"] }
holidays = ["2026-12-25"]
"#;

fn cal(name: &str) -> Calendar {
    parse_calendars(CALENDARS).unwrap().remove(name).unwrap()
}

/// Reference: is the wall clock at `t` inside an open interval of its local day?
fn is_open(c: &Calendar, src_hours: &[(u32, &[(u32, u32)])], holidays: &[(i32, u32, u32)], t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&c.tz);
    let d = local.date_naive();
    if holidays
        .iter()
        .any(|&(y, m, dd)| d.year() == y && d.month() == m && d.day() == dd)
    {
        return false;
    }
    let minute = local.hour() * 60 + local.minute();
    let wd = d.weekday().num_days_from_monday();
    src_hours
        .iter()
        .filter(|(day, _)| *day == wd)
        .any(|(_, ivs)| ivs.iter().any(|&(a, b)| a <= minute && minute < b))
}

const US_EAST_HOURS: &[(u32, &[(u32, u32)])] = &[
    (0, &[(540, 1020)]),
    (1, &[(540, 720), (780, 1020)]),
    (2, &[(540, 1020)]),
    (3, &[(540, 1020)]),
    (4, &[(540, 1020)]),
];
const US_EAST_HOLIDAYS: &[(i32, u32, u32)] = &[(2026, 12, 25), (2027, 1, 1)];
const NIGHT_HOURS: &[(u32, &[(u32, u32)])] = &[(5, &[(0, 240), (1320, 1440)]), (6, &[(0, 210)]), (0, &[(90, 150)])];

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2026-01-01 .. 2028-01-01, second precision: covers four DST changes per zone.
    (1_767_225_600i64..1_830_297_600).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn minute_instant() -> impl Strategy<Value = DateTime<Utc>> {
    instant().prop_map(|t| t - Duration::seconds(i64::from(t.second())))
}

fn span() -> impl Strategy<Value = Duration> {
    (0i64..400 * 3600).prop_map(Duration::seconds)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn due_composes(t in instant(), a in span(), b in (1i64..100 * 3600).prop_map(Duration::seconds), name in prop::sample::select(vec!["us_east", "night_shift", "emea"])) {
        let c = cal(name);
        prop_assert_eq!(c.due(c.due(t, a).unwrap(), b).unwrap(), c.due(t, a + b).unwrap());
    }

    #[test]
    fn elapsed_inverts_due(t in instant(), d in span(), name in prop::sample::select(vec!["us_east", "night_shift", "emea"])) {
        let c = cal(name);
        prop_assert_eq!(c.elapsed(t, c.due(t, d).unwrap()), d);
    }

    #[test]
    fn due_is_monotonic(t in instant(), dt in 0i64..7 * 86_400, d1 in span(), dd in 0i64..50 * 3600, name in prop::sample::select(vec!["us_east", "night_shift", "emea"])) {
        let c = cal(name);
        let t2 = t + Duration::seconds(dt);
        let d2 = d1 + Duration::seconds(dd);
        prop_assert!(c.due(t, d1).unwrap() <= c.due(t2, d1).unwrap());
        prop_assert!(c.due(t, d1).unwrap() <= c.due(t, d2).unwrap());
    }

    #[test]
    fn elapsed_is_additive(t in instant(), x in 0i64..10 * 86_400, y in 0i64..10 * 86_400) {
        let c = cal("us_east");
        let m = t + Duration::seconds(x);
        let e = m + Duration::seconds(y);
        prop_assert_eq!(c.elapsed(t, m) + c.elapsed(m, e), c.elapsed(t, e));
    }

    #[test]
    fn matches_minute_reference(t in minute_instant(), minutes in 0i64..(3 * 24 * 60), which in 0usize..2) {
        let (c, hours, hol) = if which == 0 { (cal("us_east"), US_EAST_HOURS, US_EAST_HOLIDAYS) } else { (cal("night_shift"), NIGHT_HOURS, &[][..]) };
        // Walk minute by minute: the reference deadline is the end of the N-th open minute.
        let mut cursor = t;
        let mut left = minutes;
        let mut steps = 0;
        let expected = loop {
            if is_open(&c, hours, hol, cursor) {
                if left == 0 { break cursor; }
                left -= 1;
                if left == 0 { break cursor + Duration::minutes(1); }
            }
            cursor += Duration::minutes(1);
            steps += 1;
            prop_assume!(steps < 60 * 24 * 40);
        };
        let got = c.due(t, Duration::minutes(minutes)).unwrap();
        // A deadline that lands on a close may equal the reference's next opening when the
        // reference counted exactly to the boundary; both must hold the same open time.
        prop_assert_eq!(c.elapsed(t, got), Duration::minutes(minutes));
        prop_assert!(got <= expected, "got {got} expected {expected}");
        prop_assert_eq!(c.elapsed(got, expected), Duration::zero());
        // And the elapsed time agrees with counting open minutes.
        let end = t + Duration::minutes(minutes);
        let mut open = 0;
        let mut m = t;
        while m < end { if is_open(&c, hours, hol, m) { open += 1; } m += Duration::minutes(1); }
        prop_assert_eq!(c.elapsed(t, end), Duration::minutes(open));
    }
}
