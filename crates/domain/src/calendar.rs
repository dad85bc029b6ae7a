//! Business-hours calendars: weekly wall-clock hours in an IANA zone, minus holidays.
//!
//! Intervals are defined on local wall time and mapped to real instants day by day, so a
//! DST change shortens or lengthens the open day the way a person's watch would.
//! Every computation walks whole days, so its cost grows with the days spanned.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// `[midnight, next midnight)` of a local date: a reporting day.
pub fn day_span(tz: Tz, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        local_midnight(tz, day),
        local_midnight(tz, day.succ_opt().unwrap_or(day)),
    )
}

/// Local midnight of `d` in `tz` (the first instant of that date, across DST gaps).
pub fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    let mut naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..24 * 4 {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => naive += Duration::minutes(15),
        }
    }
    Utc.from_utc_datetime(&naive)
}

/// Longest run of closed days a deadline computation walks before giving up.
const MAX_CLOSED_DAYS: u32 = 3 * 366;

/// Minutes since local midnight, `[start, end)`, with `end` up to 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallInterval {
    pub start_min: u16,
    pub end_min: u16,
}

impl WallInterval {
    /// Parses `"09:00-17:00"`; `"24:00"` is a valid end.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("interval {s:?} must look like \"09:00-17:00\""))?;
        let start_min = parse_hhmm(a.trim(), false)?;
        let end_min = parse_hhmm(b.trim(), true)?;
        if end_min <= start_min {
            return Err(format!("interval {s:?} must end after it starts"));
        }
        Ok(Self { start_min, end_min })
    }
}

fn parse_hhmm(s: &str, allow_24: bool) -> Result<u16, String> {
    let bad = || format!("time {s:?} must be HH:MM (00:00 to 23:59, or 24:00 as an end)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && (m != 0 || !allow_24)) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// A validated business-hours calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub name: String,
    pub tz: Tz,
    /// Index 0 = Monday. Sorted, non-overlapping.
    week: [Vec<WallInterval>; 7],
    holidays: BTreeSet<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar {0:?} is closed for more than {MAX_CLOSED_DAYS} days in a row")]
    NeverOpen(String),
}

impl Calendar {
    /// Builds a calendar; intervals of one day must not overlap and the week must have open time.
    pub fn new(
        name: impl Into<String>,
        tz: Tz,
        mut week: [Vec<WallInterval>; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, String> {
        for (i, day) in week.iter_mut().enumerate() {
            day.sort_by_key(|iv| iv.start_min);
            for pair in day.windows(2) {
                if pair[1].start_min < pair[0].end_min {
                    return Err(format!(
                        "{} intervals overlap",
                        Weekday::try_from(i as u8).map(|w| w.to_string()).unwrap_or_default()
                    ));
                }
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err("calendar has no open hours on any day".into());
        }
        Ok(Self {
            name: name.into(),
            tz,
            week,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// A calendar open around the clock (used for calendar-time clocks).
    pub fn always_open() -> Self {
        let all = || {
            vec![WallInterval {
                start_min: 0,
                end_min: 24 * 60,
            }]
        };
        Self {
            name: "24x7".into(),
            tz: Tz::UTC,
            week: [all(), all(), all(), all(), all(), all(), all()],
            holidays: BTreeSet::new(),
        }
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    /// The open intervals overlapping `[from, to)`, clipped to it: what a timeline shades as
    /// business hours. At most `3 * 366` local days are walked.
    pub fn open_spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let first = from
            .with_timezone(&self.tz)
            .date_naive()
            .pred_opt()
            .unwrap_or(NaiveDate::MIN);
        let last = to.with_timezone(&self.tz).date_naive();
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .take(MAX_CLOSED_DAYS as usize)
            .flat_map(|d| self.open_on(d))
            .filter(|(a, b)| *a < to && *b > from)
            .map(|(a, b)| (a.max(from), b.min(to)))
            .collect()
    }

    /// Open intervals of one local date as real instants, in order.
    fn open_on(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.is_holiday(date) {
            return Vec::new();
        }
        let day = &self.week[date.weekday().num_days_from_monday() as usize];
        let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(day.len());
        for iv in day {
            let a = self.instant(date, iv.start_min, Edge::Start);
            let b = self.instant(date, iv.end_min, Edge::End);
            if b <= a {
                continue; // swallowed by a DST gap
            }
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        out
    }

    /// Maps a wall time to an instant: earliest reading for a start, latest for an end,
    /// and the first instant after a DST gap for a wall time that does not exist.
    fn instant(&self, date: NaiveDate, minute: u16, edge: Edge) -> DateTime<Utc> {
        let mut naive = if minute >= 24 * 60 {
            NaiveDateTime::new(date.succ_opt().unwrap_or(date), NaiveTime::MIN)
        } else {
            NaiveDateTime::new(date, NaiveTime::MIN) + Duration::minutes(i64::from(minute))
        };
        for _ in 0..=24 * 60 {
            match self.tz.from_local_datetime(&naive) {
                LocalResult::Single(t) => return t.with_timezone(&Utc),
                LocalResult::Ambiguous(early, late) => {
                    let t = if edge == Edge::Start { early } else { late };
                    return t.with_timezone(&Utc);
                }
                LocalResult::None => naive += Duration::minutes(1),
            }
        }
        // Unreachable for real zones (gaps are at most hours long); fall back to UTC reading.
        Utc.from_utc_datetime(&naive)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// Walks open intervals that end after `from`, day by day, calling `f` until it returns a value.
    /// Gives up after a long run of closed days, so a calendar of holidays cannot hang a caller.
    fn walk<T>(
        &self,
        from: DateTime<Utc>,
        mut f: impl FnMut(NaiveDate, DateTime<Utc>, DateTime<Utc>) -> Option<T>,
    ) -> Result<T, CalendarError> {
        // Start a day early: DST mapping can move a day's interval across midnight.
        let mut date = self.local_date(from).pred_opt().unwrap_or(NaiveDate::MIN);
        let mut closed_streak = 0;
        while closed_streak < MAX_CLOSED_DAYS {
            let open = self.open_on(date);
            closed_streak = if open.is_empty() { closed_streak + 1 } else { 0 };
            for (a, b) in open {
                if b > from {
                    if let Some(v) = f(date, a.max(from), b) {
                        return Ok(v);
                    }
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Err(CalendarError::NeverOpen(self.name.clone()))
    }

    /// The instant when `within` of open time has elapsed since `start`.
    ///
    /// A start in closed time counts from the next opening; a zero duration gives the first
    /// open instant at or after `start`; a deadline landing on a closing time is that closing time.
    pub fn due(&self, start: DateTime<Utc>, within: Duration) -> Result<DateTime<Utc>, CalendarError> {
        let mut left = within.max(Duration::zero());
        self.walk(start, |_, a, b| {
            if left <= b - a {
                Some(a + left)
            } else {
                left -= b - a;
                None
            }
        })
    }

    /// Open time between two instants (zero when `end <= start`).
    pub fn elapsed(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
        if end <= start {
            return Duration::zero();
        }
        let last = self.local_date(end).succ_opt().unwrap_or(NaiveDate::MAX);
        let mut date = self.local_date(start).pred_opt().unwrap_or(NaiveDate::MIN);
        let mut total = Duration::zero();
        while date <= last {
            for (a, b) in self.open_on(date) {
                let (a, b) = (a.max(start), b.min(end));
                if b > a {
                    total += b - a;
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        total
    }

    /// The closing time of the business day on which `t` (or the next opening after it) falls.
    pub fn end_of_business_day(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        let (date, _) = self.walk(t, |date, a, _| Some((date, a)))?;
        Ok(self.open_on(date).last().map_or(t, |iv| iv.1))
    }

    /// The first open instant at or after `t`.
    pub fn next_open(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        self.due(t, Duration::zero())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Start,
    End,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn weekdays(tz: Tz, hours: &[&str], holidays: &[&str]) -> Calendar {
        let ivs: Vec<WallInterval> = hours.iter().map(|h| WallInterval::parse(h).unwrap()).collect();
        let week = [ivs.clone(), ivs.clone(), ivs.clone(), ivs.clone(), ivs, vec![], vec![]];
        let hol = holidays.iter().map(|d| d.parse().unwrap());
        Calendar::new("test", tz, week, hol).unwrap()
    }

    fn us_east() -> Calendar {
        weekdays(
            chrono_tz::America::New_York,
            &["09:00-17:00"],
            &["2026-12-25", "2027-01-01"],
        )
    }

    #[test]
    fn open_spans_are_clipped_and_sum_to_elapsed() {
        let c = weekdays(
            chrono_tz::America::New_York,
            &["09:00-12:00", "13:00-17:00"],
            &["2026-11-26"],
        );
        // Wednesday 16:00 EST to Friday 10:00 EST, Thanksgiving (Thursday) closed.
        let (from, to) = (t("2026-11-25T21:00:00Z"), t("2026-11-27T15:00:00Z"));
        let spans = c.open_spans(from, to);
        assert_eq!(
            spans,
            vec![
                (t("2026-11-25T21:00:00Z"), t("2026-11-25T22:00:00Z")),
                (t("2026-11-27T14:00:00Z"), t("2026-11-27T15:00:00Z")),
            ]
        );
        let total: Duration = spans.iter().map(|(a, b)| *b - *a).sum();
        assert_eq!(total, c.elapsed(from, to));
    }

    #[test]
    fn parses_intervals_and_rejects_bad_ones() {
        assert_eq!(WallInterval::parse("09:00-24:00").unwrap().end_min, 1440);
        for bad in [
            "9-17",
            "09:00",
            "17:00-09:00",
            "09:00-09:00",
            "24:00-24:00",
            "09:60-10:00",
            "08:00-24:01",
        ] {
            assert!(WallInterval::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn due_inside_open_time() {
        let c = us_east();
        // Monday 2026-11-23 10:00 EST = 15:00Z
        assert_eq!(
            c.due(t("2026-11-23T15:00:00Z"), Duration::minutes(5)).unwrap(),
            t("2026-11-23T15:05:00Z")
        );
    }

    #[test]
    fn start_in_closed_time_counts_from_next_opening() {
        let c = us_east();
        // Friday 2026-11-27 18:00 EST -> Monday 09:00 EST + 1h
        assert_eq!(
            c.due(t("2026-11-27T23:00:00Z"), Duration::hours(1)).unwrap(),
            t("2026-11-30T15:00:00Z")
        );
    }

    #[test]
    fn deadline_landing_on_close_is_the_close_and_zero_is_next_open() {
        let c = us_east();
        assert_eq!(
            c.due(t("2026-11-23T21:00:00Z"), Duration::hours(1)).unwrap(),
            t("2026-11-23T22:00:00Z")
        );
        assert_eq!(
            c.due(t("2026-11-23T22:00:00Z"), Duration::zero()).unwrap(),
            t("2026-11-24T14:00:00Z")
        );
        assert_eq!(
            c.due(t("2026-11-23T15:30:00Z"), Duration::zero()).unwrap(),
            t("2026-11-23T15:30:00Z")
        );
    }

    #[test]
    fn holidays_are_closed() {
        let c = us_east();
        // Thu 2026-12-24 16:30 EST, 1h: 30m on the 24th, the 25th is a holiday, 30m on Mon 28th? No: 26-27 weekend.
        assert_eq!(
            c.due(t("2026-12-24T21:30:00Z"), Duration::hours(1)).unwrap(),
            t("2026-12-28T14:30:00Z")
        );
        assert_eq!(
            c.elapsed(t("2026-12-24T21:30:00Z"), t("2026-12-28T14:30:00Z")),
            Duration::hours(1)
        );
    }

    #[test]
    fn split_days_skip_lunch() {
        let c = weekdays(chrono_tz::America::New_York, &["09:00-12:00", "13:00-17:00"], &[]);
        // Mon 11:30 EST + 1h = 13:30 EST
        assert_eq!(
            c.due(t("2026-11-23T16:30:00Z"), Duration::hours(1)).unwrap(),
            t("2026-11-23T18:30:00Z")
        );
        // Lands exactly at 12:00 close -> 12:00
        assert_eq!(
            c.due(t("2026-11-23T16:30:00Z"), Duration::minutes(30)).unwrap(),
            t("2026-11-23T17:00:00Z")
        );
    }

    #[test]
    fn spring_forward_day_is_shorter_in_real_time() {
        // 2027-03-14: New York jumps 02:00 -> 03:00. An always-open local day is 23 real hours.
        let all = || vec![WallInterval::parse("00:00-24:00").unwrap()];
        let c = Calendar::new(
            "ny24",
            chrono_tz::America::New_York,
            [all(), all(), all(), all(), all(), all(), all()],
            [],
        )
        .unwrap();
        let day_start = t("2027-03-14T05:00:00Z"); // 00:00 EST
        let next_day = t("2027-03-15T04:00:00Z"); // 00:00 EDT
        assert_eq!(c.elapsed(day_start, next_day), Duration::hours(23));
        // A 02:30 opening does not exist that day: it opens at 03:00 EDT (07:00Z).
        let w = Calendar::new(
            "night",
            chrono_tz::America::New_York,
            [
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![WallInterval::parse("02:30-04:00").unwrap()],
            ],
            [],
        )
        .unwrap();
        assert_eq!(
            w.next_open(t("2027-03-14T05:00:00Z")).unwrap(),
            t("2027-03-14T07:00:00Z")
        );
        assert_eq!(
            w.elapsed(t("2027-03-14T05:00:00Z"), t("2027-03-14T12:00:00Z")),
            Duration::hours(1)
        );
    }

    #[test]
    fn fall_back_day_is_longer_in_real_time() {
        // 2026-11-01: New York repeats 01:00-02:00. A 00:00-04:00 window lasts 5 real hours.
        let c = Calendar::new(
            "night",
            chrono_tz::America::New_York,
            [
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![WallInterval::parse("00:00-04:00").unwrap()],
            ],
            [],
        )
        .unwrap();
        let open = t("2026-11-01T04:00:00Z"); // 00:00 EDT
        assert_eq!(c.due(open, Duration::hours(5)).unwrap(), t("2026-11-01T09:00:00Z")); // 04:00 EST
        assert_eq!(c.elapsed(open, t("2026-11-02T00:00:00Z")), Duration::hours(5));
        // 01:00-02:00 wall window spans both readings of 01:xx: two real hours.
        let d = Calendar::new(
            "dup",
            chrono_tz::America::New_York,
            [
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![WallInterval::parse("01:00-02:00").unwrap()],
            ],
            [],
        )
        .unwrap();
        assert_eq!(
            d.elapsed(t("2026-11-01T00:00:00Z"), t("2026-11-02T00:00:00Z")),
            Duration::hours(2)
        );
    }

    #[test]
    fn business_week_across_dst_in_europe() {
        // London switches on 2027-03-28 (Sunday). Fri 16:00 GMT + 2h business = Mon 10:00 BST = 09:00Z.
        let c = weekdays(chrono_tz::Europe::London, &["09:00-17:00"], &[]);
        assert_eq!(
            c.due(t("2027-03-26T16:00:00Z"), Duration::hours(2)).unwrap(),
            t("2027-03-29T09:00:00Z")
        );
    }

    #[test]
    fn end_of_business_day() {
        let c = us_east();
        assert_eq!(
            c.end_of_business_day(t("2026-11-23T15:00:00Z")).unwrap(),
            t("2026-11-23T22:00:00Z")
        );
        // After close: the next business day's close.
        assert_eq!(
            c.end_of_business_day(t("2026-11-23T23:00:00Z")).unwrap(),
            t("2026-11-24T22:00:00Z")
        );
    }

    #[test]
    fn cost_grows_with_days_not_minutes() {
        let c = us_east();
        // 2000 business hours is about a year: computed by walking ~365 days.
        let d = c.due(t("2026-01-05T14:00:00Z"), Duration::hours(2000)).unwrap();
        assert_eq!(c.elapsed(t("2026-01-05T14:00:00Z"), d), Duration::hours(2000));
    }

    #[test]
    fn never_open_is_an_error_not_a_hang() {
        let ivs = vec![WallInterval::parse("09:00-17:00").unwrap()];
        let hol = (0..2000).map(|i| NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(i));
        let c = Calendar::new(
            "closed",
            Tz::UTC,
            [ivs, vec![], vec![], vec![], vec![], vec![], vec![]],
            hol,
        )
        .unwrap();
        assert!(c.due(t("2026-01-01T00:00:00Z"), Duration::hours(1)).is_err());
        assert_eq!(
            c.elapsed(t("2026-01-01T00:00:00Z"), t("2030-01-01T00:00:00Z")),
            Duration::zero()
        );
    }
}
