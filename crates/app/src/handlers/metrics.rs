//! `GET /v1/metrics` and `leadclock report`: the methodology's metrics for a period, and the
//! nightly rollup that stores and announces one day of them.

use crate::error::{HttpError, PortError};
use crate::ports::{Clock, EventStore, LeadIndex, Notifier, Rollups};
use crate::report_format;
use crate::App;
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use leadclock_domain::metrics::{self, Dimension, Report};
use leadclock_domain::{Lead, LeadId};
use std::collections::BTreeSet;

/// Query parameters shared by the HTTP route and the CLI.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MetricsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// today, yesterday, week (last 7 days), month (month to date), last_month.
    pub period: Option<String>,
    pub by: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum MetricsError {
    #[error("{field} {message}")]
    Invalid { field: &'static str, message: String },
    #[error("could not read leads: {0}")]
    Store(PortError),
}

impl HttpError for MetricsError {
    fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Store(e) if e.transient => 503,
            Self::Store(_) => 500,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_field",
            Self::Store(_) => "store_unavailable",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::Invalid { field, .. } => Some((*field).to_owned()),
            Self::Store(_) => None,
        }
    }
    fn message(&self) -> String {
        self.to_string()
    }
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

fn parse_bound(field: &'static str, s: &str, tz: Tz, end: bool) -> Result<DateTime<Utc>, MetricsError> {
    if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        // A date `to` is inclusive: the period runs to the end of that day.
        let d = if end { d.succ_opt().unwrap_or(d) } else { d };
        return Ok(local_midnight(tz, d));
    }
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| MetricsError::Invalid {
            field,
            message: format!("{s:?} must be a date (2026-02-01) or an RFC 3339 timestamp"),
        })
}

/// The `[from, to)` a query asks for, in the policy's reporting time zone.
pub fn resolve_period(
    q: &MetricsQuery,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), MetricsError> {
    let today = now.with_timezone(&tz).date_naive();
    let (mut from, mut to) = match q.period.as_deref() {
        None | Some("week") => (now - Duration::days(7), now),
        Some("today") => (local_midnight(tz, today), now),
        Some("yesterday") => (
            local_midnight(tz, today.pred_opt().unwrap_or(today)),
            local_midnight(tz, today),
        ),
        Some("month") => (local_midnight(tz, today.with_day(1).unwrap_or(today)), now),
        Some("last_month") => {
            let first = today.with_day(1).unwrap_or(today);
            let prev = first.pred_opt().unwrap_or(first).with_day(1).unwrap_or(first);
            (local_midnight(tz, prev), local_midnight(tz, first))
        }
        Some(other) => {
            return Err(MetricsError::Invalid {
                field: "period",
                message: format!("{other:?} must be today, yesterday, week, month or last_month"),
            })
        }
    };
    if let Some(f) = &q.from {
        from = parse_bound("from", f, tz, false)?;
        if q.to.is_none() {
            to = now;
        }
    }
    if let Some(t) = &q.to {
        to = parse_bound("to", t, tz, true)?;
    }
    if to <= from {
        return Err(MetricsError::Invalid {
            field: "to",
            message: "must be after from".into(),
        });
    }
    if to - from > Duration::days(3 * 366) {
        return Err(MetricsError::Invalid {
            field: "from",
            message: "periods are limited to 3 years".into(),
        });
    }
    Ok((from, to))
}

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
    Csv,
}

impl Format {
    pub fn parse(s: Option<&str>) -> Result<Format, MetricsError> {
        match s {
            None | Some("json") => Ok(Format::Json),
            Some("table") => Ok(Format::Table),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(MetricsError::Invalid {
                field: "format",
                message: format!("{other:?} must be json, table or csv"),
            }),
        }
    }
}

fn check_by(by: Option<&str>) -> Result<Option<Dimension>, MetricsError> {
    match by {
        None => Ok(None),
        Some(b) => Dimension::parse(b).map(Some).ok_or_else(|| MetricsError::Invalid {
            field: "by",
            message: format!(
                "{b:?} must be one of {}",
                Dimension::ALL.map(Dimension::as_str).join(", ")
            ),
        }),
    }
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex,
    C: Clock,
{
    /// Folds every lead a report over `[from, to)` needs: active in it or the period before,
    /// or with a clock running now. Cost grows with those leads, not with all history.
    async fn leads_for(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Lead>, PortError> {
        let (span_from, span_to) = metrics::span_needed(from, to);
        let mut ids: BTreeSet<LeadId> = self
            .store
            .active_between(span_from, span_to)
            .await?
            .into_iter()
            .collect();
        ids.extend(self.store.open_leads().await?);
        let mut leads = Vec::with_capacity(ids.len());
        for id in ids {
            let events = self.store.load(&id).await?;
            leads.push(Lead::fold(id, &events, &self.policy));
        }
        Ok(leads)
    }

    pub async fn metrics(&self, q: &MetricsQuery) -> Result<Report, MetricsError> {
        let now = self.clock.now();
        Format::parse(q.format.as_deref())?;
        let (from, to) = resolve_period(q, self.policy.reporting_timezone, now)?;
        let by = check_by(q.by.as_deref())?;
        let leads = self.leads_for(from, to).await.map_err(MetricsError::Store)?;
        Ok(metrics::report(&leads, &self.policy, from, to, by, now))
    }
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex + Rollups,
    N: Notifier,
    C: Clock,
{
    /// Computes one local day's report, stores it and announces its summary.
    pub async fn rollup(&self, day: NaiveDate) -> Result<Report, PortError> {
        let tz = self.policy.reporting_timezone;
        let (from, to) = (
            local_midnight(tz, day),
            local_midnight(tz, day.succ_opt().unwrap_or(day)),
        );
        let leads = self.leads_for(from, to).await?;
        let by = Some(Dimension::LeadType);
        let report = metrics::report(&leads, &self.policy, from, to, by, self.clock.now());
        let json = serde_json::to_value(&report).map_err(|e| PortError::new("encode rollup", e.to_string()))?;
        let key = day.format("%Y-%m-%d").to_string();
        self.store.save_rollup(&key, &json.to_string()).await?;
        let summary = report_format::summary(&report, &key, tz);
        self.notifier.publish_rollup(&key, &summary, &json).await?;
        tracing::info!(day = %key, mqls = report.overall.volume.mqls, "rollup published");
        Ok(report)
    }
}
