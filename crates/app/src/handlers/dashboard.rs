//! What the dashboard's pages read: the queue of running clocks, daily and weekly trends,
//! speed vs conversion. Each loads the leads once and leaves the figures to the domain, so a
//! page shows exactly what the reports compute, over the leads its reader may see.

use super::metrics::ReportError;
use crate::error::PortError;
use crate::ports::{Clock, EventStore, LeadIndex};
use crate::query::{day_span, local_date, NamedPeriod, ReportQuery};
use crate::App;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::{stream, StreamExt, TryStreamExt};
use leadclock_domain::metrics::{self, Dimension, Queued, Report, SpeedBucket};
use leadclock_domain::{Lead, Scope};

/// Days the daily trend shows, and weeks the weekly one.
pub const TREND_DAYS: usize = 28;
pub const TREND_WEEKS: usize = 12;

/// One point of a trend: a local day or week and its report by lead type.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    pub first_day: NaiveDate,
    pub report: Report,
}

/// The daily and weekly trends, oldest first.
#[derive(Debug, Clone)]
pub struct Trends {
    pub daily: Vec<TrendPoint>,
    pub weekly: Vec<TrendPoint>,
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex,
    C: Clock,
{
    /// Every running clock a reader with `scope` owns or oversees, soonest breach first.
    pub async fn queue_for(&self, scope: &Scope) -> Result<Vec<Queued>, PortError> {
        let ids = self.store.open_leads().await?;
        let leads: Vec<Lead> = stream::iter(ids)
            .map(|id| async move {
                self.lead_events(&id)
                    .await
                    .map(|events| self.versions.fold(id, &events).0)
            })
            .buffered(super::metrics::LOADS_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut queue = metrics::queue(&leads, self.versions.as_ref(), self.clock.now());
        // A lead still waiting for assignment has no owner: only an unscoped reader (ops) sees it.
        queue.retain(|q| scope.covers_owner(q.owner.as_deref(), q.team.as_deref()));
        Ok(queue)
    }

    /// The last [`TREND_DAYS`] local days and [`TREND_WEEKS`] weeks (Monday to Sunday, the
    /// current one so far), each its own report by lead type, from one load of the leads.
    pub async fn trends_for(&self, scope: &Scope) -> Result<Trends, PortError> {
        let tz = self.policy.reporting_timezone;
        let now = self.clock.now();
        let today = local_date(tz, now);
        let monday = today - Duration::days(i64::from(chrono::Datelike::weekday(&today).num_days_from_monday()));
        let first_week = monday - Duration::weeks(TREND_WEEKS as i64 - 1);
        let first_day = today - Duration::days(TREND_DAYS as i64 - 1);
        let start = day_span(tz, first_week.min(first_day)).0;
        let leads = self.leads_seen(metrics::span_needed(start, now).0, now, scope).await?;
        let point = |first: NaiveDate, last: NaiveDate| {
            let from = day_span(tz, first).0;
            let to = day_span(tz, last).1.min(now);
            TrendPoint {
                first_day: first,
                report: metrics::report(&leads, self.versions.as_ref(), from, to, Some(Dimension::LeadType), now),
            }
        };
        let daily = (0..TREND_DAYS as i64)
            .map(|i| first_day + Duration::days(i))
            .map(|d| point(d, d))
            .collect();
        let weekly = (0..TREND_WEEKS as i64)
            .map(|i| first_week + Duration::weeks(i))
            .map(|w| point(w, w + Duration::days(6)))
            .collect();
        Ok(Trends { daily, weekly })
    }

    /// MQL → SQL by response bucket for the period a query names (a quarter by default).
    pub async fn speed_conversion_for(
        &self,
        q: &ReportQuery,
        scope: &Scope,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>, Vec<SpeedBucket>), ReportError> {
        let now = self.clock.now();
        let (from, to) = q.resolve_or(NamedPeriod::Quarter, self.policy.reporting_timezone, now)?;
        let leads = self.leads_seen(from, to, scope).await.map_err(ReportError::Store)?;
        let buckets = metrics::speed_vs_conversion(&leads, self.versions.as_ref(), from, to, now);
        Ok((from, to, buckets))
    }
}
