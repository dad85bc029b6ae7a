//! `leadclock whatif`: the stored events replayed under a proposed policy, beside the policy
//! in force (see [`leadclock_domain::metrics::what_if`]). Nothing is written. Lead types are
//! those the events were classified with when they arrived.

use super::metrics::ReportError;
use crate::ports::{Clock, EventStore, LeadIndex};
use crate::query::{NamedPeriod, ReportQuery};
use crate::App;
use leadclock_domain::metrics::{self, WhatIf};
use leadclock_domain::{Lead, Policy};

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex,
    C: Clock,
{
    /// The last 90 days unless the query names a period.
    pub async fn whatif(&self, proposed: &Policy, q: &ReportQuery) -> Result<WhatIf, ReportError> {
        let now = self.clock.now();
        let (from, to) = q.resolve_or(NamedPeriod::Quarter, self.policy.reporting_timezone, now)?;
        let histories = self.histories_active(from, to).await.map_err(ReportError::Store)?;
        let fold = |policy: &Policy| -> Vec<Lead> {
            histories
                .iter()
                .map(|(id, events)| Lead::fold(id.clone(), events, policy))
                .collect()
        };
        let (actual, replayed) = (fold(&self.policy), fold(proposed));
        Ok(metrics::what_if(
            (&actual, &self.policy),
            (&replayed, proposed),
            from,
            to,
            now,
        ))
    }
}
