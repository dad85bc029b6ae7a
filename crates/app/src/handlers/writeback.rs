//! Write-back: the reconcile pass stores a lead's figures when they change; the dispatcher
//! sends them to the CRM. Both hosts run both halves, as they do for the outbox.

use super::dispatch::{Dispatched, BATCH, LEASE};
use crate::error::PortError;
use crate::outbox::OutboxStatus;
use crate::ports::{Clock, Notifier, WriteBacks};
use crate::writeback::{figures, record_of, WriteBack};
use crate::App;
use chrono::{DateTime, Utc};
use leadclock_crm::writeback::client::WriteError;
use leadclock_crm::Source;
use leadclock_domain::{Lead, Policy};
use std::collections::BTreeMap;

/// Saves lost to a concurrent pass before giving up (the next reconcile of the lead retries).
const SAVE_TRIES: usize = 3;

/// Rounds of one write-back pass (see [`App::write_back_pass`]).
const ROUNDS: usize = 3;

impl<S, T, N, C> App<S, T, N, C>
where
    S: WriteBacks,
    N: Notifier,
    C: Clock,
{
    /// Stores the lead's figures for the CRM when write-back is on for its record and they
    /// changed; `true` when a write is now pending.
    pub(crate) async fn want_write_back(
        &self,
        lead: &Lead,
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let Some(client) = &self.crm else { return Ok(false) };
        let writes = record_of(&lead.lead_id).is_some_and(|r| client.writes(&r));
        let Some(figures) = figures(lead, policy, now).filter(|_| writes) else {
            return Ok(false);
        };
        for _ in 0..SAVE_TRIES {
            let stored = self.store.write_back(&lead.lead_id).await?;
            let Some(w) = WriteBack::wanted(&lead.lead_id, stored.as_ref(), figures.clone(), now) else {
                return Ok(false);
            };
            if self.store.save_write_back(&w, stored.map(|s| s.revision)).await? {
                self.notifier.wake();
                return Ok(true);
            }
        }
        Err(PortError::transient(
            "save write-back",
            "another pass kept saving first",
        ))
    }

    /// Sends the write-backs due now, one after another: the CRMs' rate limits are per
    /// account. When a CRM asks to wait, the rest of its writes wait too instead of each
    /// spending a request to learn it.
    pub async fn write_back_pass(&self) -> Result<Dispatched, PortError> {
        let mut total = Dispatched::default();
        // Figures saved during one of a round's sends wait for it and are released when it
        // ends: the next round sends them (a few rounds at most; the rest go next pass).
        for _ in 0..ROUNDS {
            let (d, released) = self.write_back_round().await?;
            total.sent += d.sent;
            total.retrying += d.retrying;
            total.dead += d.dead;
            if released == 0 {
                break;
            }
        }
        Ok(total)
    }

    /// One round of [`App::write_back_pass`]: what it did, and how many newer wants its sends
    /// released.
    async fn write_back_round(&self) -> Result<(Dispatched, usize), PortError> {
        let mut d = Dispatched::default();
        let mut released = 0;
        let Some(client) = self.crm.clone() else {
            return Ok((d, 0));
        };
        let mut paused: BTreeMap<Source, DateTime<Utc>> = BTreeMap::new();
        for w in self.store.due_write_backs(self.clock.now(), BATCH).await? {
            let record = record_of(&w.lead_id);
            if let Some(until) = record.as_ref().and_then(|r| paused.get(&r.crm)) {
                let mut later = w.next();
                later.next_attempt_at = *until;
                self.store.save_write_back(&later, Some(w.revision)).await?;
                continue;
            }
            let mut leased = w.next();
            leased.next_attempt_at = self.clock.now() + LEASE;
            if !self.store.save_write_back(&leased, Some(w.revision)).await? {
                continue; // another pass took it, or the figures changed since
            }
            let outcome = match &record {
                Some(r) => client.write(r, &w.figures).await,
                None => Err(WriteError {
                    message: "the lead is not a CRM record".into(),
                    retry_after: None,
                    permanent: true,
                }),
            };
            let mut done = leased.next();
            match outcome {
                Ok(()) => {
                    done.status = OutboxStatus::Sent;
                    done.attempts += 1;
                    done.sent_at = Some(self.clock.now());
                    done.last_error = None;
                    done.backoff_until = None;
                    d.sent += 1;
                }
                Err(e) => {
                    done.failed(&e.message, e.retry_after, e.permanent, self.clock.now());
                    if let (Some(r), Some(_)) = (&record, e.retry_after) {
                        paused.insert(r.crm, done.next_attempt_at);
                    }
                    let dead = done.status == OutboxStatus::Dead;
                    tracing::warn!(lead_id = %w.lead_id, attempts = done.attempts, dead, error = %e, "write-back failed");
                    if dead {
                        d.dead += 1;
                    } else {
                        d.retrying += 1;
                    }
                }
            }
            // `false`: the figures changed during the send; the newer want waited for this
            // send's lease, and goes now that the send is over.
            if !self.store.save_write_back(&done, Some(leased.revision)).await?
                && self.release_newer(&w.lead_id, &done).await?
            {
                released += 1;
            }
        }
        Ok((d, released))
    }

    /// A want saved during a send waits for the send's lease (so the older figures cannot
    /// land last); once the send is over it is due at once, or, when the send failed, after
    /// the wait that failure earned, carrying its count (so a lead whose figures change during
    /// every failing send still backs off, and is dead-lettered in the end).
    async fn release_newer(&self, lead: &leadclock_domain::LeadId, done: &WriteBack) -> Result<bool, PortError> {
        let not_before = done.backoff_until.unwrap_or_else(|| self.clock.now());
        let Some(newer) = self.store.write_back(lead).await? else {
            return Ok(false);
        };
        if newer.status != OutboxStatus::Pending || newer.next_attempt_at <= not_before {
            return Ok(false);
        }
        let mut due = newer.next();
        due.next_attempt_at = not_before;
        if done.status != OutboxStatus::Sent {
            due.attempts = due.attempts.max(done.attempts);
            due.backoff_until = done.backoff_until;
            due.last_error.clone_from(&done.last_error);
        }
        // `false`: another change or pass saved first; it set its own time.
        self.store.save_write_back(&due, Some(newer.revision)).await
    }
}
