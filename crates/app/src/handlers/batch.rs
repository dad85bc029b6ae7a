//! Many events at once: stored in one write, each touched lead reconciled once. For the batch
//! route and for imports.

use crate::error::{ErrorDetail, HttpError, IngestError};
use crate::fingerprint;
use crate::inbound::batch::Item;
use crate::ports::{
    Appended, Clock, EventStore, Identities, LeadIndex, Notifier, PersonalData, StepLog, Timers, WriteBacks,
};
use crate::App;
use leadclock_domain::{Event, LeadId};
use serde::Serialize;
use std::collections::BTreeSet;

/// The answer for one item, in the batch's order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ItemResult {
    pub index: usize,
    /// 202 stored, 200 a repeat, or the status the item alone would have got.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// What a batch did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct BatchOutcome {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// Leads reconciled, each once.
    pub leads: usize,
    /// Leads left for the sweep to reconcile: the request's time ran out first (vendor
    /// webhooks only). Their events are stored and marked, their clocks exact.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deferred: usize,
    pub results: Vec<ItemResult>,
}

pub(crate) fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn refused(index: usize, e: &IngestError) -> ItemResult {
    ItemResult {
        index,
        status: e.status(),
        event_id: None,
        lead_id: None,
        error: Some(e.body().error),
    }
}

/// A stored item's answer: new, a repeat, or (when `refuse_conflicts`) an id reused with
/// another body.
fn answer(index: usize, event: &Event, appended: Appended, refuse_conflicts: bool) -> ItemResult {
    let ids = |status| ItemResult {
        index,
        status,
        event_id: Some(event.event_id.to_string()),
        lead_id: Some(event.lead_id.to_string()),
        error: None,
    };
    match appended {
        Appended::New => ids(202),
        Appended::Duplicate(stored) => {
            // A resend after an erasure is the same event: compare it as it would be stored.
            let (stored, received) = (
                fingerprint::of(&stored),
                fingerprint::of(&event.as_erased_like(&stored)),
            );
            if refuse_conflicts && stored != received {
                let e = IngestError::Conflict {
                    event_id: event.event_id.to_string(),
                    stored,
                    received,
                };
                return ItemResult {
                    error: Some(e.body().error),
                    ..ids(409)
                };
            }
            ids(200)
        }
        Appended::Full { limit } => {
            let e = IngestError::LeadFull {
                lead_id: event.lead_id.to_string(),
                limit,
            };
            ItemResult {
                error: Some(e.body().error),
                ..ids(e.status())
            }
        }
    }
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex + StepLog + PersonalData + Identities + WriteBacks,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    /// Stores the valid items in one write and reconciles every lead they touched, once.
    pub async fn receive_batch(&self, items: Vec<Item>, refuse_conflicts: bool) -> Result<BatchOutcome, IngestError> {
        self.receive_batch_within(items, refuse_conflicts, None).await
    }

    /// [`App::receive_batch`] that stops reconciling once `budget` has passed since it began:
    /// a vendor that times out retries the whole delivery. The leads left are marked for
    /// attention by their append, so the sweep reconciles them (`deferred` counts them).
    pub async fn receive_batch_within(
        &self,
        items: Vec<Item>,
        refuse_conflicts: bool,
        budget: Option<std::time::Duration>,
    ) -> Result<BatchOutcome, IngestError> {
        // Wall time, not the injected clock: the budget is the vendor's patience.
        let deadline = budget.map(|b| std::time::Instant::now() + b);
        let (events, positions): (Vec<Event>, Vec<usize>) = items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| it.as_ref().ok().map(|e| (e.clone(), i)))
            .unzip();
        let appended = self.store.append_batch(&events).await.map_err(IngestError::Store)?;
        let mut out = BatchOutcome::default();
        let mut results: Vec<Option<ItemResult>> = vec![None; items.len()];
        let mut touched = BTreeSet::new();
        let mut new_by_kind: std::collections::BTreeMap<&'static str, u64> = Default::default();
        let mut new_forms = Vec::new();
        for ((event, pos), appended) in events.iter().zip(&positions).zip(appended) {
            if matches!(appended, Appended::New) {
                touched.insert(event.lead_id.clone());
                if matches!(event.body, leadclock_domain::EventBody::Form(_)) {
                    new_forms.push(event.clone());
                }
                *new_by_kind.entry(event.body.kind()).or_default() += 1;
            }
            results[*pos] = Some(answer(*pos, event, appended, refuse_conflicts));
        }
        for (i, item) in items.iter().enumerate() {
            if let Err(e) = item {
                results[i] = Some(refused(i, e));
            }
        }
        out.results = results.into_iter().flatten().collect();
        for r in &out.results {
            match r.status {
                202 => out.accepted += 1,
                200 => out.duplicates += 1,
                _ => out.rejected += 1,
            }
        }
        for (kind, n) in new_by_kind {
            crate::telemetry::events_ingested(kind, n);
        }
        (out.leads, out.deferred) = self.reconcile_each(&touched, deadline).await;
        self.release_for_forms(&new_forms).await;
        tracing::info!(
            accepted = out.accepted,
            duplicates = out.duplicates,
            rejected = out.rejected,
            leads = out.leads,
            deferred = out.deferred,
            "batch stored"
        );
        Ok(out)
    }

    /// Reconciles each lead once, until `deadline`; a lead that fails, or is not reached,
    /// stays marked for the sweep. (reconciled, left).
    async fn reconcile_each(&self, leads: &BTreeSet<LeadId>, deadline: Option<std::time::Instant>) -> (usize, usize) {
        for (done, id) in leads.iter().enumerate() {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return (done, leads.len() - done);
            }
            if let Err(e) = self.reconcile(id).await {
                tracing::warn!(lead_id = %id, error = %e, "stored, but could not reconcile; the sweep will");
            }
        }
        (leads.len(), 0)
    }
}
