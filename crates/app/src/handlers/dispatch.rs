//! The dispatcher: sends what the outbox holds, each message until its channel accepts it,
//! with exponential backoff and jitter between attempts and a dead letter after
//! [`MAX_ATTEMPTS`]. Both hosts run it: the local server in a background task, the AWS
//! escalate function after each pass and in its sweep.

use crate::error::PortError;
use crate::outbox::{backoff, salt, OutboxMessage, OutboxStatus, MAX_ATTEMPTS};
use crate::ports::{Clock, Notifier, Outbox, WriteBacks};
use crate::App;
use chrono::{DateTime, Utc};

/// What one dispatch pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// How many messages one pass takes at most.
pub const BATCH: usize = 100;

/// How long a pass holds a message it is sending: longer than any channel's send (timeouts
/// included); if the pass dies, the message is due again after it.
pub const LEASE: chrono::Duration = chrono::Duration::minutes(2);

impl<S, T, N, C> App<S, T, N, C>
where
    S: Outbox + WriteBacks,
    N: Notifier,
    C: Clock,
{
    /// Sends every message due now, channel by channel concurrently and in order within one,
    /// then the CRM write-backs due.
    pub async fn dispatch(&self) -> Result<Dispatched, PortError> {
        let now = self.clock.now();
        let due = self.store.due_messages(now, BATCH).await?;
        let mut by_channel: std::collections::BTreeMap<_, Vec<OutboxMessage>> = Default::default();
        for m in due {
            by_channel.entry(m.channel).or_default().push(m);
        }
        let passes = by_channel.into_values().map(|msgs| self.send_in_order(msgs));
        let mut total = Dispatched::default();
        for d in futures_util::future::join_all(passes).await {
            let d = d?;
            total.sent += d.sent;
            total.retrying += d.retrying;
            total.dead += d.dead;
        }
        let w = self.write_back_pass().await?;
        Ok(Dispatched {
            sent: total.sent + w.sent,
            retrying: total.retrying + w.retrying,
            dead: total.dead + w.dead,
        })
    }

    /// The messages of one channel, one after another (a channel paces itself).
    async fn send_in_order(&self, msgs: Vec<OutboxMessage>) -> Result<Dispatched, PortError> {
        let mut d = Dispatched::default();
        for mut m in msgs {
            let until = self.clock.now() + LEASE;
            if !self.store.lease_message(&m, until).await? {
                continue; // another pass took it
            }
            m.next_attempt_at = until;
            match self.notifier.send(&m).await {
                Ok(()) => {
                    m.attempts += 1;
                    m.status = OutboxStatus::Sent;
                    m.sent_at = Some(self.clock.now());
                    m.last_error = None;
                    d.sent += 1;
                    crate::telemetry::escalation_delivered(&m.step, m.channel);
                }
                Err(f) => {
                    let dead = f.permanent || m.attempts + 1 >= MAX_ATTEMPTS;
                    failed(&mut m, &f.message, f.retry_after, dead, self.clock.now());
                    tracing::warn!(lead_id = %m.lead_id, step = %m.step, channel = m.channel.as_str(), attempts = m.attempts, dead, error = %f, "delivery failed");
                    crate::telemetry::delivery_failed(m.channel, dead);
                    if dead {
                        d.dead += 1;
                    } else {
                        d.retrying += 1;
                    }
                }
            }
            self.store.update_message(&m).await?;
        }
        Ok(d)
    }
}

fn failed(m: &mut OutboxMessage, error: &str, retry_after: Option<chrono::Duration>, dead: bool, now: DateTime<Utc>) {
    let wait = backoff(m.attempts, retry_after, salt(m));
    m.attempts += 1;
    m.last_error = Some(error.chars().take(500).collect());
    if dead {
        m.status = OutboxStatus::Dead;
    } else {
        m.next_attempt_at = now + wait;
    }
}
