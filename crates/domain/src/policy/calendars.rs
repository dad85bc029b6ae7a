//! `[calendars.NAME]` tables → business-hours [`Calendar`]s.

use super::problems::{parse_toml, Problems};
use super::raw::{earliest, CalendarsOnly, Named, RawCalendar, Span, Text};
use super::Problem;
use crate::calendar::{Calendar, WallInterval};
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::BTreeMap;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Every calendar that validates; the others leave problems behind.
pub(super) fn calendars(raw: &Named<RawCalendar>, p: &mut Problems) -> BTreeMap<String, Calendar> {
    raw.iter()
        .filter_map(|(name, cal)| calendar(name, cal, p).map(|c| (name.get_ref().clone(), c)))
        .collect()
}

/// Parses just the calendars of any TOML file (a full policy or a calendars-only file).
pub(super) fn calendars_only(src: &str) -> Result<BTreeMap<String, Calendar>, Vec<Problem>> {
    let raw: CalendarsOnly = parse_toml(src)?;
    let mut p = Problems::new(src);
    let cals = calendars(&raw.calendars, &mut p);
    if cals.is_empty() && p.is_empty() {
        p.add("calendars", None, "no [calendars.NAME] table found");
    }
    p.finish(Some(cals))
}

fn calendar(name: &Text, raw: &RawCalendar, p: &mut Problems) -> Option<Calendar> {
    let base = format!("calendars.{}", name.get_ref());
    let tz = time_zone(&raw.timezone, &format!("{base}.timezone"), p);
    let week = week(&raw.hours, &base, p);
    let holidays = holidays(&raw.holidays, &base, p);
    match Calendar::new(name.get_ref(), tz?, week, holidays) {
        Ok(c) => Some(c),
        Err(e) => {
            p.add(format!("{base}.hours"), hours_span(name, raw), e);
            None
        }
    }
}

/// An IANA zone name, as `timezone` and `reporting_timezone` give it.
pub(super) fn time_zone(raw: &Text, path: &str, p: &mut Problems) -> Option<Tz> {
    match raw.get_ref().parse() {
        Ok(tz) => Some(tz),
        Err(_) => {
            p.add(
                path,
                raw.span(),
                format!("{:?} is not an IANA time zone", raw.get_ref()),
            );
            None
        }
    }
}

/// Opening hours by weekday (index 0 = Monday); bad days and intervals are left out.
fn week(hours: &Named<Vec<Text>>, base: &str, p: &mut Problems) -> [Vec<WallInterval>; 7] {
    let mut week: [Vec<WallInterval>; 7] = Default::default();
    for (day, intervals) in hours {
        let path = format!("{base}.hours.{}", day.get_ref());
        let Some(i) = DAYS.iter().position(|d| d == day.get_ref()) else {
            p.add(path, day.span(), "day must be one of mon, tue, wed, thu, fri, sat, sun");
            continue;
        };
        for iv in intervals {
            match WallInterval::parse(iv.get_ref()) {
                Ok(w) => week[i].push(w),
                Err(e) => p.add(&path, iv.span(), e),
            }
        }
    }
    week
}

fn holidays(raw: &[Text], base: &str, p: &mut Problems) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    for h in raw {
        match NaiveDate::parse_from_str(h.get_ref(), "%Y-%m-%d") {
            Ok(d) => out.push(d),
            Err(_) => p.add(
                format!("{base}.holidays"),
                h.span(),
                format!("{:?} is not a date like 2026-12-25", h.get_ref()),
            ),
        }
    }
    out
}

/// Where a problem with the week as a whole goes: its first day, else the calendar's name.
fn hours_span(name: &Text, raw: &RawCalendar) -> Option<Span> {
    earliest(raw.hours.keys().map(|d| Some(d.span()))).or(Some(name.span()))
}
