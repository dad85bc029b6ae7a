//! A lead's events as every fold reads them: its own, and those of each CRM record a merge
//! folded into it ([`leadclock_domain::merge`]), transitively and bounded. One home, so the
//! reconcile pass, the lead view, reports and the dashboard agree on what a merged lead is.

use crate::error::PortError;
use crate::ports::EventStore;
use crate::App;
use leadclock_domain::merge::{self, MAX_MERGED};
use leadclock_domain::{Event, LeadId};
use std::collections::BTreeSet;

impl<S: EventStore, T, N, C> App<S, T, N, C> {
    /// The lead's events with every merged record's.
    pub async fn lead_events(&self, lead: &LeadId) -> Result<Vec<Event>, PortError> {
        let own = self.store.load(lead).await?;
        self.with_merged(lead, own).await
    }

    /// `own` (the lead's stored events) with every merged record's: one more read per merged
    /// record, none for a lead nothing was merged into.
    pub async fn with_merged(&self, lead: &LeadId, own: Vec<Event>) -> Result<Vec<Event>, PortError> {
        let mut queue = merge::merged_into(lead, &own);
        if queue.is_empty() {
            return Ok(own);
        }
        let mut seen: BTreeSet<LeadId> = BTreeSet::from([lead.clone()]);
        let mut merged = Vec::new();
        while let Some(m) = queue.pop() {
            if seen.len() > MAX_MERGED || !seen.insert(m.clone()) {
                continue;
            }
            let theirs = self.store.load(&m).await?;
            queue.extend(merge::merged_into(&m, &theirs));
            merged.push((m, theirs));
        }
        Ok(merge::union(lead, own, merged))
    }
}
