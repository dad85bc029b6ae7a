//! `GET /v1/leads/{lead_id}`: the timeline, clocks and escalations of one lead.

use crate::error::LeadError;
use crate::ports::{Clock, EventStore};
use crate::view::LeadView;
use crate::App;
use leadclock_domain::{Lead, LeadId};

impl<S: EventStore, T, N, C: Clock> App<S, T, N, C> {
    pub async fn lead(&self, lead_id: &str) -> Result<LeadView, LeadError> {
        let id = LeadId::parse(lead_id).map_err(|e| LeadError::InvalidId(e.0))?;
        let events = self.store.load(&id).await.map_err(LeadError::Store)?;
        if events.is_empty() {
            return Err(LeadError::NotFound(id.to_string()));
        }
        let lead = Lead::fold(id, &events, &self.policy);
        Ok(LeadView::build(&lead, &self.policy, self.clock.now()))
    }
}
