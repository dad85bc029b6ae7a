//! Bring one lead's outside world in line with its events: send the escalation steps that
//! are due (each once), arm the timer of every running clock, cancel timers made stale.
//!
//! Ingest, a firing timer and the periodic sweep all end here, so a lost timer or a crash
//! between storing and scheduling is mended by the next pass.

use crate::error::PortError;
use crate::ports::{Appended, Clock, EventStore, LeadIndex, LeadSummary, Notifier, Timers};
use crate::App;
use chrono::{DateTime, Duration, Utc};
use leadclock_domain::clock::{self, Timer};
use leadclock_domain::event::Escalated;
use leadclock_domain::{Event, EventBody, EventId, Lead, LeadId, Policy};

/// Delay before retrying a step whose notification failed.
pub const RETRY_DELAY: Duration = Duration::seconds(30);

#[derive(Debug)]
pub struct Reconciled {
    pub lead: Lead,
    /// Steps sent by this pass, in order.
    pub sent: Vec<clock::Escalation>,
    pub timers: Vec<Timer>,
    /// Failures that leave work for a retry (the lead stays marked for attention).
    pub failures: Vec<PortError>,
}

fn summary(lead: &Lead, events: &[Event], timers: &[Timer], open: bool) -> Option<LeadSummary> {
    Some(LeadSummary {
        lead_id: lead.lead_id.clone(),
        events: events.len() as u64,
        next_due: timers.iter().map(|t| t.due_at).min(),
        first_engaged_at: lead.cycles.first().map(|c| c.engaged_at),
        last_activity: events.iter().map(|e| e.occurred_at).max()?,
        open,
    })
}

/// The timers the lead had before `new_event` arrived.
fn timers_before(
    events: &[Event],
    new_event: &EventId,
    lead_id: &LeadId,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Timer> {
    let before = Lead::fold(
        lead_id.clone(),
        events.iter().filter(|e| &e.event_id != new_event),
        policy,
    );
    clock::timers(&before, policy, now)
}

impl<S, T, N, C> App<S, T, N, C>
where
    S: EventStore + LeadIndex,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    /// Reconciles one lead. `new_event` names the event that prompted it, if any, so the
    /// timer it made stale can be cancelled.
    pub async fn reconcile(&self, lead_id: &LeadId, new_event: Option<&EventId>) -> Result<Reconciled, PortError> {
        let now = self.clock.now();
        let mut events = self.store.load(lead_id).await?;
        let mut lead = Lead::fold(lead_id.clone(), &events, &self.policy);
        // What was armed before the new event, taken before this pass adds any claims.
        let before = new_event.map(|id| timers_before(&events, id, lead_id, &self.policy, now));
        let mut sent = Vec::new();
        let mut failures = Vec::new();
        let mut retry = false;

        for esc in clock::due_escalations(&lead, &self.policy, now) {
            let claim = Event {
                event_id: Event::escalation_id(lead_id, esc.cycle, esc.clock, esc.step),
                lead_id: lead_id.clone(),
                occurred_at: now,
                body: EventBody::Escalated(Escalated {
                    cycle: esc.cycle,
                    clock: esc.clock,
                    step: esc.step,
                    recipients: esc.recipients.iter().map(|r| r.id.clone()).collect(),
                }),
                extra: Default::default(),
            };
            // The claim is the "sent once" guard: only the writer of a new claim notifies.
            match self.store.append(&claim).await {
                Ok(Appended::Duplicate) => continue,
                Ok(Appended::New) => {}
                Err(e) => {
                    failures.push(e);
                    retry = true;
                    continue;
                }
            }
            match self.notifier.notify(&esc).await {
                Ok(()) => {
                    tracing::info!(lead_id = %lead_id, event_id = %claim.event_id, step = esc.step, clock = esc.clock.as_str(), "escalation sent");
                    events.push(claim);
                    sent.push(esc);
                }
                Err(e) => {
                    tracing::warn!(lead_id = %lead_id, event_id = %claim.event_id, error = %e, "escalation not delivered; will retry");
                    if let Err(r) = self.store.retract(lead_id, &claim.event_id).await {
                        // The claim stays: the step counts as sent rather than risk sending twice.
                        tracing::error!(lead_id = %lead_id, event_id = %claim.event_id, error = %r, "could not retract claim");
                        failures.push(r);
                    }
                    failures.push(e);
                    retry = true;
                }
            }
        }
        if !sent.is_empty() {
            lead = Lead::fold(lead_id.clone(), &events, &self.policy);
        }

        let mut timers = clock::timers(&lead, &self.policy, now);
        if retry {
            for t in &mut timers {
                t.due_at = t.due_at.max(now + RETRY_DELAY);
            }
        }
        // After an event, touch only the timers it changed; otherwise (timer, sweep) arm them all.
        let to_arm: Vec<&Timer> = match &before {
            Some(before) => {
                for stale in before.iter().filter(|old| !timers.contains(old)) {
                    if let Err(e) = self.timers.cancel(stale).await {
                        // Harmless: a stale timer finds nothing due.
                        tracing::warn!(lead_id = %lead_id, error = %e, "could not cancel a stale timer");
                    }
                }
                timers.iter().filter(|t| retry || !before.contains(t)).collect()
            }
            None => timers.iter().collect(),
        };
        for t in to_arm {
            if let Err(e) = self.timers.schedule(t).await {
                failures.push(e);
            }
        }
        // Saving the summary clears the lead's "needs attention" mark only when all went well;
        // otherwise the sweep comes back to it.
        if failures.is_empty() {
            let open = lead
                .current_cycle()
                .is_some_and(|c| clock::cycle_clocks(c, &self.policy, now).iter().any(|v| v.is_running()));
            if let Some(s) = summary(&lead, &events, &timers, open) {
                self.store.save_summary(&s).await?;
            }
        }
        Ok(Reconciled {
            lead,
            sent,
            timers,
            failures,
        })
    }

    /// Reconciles every lead with a step due by `now + horizon` or with unreconciled events.
    /// Returns how many leads it visited.
    pub async fn sweep(&self, horizon: Duration) -> Result<usize, PortError> {
        let ids = self.store.needing_attention(self.clock.now() + horizon).await?;
        for id in &ids {
            if let Err(e) = self.reconcile(id, None).await {
                tracing::warn!(lead_id = %id, error = %e, "sweep could not reconcile lead");
            }
        }
        Ok(ids.len())
    }
}
