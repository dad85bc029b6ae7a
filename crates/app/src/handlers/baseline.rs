//! `GET /v1/baseline` and `leadclock baseline`: per lead type, how fast the team answers today,
//! beside the methodology's benchmarks, and the SLA it actually keeps (see
//! [`leadclock_domain::metrics::baseline`]). Read-only; a quarter by default.

use super::metrics::ReportError;
use crate::ports::{Clock, EventStore, LeadIndex};
use crate::query::{NamedPeriod, ReportQuery};
use crate::App;
use leadclock_domain::metrics::{self, Baseline};
use leadclock_domain::{Lead, Scope};

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex,
    C: Clock,
{
    /// The baseline a query asks for: the last 90 days unless it names a period.
    pub async fn baseline(&self, q: &ReportQuery) -> Result<Baseline, ReportError> {
        self.baseline_for(q, &Scope::All).await
    }

    /// [`App::baseline`] over the leads a reader with `scope` sees.
    pub async fn baseline_for(&self, q: &ReportQuery, scope: &Scope) -> Result<Baseline, ReportError> {
        let now = self.clock.now();
        let (from, to) = q.resolve_or(NamedPeriod::Quarter, self.policy.reporting_timezone, now)?;
        // The baseline measures the history against the policy in force now (its compliance
        // column is "under the current policy"), so every lead is folded under that one.
        let histories = self.histories_active(from, to).await.map_err(ReportError::Store)?;
        let policy = self.policy_now();
        let leads: Vec<Lead> = histories
            .into_iter()
            .map(|(id, events)| Lead::fold(id, &events, &policy))
            .filter(|l| scope.sees(l, self.directory()))
            .collect();
        Ok(metrics::baseline(&leads, &policy, from, to, now))
    }
}
