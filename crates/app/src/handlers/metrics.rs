//! `GET /v1/metrics` and `leadclock report`: the methodology's metrics for a period, and the
//! nightly rollup that stores and announces one day of them.

use crate::error::{store_status, HttpError, PortError, STORE_RETRY_AFTER_SECONDS};
use crate::handlers::privacy::RetentionPass;
use crate::ports::{Clock, EventStore, LeadIndex, Notifier, Outbox, PersonalData, Rollups};
use crate::query::{day_span, local_date, local_midnight, QueryError, ReportQuery};
use crate::report_format;
use crate::{fold_state, App};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use futures_util::{stream, StreamExt, TryStreamExt};
use leadclock_domain::metrics::{self, Dimension, Report};
use leadclock_domain::{Event, Lead, LeadId, Scope};
use std::collections::BTreeSet;

/// Lead histories a report reads at once.
pub const LOADS_IN_FLIGHT: usize = 16;

/// Lead summaries a report asks the store for at once.
const SUMMARIES_PER_READ: usize = 500;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("could not read leads: {0}")]
    Store(#[source] PortError),
}

impl HttpError for ReportError {
    fn status(&self) -> u16 {
        match self {
            Self::Query(q) => q.status(),
            Self::Store(e) => store_status(e),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Query(q) => q.code(),
            Self::Store(_) => "store_unavailable",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::Query(q) => q.field(),
            Self::Store(_) => None,
        }
    }
    fn retry_after(&self) -> Option<u32> {
        matches!(self, Self::Store(e) if e.transient).then_some(STORE_RETRY_AFTER_SECONDS)
    }
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex,
    C: Clock,
{
    /// Folds every lead with an event in `[from, to)` or a clock running now.
    pub(crate) async fn leads_active(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Lead>, PortError> {
        let mut leads = Vec::new();
        self.each_lead_active(from, to, |chunk| leads.extend(chunk)).await?;
        Ok(leads)
    }

    /// Hands `each` every lead with an event in `[from, to)` or a clock running now, folded, a
    /// chunk at a time in lead order: a report adds each chunk up and drops it, so it holds
    /// one chunk, not every lead of the period. Cost grows with those leads, not with all
    /// history: a lead whose saved snapshot is current is read from its summary (a few
    /// hundred summaries a request), the others from their events. Timelines are left out:
    /// no metric reads them.
    pub(crate) async fn each_lead_active(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        each: impl FnMut(Vec<Lead>),
    ) -> Result<(), PortError> {
        let started = std::time::Instant::now();
        let ids = self.ids_active(from, to).await?;
        self.each_lead(ids, started.elapsed(), each).await
    }

    /// Hands `each` the leads `ids`, folded, a chunk at a time (see [`App::each_lead_active`]);
    /// `found` is how long finding them took, for the log.
    async fn each_lead(
        &self,
        ids: BTreeSet<LeadId>,
        found: std::time::Duration,
        mut each: impl FnMut(Vec<Lead>),
    ) -> Result<(), PortError> {
        let started = std::time::Instant::now();
        let ids: Vec<LeadId> = ids.into_iter().collect();
        let mut refolded = 0;
        for chunk in ids.chunks(SUMMARIES_PER_READ) {
            let (leads, n) = self.fold_chunk(chunk).await?;
            refolded += n;
            each(leads);
        }
        tracing::info!(
            leads = ids.len(),
            refolded,
            find_ms = found.as_millis() as u64,
            read_ms = started.elapsed().as_millis() as u64,
            "leads read"
        );
        Ok(())
    }

    /// The leads `ids`, from their current snapshots or else their events, in the order
    /// asked, without timelines; and how many were refolded from events.
    async fn fold_chunk(&self, ids: &[LeadId]) -> Result<(Vec<Lead>, usize), PortError> {
        let saved = self.store.saved_many(ids).await?;
        if saved.len() != ids.len() {
            return Err(PortError::new(
                "read summaries",
                format!("{} summaries for {} leads", saved.len(), ids.len()),
            ));
        }
        let mut leads: Vec<Option<Lead>> = saved
            .iter()
            .map(|s| s.as_ref().and_then(|s| fold_state::current(s, self.fold_tag)))
            .collect();
        let refold: Vec<usize> = (0..ids.len()).filter(|i| leads[*i].is_none()).collect();
        let folded: Vec<(usize, Lead)> = stream::iter(refold)
            .map(|i| async move {
                let events = self.lead_events(&ids[i]).await?;
                Ok::<_, PortError>((i, self.versions.fold(ids[i].clone(), &events).0))
            })
            .buffered(LOADS_IN_FLIGHT)
            .try_collect()
            .await?;
        let n = folded.len();
        for (i, lead) in folded {
            leads[i] = Some(lead);
        }
        let without_timelines = leads.into_iter().flatten().map(|mut l| {
            l.timeline = Vec::new();
            l
        });
        Ok((without_timelines.collect(), n))
    }

    /// Every lead with an event in `[from, to)` or a clock running now.
    async fn ids_active(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<BTreeSet<LeadId>, PortError> {
        let mut ids: BTreeSet<LeadId> = self.store.active_between(from, to).await?.into_iter().collect();
        ids.extend(self.store.open_leads().await?);
        Ok(ids)
    }

    /// [`App::leads_active`] that a reader with `scope` sees.
    pub(crate) async fn leads_seen(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        scope: &Scope,
    ) -> Result<Vec<Lead>, PortError> {
        let mut leads = self.leads_active(from, to).await?;
        leads.retain(|l| scope.sees(l, self.directory()));
        Ok(leads)
    }

    /// Adds to an unscoped `tally` the facts the store keeps for its days, and answers the
    /// leads of the span it must still read in full: those without current facts (a clock
    /// runs, no snapshot, another policy, not passed since the upgrade), and those with an
    /// event since their facts were worked out, whose facts are taken out first. `None` when the
    /// report reads every lead: a scoped reader, a period not made of whole reporting days, a
    /// store that keeps no facts.
    async fn add_kept_facts(
        &self,
        tally: &mut metrics::Tally<'_>,
        span_from: DateTime<Utc>,
        span_to: DateTime<Utc>,
    ) -> Result<Option<BTreeSet<LeadId>>, PortError> {
        let (tag, tz) = (self.fold_tag, self.policy.reporting_timezone);
        let unscoped = tally.scope() == &Scope::All && self.store.keeps_report_facts();
        let Some(days) = tally.fact_days(tz).filter(|_| unscoped) else {
            return Ok(None);
        };
        let dims = tally.dims();
        // Each period's sum, as one day's (the period before's on its first day).
        let (before, period) = ((days.previous, days.first), (days.first, days.end));
        let mut facts = self.store.report_facts(tag, before.0, before.1, &dims).await?;
        facts.add(&self.store.report_facts(tag, period.0, period.1, &dims).await?);
        let started = std::time::Instant::now();
        let mut rest = BTreeSet::new();
        let mut stale = 0u64;
        for (id, held) in self.store.active_without_facts(span_from, span_to, tag).await? {
            if let Some(s) = held {
                let old = self.kept_facts(Some(&s.snapshot), &id, s.events, s.kept)?;
                for (first, end) in [before, period] {
                    facts.subtract(&old.between(first, end).collapsed(first));
                }
                stale += 1;
            }
            rest.insert(id);
        }
        let at_edge = self.edge_leads(days.edge, &rest).await?;
        tally
            .add_facts(&facts.only(&dims), days, &at_edge)
            .map_err(|e| PortError::permanent("read report facts", e))?;
        tracing::info!(
            to_read = rest.len(),
            stale,
            facts_ms = started.elapsed().as_millis() as u64,
            "report facts added"
        );
        Ok(Some(rest))
    }

    /// The leads whose facts are kept (not in `rest`, read in full) that were active in the
    /// `edge` of the period before, if it has one: its MQLs there are counted from the leads,
    /// since whole days cannot say them (see [`metrics::Edge`]).
    async fn edge_leads(&self, edge: Option<metrics::Edge>, rest: &BTreeSet<LeadId>) -> Result<Vec<Lead>, PortError> {
        let Some(e) = edge else {
            return Ok(Vec::new());
        };
        let ids: Vec<LeadId> = self
            .store
            .active_between(e.from, e.to)
            .await?
            .into_iter()
            .filter(|id| !rest.contains(id))
            .collect();
        let mut leads = Vec::new();
        for chunk in ids.chunks(SUMMARIES_PER_READ) {
            leads.extend(self.fold_chunk(chunk).await?.0);
        }
        Ok(leads)
    }

    /// The open leads an unscoped report must still read once it has read `read` in full:
    /// those whose summary's open clocks are not current. The others go straight into
    /// `tally`: their open clocks are all a report counts of a lead with no event in its span.
    async fn open_leads_to_read(
        &self,
        read: &BTreeSet<LeadId>,
        tally: &mut metrics::Tally<'_>,
    ) -> Result<BTreeSet<LeadId>, PortError> {
        let mut to_read = BTreeSet::new();
        let mut from_index = 0u64;
        for (id, clocks) in self.store.open_clocks().await? {
            if read.contains(&id) {
                continue;
            }
            match clocks.and_then(|c| c.decode(self.fold_tag)) {
                Some(clocks) => {
                    tally.add_open_clocks(&id, &clocks);
                    from_index += 1;
                }
                None => {
                    to_read.insert(id);
                }
            }
        }
        tracing::info!(open_from_index = from_index, "open leads counted from the index");
        Ok(to_read)
    }

    /// The events of every lead with an event in `[from, to)` or a clock running now.
    pub(crate) async fn histories_active(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(LeadId, Vec<Event>)>, PortError> {
        let ids = self.ids_active(from, to).await?;
        // A few loads in flight at once: on DynamoDB each is a round trip, and one after the
        // other they passed API Gateway's 29 s at a few thousand leads. Bounded, so a big
        // report neither floods the table's capacity nor holds every request open at once.
        stream::iter(ids)
            .map(|id| async move { self.lead_events(&id).await.map(|events| (id, events)) })
            .buffered(LOADS_IN_FLIGHT)
            .try_collect()
            .await
    }
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex + Outbox,
    C: Clock,
{
    /// The report a query asks for.
    pub async fn metrics(&self, q: &ReportQuery) -> Result<Report, ReportError> {
        self.metrics_for(q, &Scope::All).await
    }

    /// The report a query asks for, over the leads a reader with `scope` sees.
    pub async fn metrics_for(&self, q: &ReportQuery, scope: &Scope) -> Result<Report, ReportError> {
        let now = self.clock.now();
        let (from, to) = q.resolve(self.policy.reporting_timezone, now)?;
        self.report(from, to, q.by, scope).await.map_err(ReportError::Store)
    }

    async fn report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        by: Option<Dimension>,
        scope: &Scope,
    ) -> Result<Report, PortError> {
        // The period before counts too: lead velocity compares with it.
        let (span_from, span_to) = metrics::span_needed(from, to);
        let now = self.clock.now();
        let mut tally = metrics::Tally::new(self.versions.as_ref(), from, to, by, now, scope.clone());
        let started = std::time::Instant::now();
        let mut read: BTreeSet<LeadId> = match self.add_kept_facts(&mut tally, span_from, span_to).await? {
            Some(rest) => rest,
            None => self
                .store
                .active_between(span_from, span_to)
                .await?
                .into_iter()
                .collect(),
        };
        let directory = self.directory();
        let mut adding = std::time::Duration::ZERO;
        // A merge folds the absorbed lead's events into its survivor, whose own events may all
        // lie outside the span: survivors of the leads read are read too.
        let mut survivors = BTreeSet::new();
        let mut add = |tally: &mut metrics::Tally<'_>, mut chunk: Vec<Lead>, survivors: &mut BTreeSet<LeadId>| {
            let started = std::time::Instant::now();
            survivors.extend(chunk.iter().filter_map(|l| l.merged_into.clone()));
            chunk.retain(|l| scope.sees(l, directory));
            tally.add(&chunk);
            adding += started.elapsed();
        };
        self.each_lead(read.clone(), started.elapsed(), |chunk| {
            add(&mut tally, chunk, &mut survivors);
        })
        .await?;
        let mut rest: BTreeSet<LeadId> = survivors.iter().filter(|s| !read.contains(*s)).cloned().collect();
        read.extend(rest.iter().cloned());
        if *scope == Scope::All {
            rest.extend(self.open_leads_to_read(&read, &mut tally).await?);
        } else {
            // A scoped reader's open list depends on who held each lead: its open leads are read.
            rest.extend(
                self.store
                    .open_leads()
                    .await?
                    .into_iter()
                    .filter(|id| !read.contains(id)),
            );
        }
        self.each_lead(rest, std::time::Duration::ZERO, |chunk| {
            add(&mut tally, chunk, &mut BTreeSet::new());
        })
        .await?;
        let mut report = tally.finish();
        // Where a slow report spends its time: "leads read" says the reading, this the figures.
        tracing::info!(add_ms = adding.as_millis() as u64, "report added up");
        // Dead letters are the deployment's, not a team's: only an unscoped reader is told.
        if *scope == Scope::All {
            report.dead_letters = Some(self.store.dead_letters().await?).filter(|n| *n > 0);
        }
        Ok(report)
    }
}

/// Minutes after local midnight (reporting time zone) when the previous day's rollup runs.
pub const ROLLUP_MINUTE: i64 = 5;

/// When the next nightly rollup runs after `now`, and which local day it reports on.
pub fn next_rollup(tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, NaiveDate) {
    let today = local_date(tz, now);
    let at = |d: NaiveDate| local_midnight(tz, d) + Duration::minutes(ROLLUP_MINUTE);
    let day = if at(today) > now {
        today
    } else {
        today.succ_opt().unwrap_or(today)
    };
    (at(day), day.pred_opt().unwrap_or(day))
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex + Outbox + Rollups,
    N: Notifier,
    C: Clock,
{
    /// Computes one local day's report, stores it and announces its summary.
    pub async fn rollup(&self, day: NaiveDate) -> Result<Report, PortError> {
        let tz = self.policy.reporting_timezone;
        let (from, to) = day_span(tz, day);
        let report = self.report(from, to, Some(Dimension::LeadType), &Scope::All).await?;
        let json = serde_json::to_value(&report).map_err(|e| PortError::permanent("encode rollup", e))?;
        let key = day.format("%Y-%m-%d").to_string();
        self.store.save_rollup(&key, &json.to_string()).await?;
        let summary = report_format::summary(&report, &key);
        self.notifier.publish_rollup(&key, &summary, &json).await?;
        tracing::info!(day = %key, mqls = report.overall.volume.mqls, "rollup published");
        // Once the day is stored and announced (a retried night counts it again: dashboards
        // read these as at-least-once, the stored rollup is the record).
        for (lead_type, c) in &report.overall.sla.by_lead_type {
            crate::telemetry::sla_outcomes(lead_type, c.met, c.missed);
        }
        Ok(report)
    }
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex + Outbox + Rollups + PersonalData + crate::ports::Identities + crate::ports::RawHooks,
    N: Notifier,
    C: Clock,
{
    /// The nightly job of both hosts: the day's rollup, then the retention pass. The rollup
    /// comes first so a failing retention pass never costs the night's metrics; a retry runs
    /// both again (each is idempotent).
    pub async fn nightly(&self, day: NaiveDate) -> Result<(Report, RetentionPass), PortError> {
        let report = self.rollup(day).await?;
        let retention = self.apply_retention().await?;
        Ok((report, retention))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollup_runs_five_past_midnight_for_the_day_before() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 00:03 local on the 24th: runs at 00:05 the same night, for the 23rd.
        assert_eq!(
            next_rollup(tz, t("2026-11-24T05:03:00Z")),
            (t("2026-11-24T05:05:00Z"), d("2026-11-23"))
        );
        // 00:05 exactly has run: the next is tomorrow's, for the 24th.
        assert_eq!(
            next_rollup(tz, t("2026-11-24T05:05:00Z")),
            (t("2026-11-25T05:05:00Z"), d("2026-11-24"))
        );
    }
}
