//! `POST /v1/events/{kind}`: validate, store once, reconcile.

use crate::error::IngestError;
use crate::ports::{Appended, Clock, EventStore, LeadIndex, Notifier, Timers};
use crate::view::LeadView;
use crate::wire::{self, Kind};
use crate::App;
use serde::Serialize;

#[derive(Debug, Serialize)]
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
    S: EventStore + LeadIndex,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    pub async fn ingest(&self, kind: Kind, body: &[u8]) -> Result<Accepted, IngestError> {
        let event = wire::parse_event(kind, body, &self.policy, self.clock.now())?;
        let appended = self.store.append(&event).await.map_err(IngestError::Store)?;
        let duplicate = appended == Appended::Duplicate;
        tracing::info!(lead_id = %event.lead_id, event_id = %event.event_id, kind = kind.as_str(), duplicate, "event accepted");
        let lead = match self
            .reconcile(&event.lead_id, (!duplicate).then_some(&event.event_id))
            .await
        {
            Ok(r) => {
                for f in &r.failures {
                    tracing::warn!(lead_id = %event.lead_id, event_id = %event.event_id, error = %f, "reconcile left work for the sweep");
                }
                Some(LeadView::build(&r.lead, &self.policy, self.clock.now()))
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
