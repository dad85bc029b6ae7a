//! `GET /v1/leads/{lead_id}`: the timeline, clocks, escalation outcomes and deliveries of one lead.

use crate::error::LeadError;
use crate::ports::{Clock, EventStore, Outbox, StepLog, WriteBacks};
use crate::view::{LeadView, TimelinePage};
use crate::App;
use leadclock_domain::{LeadId, Scope};

impl<S: EventStore + StepLog + Outbox + WriteBacks, T, N, C: Clock> App<S, T, N, C> {
    /// The lead with the first page of its timeline.
    pub async fn lead(&self, lead_id: &str) -> Result<LeadView, LeadError> {
        self.lead_page(lead_id, &TimelinePage::default()).await
    }

    /// The lead with one page of its timeline.
    pub async fn lead_page(&self, lead_id: &str, page: &TimelinePage) -> Result<LeadView, LeadError> {
        self.lead_page_for(lead_id, page, &Scope::All).await
    }

    /// [`App::lead_page`] for a reader who sees `scope`: a lead outside it is "not found", so
    /// a scoped token cannot learn which lead ids exist elsewhere.
    pub async fn lead_page_for(
        &self,
        lead_id: &str,
        page: &TimelinePage,
        scope: &Scope,
    ) -> Result<LeadView, LeadError> {
        let id = LeadId::parse(lead_id).map_err(|e| LeadError::InvalidId(e.0))?;
        let events = self.lead_events(&id).await.map_err(LeadError::Store)?;
        if events.is_empty() {
            return Err(LeadError::NotFound(id.to_string()));
        }
        let (lead, version) = self.versions.fold(id.clone(), &events);
        // Decided before anything else is read: an unseen lead costs no more than a missing one.
        if !scope.sees(&lead, self.directory()) {
            return Err(LeadError::NotFound(lead.lead_id.to_string()));
        }
        let records = self.store.steps(&id).await.map_err(LeadError::Store)?;
        let messages = self.store.lead_messages(&id).await.map_err(LeadError::Store)?;
        let mut view = LeadView::build(&lead, &version.policy, self.clock.now(), &records, &messages);
        view.policy_version = version.number;
        view.write_back = self
            .store
            .write_back(&id)
            .await
            .map_err(LeadError::Store)?
            .as_ref()
            .map(crate::view::WriteBackView::of);
        view.page(page)
    }
}
