//! What a report asks for: a period, a breakdown and a format, validated once at the edge
//! (the HTTP extractor or the CLI) and passed on as types.

use crate::report_format::Format;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
pub use leadclock_domain::calendar::{day_span, local_midnight};
use leadclock_domain::metrics::Dimension;
use serde::Deserialize;

/// The longest period one report may cover.
pub const MAX_PERIOD: Duration = Duration::days(3 * 366);
/// The calendar years a report bound may name: outside them it is a typo, not a report.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A report query as it arrives (query string or CLI flags): text, not yet checked.
/// Values are trimmed before they are checked, hence the patterns' `\s*`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawReportQuery {
    /// Start: a local date in the reporting time zone (`2026-02-01`, from its midnight) or an
    /// RFC 3339 instant; years 2000–2100. With `from` alone, the period ends now.
    pub from: Option<String>,
    /// End: a local date (inclusive: to the next midnight) or an RFC 3339 instant; after
    /// `from`, and at most 3 years after it.
    pub to: Option<String>,
    /// A named period, relative to now in the reporting time zone; the default is `week` for
    /// metrics and `quarter` (the last 90 days) for the baseline. `from`/`to` override it.
    #[param(pattern = r"^\s*(today|yesterday|week|month|last_month|quarter)\s*$")]
    pub period: Option<String>,
    /// Break the metrics down by one dimension (the baseline is always per lead type).
    #[param(pattern = r"^\s*(lead_type|source|region|team|owner|segment)\s*$")]
    pub by: Option<String>,
    /// `json` (the default), `table` (for people) or `csv`.
    #[param(pattern = r"^\s*(json|table|csv)\s*$")]
    pub format: Option<String>,
}

/// A named period, relative to now in the reporting time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NamedPeriod {
    Today,
    Yesterday,
    /// The last 7 days up to now.
    #[default]
    Week,
    /// Month to date.
    Month,
    LastMonth,
    /// The last 90 days up to now: a baseline's window.
    Quarter,
}

impl NamedPeriod {
    pub const ALL: [NamedPeriod; 6] = [
        Self::Today,
        Self::Yesterday,
        Self::Week,
        Self::Month,
        Self::LastMonth,
        Self::Quarter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Yesterday => "yesterday",
            Self::Week => "week",
            Self::Month => "month",
            Self::LastMonth => "last_month",
            Self::Quarter => "quarter",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// One end of an explicit period: a local date (whole days) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

/// A checked report query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportQuery {
    /// `None`: the caller's default (a week for reports, a quarter for the baseline).
    pub period: Option<NamedPeriod>,
    pub from: Option<Bound>,
    pub to: Option<Bound>,
    pub by: Option<Dimension>,
    pub format: Format,
}

/// A query parameter that does not make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{field} {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{field} {message}")]
    OutOfRange { field: &'static str, message: String },
}

impl crate::error::HttpError for QueryError {
    fn status(&self) -> u16 {
        400
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_field",
            Self::OutOfRange { .. } => "out_of_range",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::Invalid { field, .. } | Self::OutOfRange { field, .. } => Some((*field).to_owned()),
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> QueryError {
    QueryError::Invalid {
        field,
        message: message.into(),
    }
}

fn parse_bound(field: &'static str, s: &str) -> Result<Bound, QueryError> {
    let s = s.trim();
    let bound = match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Bound::Date(d),
        Err(_) => DateTime::parse_from_rfc3339(s)
            .map(|t| Bound::Instant(t.with_timezone(&Utc)))
            .map_err(|_| {
                invalid(
                    field,
                    format!("{s:?} must be a date (2026-02-01) or an RFC 3339 timestamp"),
                )
            })?,
    };
    let year = match bound {
        Bound::Date(d) => d.year(),
        Bound::Instant(t) => t.year(),
    };
    if !YEARS.contains(&year) {
        return Err(QueryError::OutOfRange {
            field,
            message: format!("must be between {} and {}", YEARS.start(), YEARS.end()),
        });
    }
    Ok(bound)
}

impl ReportQuery {
    /// Checks every parameter once; the handlers only see the typed query.
    pub fn parse(raw: &RawReportQuery) -> Result<Self, QueryError> {
        let period = match raw.period.as_deref().map(str::trim) {
            None => None,
            Some(p) => Some(NamedPeriod::parse(p).ok_or_else(|| {
                invalid(
                    "period",
                    format!("{p:?} must be today, yesterday, week, month, last_month or quarter"),
                )
            })?),
        };
        let by = match raw.by.as_deref().map(str::trim) {
            None => None,
            Some(b) => Some(Dimension::parse(b).ok_or_else(|| {
                let known: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
                invalid("by", format!("{b:?} must be one of {}", known.join(", ")))
            })?),
        };
        let format = match raw.format.as_deref().map(str::trim) {
            None => Format::default(),
            Some(f) => {
                Format::parse(f).ok_or_else(|| invalid("format", format!("{f:?} must be json, table or csv")))?
            }
        };
        Ok(ReportQuery {
            period,
            from: raw.from.as_deref().map(|s| parse_bound("from", s)).transpose()?,
            to: raw.to.as_deref().map(|s| parse_bound("to", s)).transpose()?,
            by,
            format,
        })
    }

    /// The `[from, to)` this query covers, in the reporting time zone; a week by default.
    pub fn resolve(&self, tz: Tz, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), QueryError> {
        self.resolve_or(NamedPeriod::default(), tz, now)
    }

    /// As [`Self::resolve`], with `default` when the query names no period.
    pub fn resolve_or(
        &self,
        default: NamedPeriod,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), QueryError> {
        let (mut from, mut to) = named_span(self.period.unwrap_or(default), tz, now);
        if let Some(f) = self.from {
            from = instant_of(f, tz, false);
            if self.to.is_none() {
                to = now;
            }
        }
        if let Some(t) = self.to {
            to = instant_of(t, tz, true);
        }
        if to <= from {
            return Err(invalid("to", "must be after from"));
        }
        if to - from > MAX_PERIOD {
            return Err(QueryError::OutOfRange {
                field: "from",
                message: "periods are limited to 3 years".into(),
            });
        }
        Ok((from, to))
    }
}

/// A date bound is local midnight; a date `to` is inclusive, so it ends at the next midnight.
fn instant_of(b: Bound, tz: Tz, end: bool) -> DateTime<Utc> {
    match b {
        Bound::Instant(t) => t,
        Bound::Date(d) if end => local_midnight(tz, d.succ_opt().unwrap_or(d)),
        Bound::Date(d) => local_midnight(tz, d),
    }
}

fn named_span(p: NamedPeriod, tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = local_date(tz, now);
    match p {
        NamedPeriod::Week => (now - Duration::days(7), now),
        NamedPeriod::Quarter => (now - Duration::days(90), now),
        NamedPeriod::Today => (local_midnight(tz, today), now),
        NamedPeriod::Yesterday => day_span(tz, yesterday(tz, now)),
        NamedPeriod::Month => (local_midnight(tz, today.with_day(1).unwrap_or(today)), now),
        NamedPeriod::LastMonth => {
            let first = today.with_day(1).unwrap_or(today);
            let prev = first.pred_opt().unwrap_or(first).with_day(1).unwrap_or(first);
            (local_midnight(tz, prev), local_midnight(tz, first))
        }
    }
}

/// The local date of an instant.
pub fn local_date(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The local date before today's: what a nightly rollup reports on.
pub fn yesterday(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let today = local_date(tz, now);
    today.pred_opt().unwrap_or(today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HttpError;

    fn raw(pairs: &[(&str, &str)]) -> RawReportQuery {
        let get = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned());
        RawReportQuery {
            from: get("from"),
            to: get("to"),
            period: get("period"),
            by: get("by"),
            format: get("format"),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn parses_every_parameter_once() {
        let q = ReportQuery::parse(&raw(&[("period", "today"), ("by", "owner"), ("format", "csv")])).unwrap();
        assert_eq!(
            (q.period, q.by, q.format),
            (Some(NamedPeriod::Today), Some(Dimension::Owner), Format::Csv)
        );
        assert_eq!(ReportQuery::parse(&raw(&[])).unwrap(), ReportQuery::default());
    }

    #[test]
    fn bad_parameters_name_their_field() {
        for (pairs, field, code) in [
            (vec![("period", "fortnight")], "period", "invalid_field"),
            (vec![("by", "color")], "by", "invalid_field"),
            (vec![("format", "xml")], "format", "invalid_field"),
            (vec![("from", "yesterday-ish")], "from", "invalid_field"),
            (vec![("from", "0001-01-01")], "from", "out_of_range"),
            (vec![("to", "9999-12-01")], "to", "out_of_range"),
            (vec![("to", "9999-12-01T00:00:00Z")], "to", "out_of_range"),
        ] {
            let e = ReportQuery::parse(&raw(&pairs)).unwrap_err();
            assert_eq!(
                (e.field().as_deref(), e.code(), e.status()),
                (Some(field), code, 400),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn resolves_dates_in_the_reporting_zone() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let q = ReportQuery::parse(&raw(&[("from", "2026-11-01"), ("to", "2026-11-02")])).unwrap();
        let (from, to) = q.resolve(tz, now()).unwrap();
        assert_eq!(from.to_rfc3339(), "2026-11-01T04:00:00+00:00");
        // Inclusive date `to`; the DST change on Nov 1 makes that day 25 hours long.
        assert_eq!(to.to_rfc3339(), "2026-11-03T05:00:00+00:00");
        let y = ReportQuery::parse(&raw(&[("period", "yesterday")]))
            .unwrap()
            .resolve(tz, now())
            .unwrap();
        assert_eq!(y, day_span(tz, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()));
        let backwards = ReportQuery::parse(&raw(&[("from", "2026-11-05"), ("to", "2026-11-01")])).unwrap();
        assert_eq!(backwards.resolve(tz, now()).unwrap_err().field().as_deref(), Some("to"));
        let long = ReportQuery::parse(&raw(&[("from", "2020-01-01"), ("to", "2026-01-01")])).unwrap();
        assert_eq!(long.resolve(tz, now()).unwrap_err().code(), "out_of_range");
    }
}
