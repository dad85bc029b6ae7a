//! Receiving events: whatever the payload format, each event is stored once, then its lead is
//! reconciled.

use crate::error::IngestError;
use crate::fingerprint;
use crate::inbound::{Inbound, Kind, LeadclockJson, PayloadFormat};
use crate::ports::{
    Appended, Clock, EventStore, Identities, LeadIndex, Notifier, PersonalData, StepLog, Timers, WriteBacks,
};
use crate::view::LeadView;
use crate::App;
use leadclock_domain::Event;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub lead_id: String,
    pub event_id: String,
    pub duplicate: bool,
    /// The lead after this event; absent if it could not be read back (the event is stored
    /// and the sweep reconciles it).
    pub lead: Option<LeadView>,
}

impl Accepted {
    /// 202 for a new event, 200 for a repeat.
    pub fn status(&self) -> u16 {
        if self.duplicate {
            200
        } else {
            202
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
    /// Receives a request in any payload format: every event it carries, in order.
    pub async fn receive(
        &self,
        format: &impl PayloadFormat,
        request: &Inbound<'_>,
    ) -> Result<Vec<Accepted>, IngestError> {
        let events = format.events(request, &self.policy_now())?;
        let mut accepted = Vec::with_capacity(events.len());
        for event in &events {
            accepted.push(self.accept(event, format.name(), format.refuses_conflicts()).await?);
        }
        Ok(accepted)
    }

    /// The JSON API's one event of `kind`.
    pub async fn ingest(&self, kind: Kind, body: &[u8]) -> Result<Accepted, IngestError> {
        let request = Inbound::body(body, self.clock.now());
        let mut accepted = self.receive(&LeadclockJson { kind }, &request).await?;
        accepted
            .pop()
            .ok_or_else(|| IngestError::Malformed("the request carried no event".into()))
    }

    /// Stores one event once, then reconciles its lead.
    async fn accept(
        &self,
        event: &Event,
        format: &'static str,
        refuse_conflicts: bool,
    ) -> Result<Accepted, IngestError> {
        let duplicate = match self.store.append(event).await.map_err(IngestError::Store)? {
            Appended::New => false,
            Appended::Duplicate(stored) => {
                // A resend after an erasure is the same event: compare it as it would be stored.
                let (stored, received) = (
                    fingerprint::of(&stored),
                    fingerprint::of(&event.as_erased_like(&stored)),
                );
                if refuse_conflicts && stored != received {
                    return Err(IngestError::Conflict {
                        event_id: event.event_id.to_string(),
                        stored,
                        received,
                    });
                }
                true
            }
            Appended::Full { limit } => {
                return Err(IngestError::LeadFull {
                    lead_id: event.lead_id.to_string(),
                    limit,
                })
            }
        };
        tracing::info!(lead_id = %event.lead_id, event_id = %event.event_id, kind = event.body.kind(), format, duplicate, "event accepted");
        if !duplicate {
            crate::telemetry::events_ingested(event.body.kind(), 1);
        }
        let mut reconciled = self
            .reconcile_after(&event.lead_id, (!duplicate).then_some(event))
            .await;
        if !duplicate
            && self
                .release_for_forms(std::slice::from_ref(event))
                .await
                .contains(&event.lead_id)
        {
            // Touches held for this lead's person are now its events: show them.
            reconciled = self.reconcile(&event.lead_id).await;
        }
        let lead = match reconciled {
            Ok(r) => {
                for f in &r.failures {
                    tracing::warn!(lead_id = %event.lead_id, event_id = %event.event_id, error = %f, "reconcile left work for the sweep");
                }
                let mut view = LeadView::build(&r.lead, &r.policy, self.clock.now(), &r.records, &[]);
                view.policy_version = r.policy_version;
                view.page(&crate::view::TimelinePage::default())
                    .ok()
                    .map(|v| v.with_timeline_total(r.timeline_total))
            }
            Err(e) => {
                tracing::error!(lead_id = %event.lead_id, event_id = %event.event_id, error = %e, "stored, but could not reconcile; the sweep will");
                None
            }
        };
        Ok(Accepted {
            lead_id: event.lead_id.to_string(),
            event_id: event.event_id.to_string(),
            duplicate,
            lead,
        })
    }
}
