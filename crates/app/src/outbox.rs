//! The delivery outbox: every outbound message of a step is written in the same store
//! transaction as the step's record, and a dispatcher sends it afterwards, retrying with
//! backoff until the channel accepts it or the message is dead-lettered. A claimed step is
//! therefore never lost: if the process dies after the claim, the message is still there.

use chrono::{DateTime, Duration, Utc};
use leadclock_domain::steps::StepKey;
use leadclock_domain::LeadId;
use serde::{Deserialize, Serialize};

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// `escalations.jsonl` in the local data dir: durable, written exactly once per step.
    Jsonl,
    /// A Slack incoming webhook.
    Slack,
    /// A generic HTTPS webhook.
    Webhook,
    /// The SNS escalation topic (AWS): durable.
    Sns,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Jsonl, Channel::Slack, Channel::Webhook, Channel::Sns];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Jsonl => "jsonl",
            Channel::Slack => "slack",
            Channel::Webhook => "webhook",
            Channel::Sns => "sns",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// A channel whose acceptance makes the step `delivered`: its record is kept for good.
    pub fn is_durable(self) -> bool {
        matches!(self, Channel::Jsonl | Channel::Sns)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sent,
    /// Gave up after [`MAX_ATTEMPTS`]: shown on `/healthz` and in reports until someone looks.
    Dead,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<OutboxStatus> {
        [OutboxStatus::Pending, OutboxStatus::Sent, OutboxStatus::Dead]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// One message of one step to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub lead_id: LeadId,
    pub step: StepKey,
    pub channel: Channel,
    /// The message as the channel sends it (JSON), fixed when the step was claimed.
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// When the dispatcher may try next (pending only).
    pub next_attempt_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// The last failure, for people (no secrets: channel adapters never put URLs here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl OutboxMessage {
    pub fn new(lead_id: LeadId, step: StepKey, channel: Channel, payload: String, now: DateTime<Utc>) -> Self {
        OutboxMessage {
            lead_id,
            step,
            channel,
            payload,
            status: OutboxStatus::Pending,
            attempts: 0,
            created_at: now,
            next_attempt_at: now,
            sent_at: None,
            last_error: None,
        }
    }

    /// `LEAD:CYCLE:CLOCK:STEP:CHANNEL`: unique, stable across retries.
    pub fn id(&self) -> String {
        format!("{}:{}", self.step.global_id(&self.lead_id), self.channel.as_str())
    }
}

/// Attempts before a message is dead-lettered. With [`backoff`] that is about 2 h 40 min of
/// retrying (1 s doubling to a 10-minute cap), enough to ride out a receiver's bad afternoon.
pub const MAX_ATTEMPTS: u32 = 24;
const FIRST_DELAY_SECONDS: i64 = 1;
const MAX_DELAY_SECONDS: i64 = 600;

/// The wait before attempt `attempts + 1`: exponential from 1 s, capped at 10 minutes, with
/// ±50% jitter from `salt` (so many failing messages do not retry in lockstep). A receiver's
/// own `Retry-After` wins when it asks for longer.
pub fn backoff(attempts: u32, retry_after: Option<Duration>, salt: u64) -> Duration {
    let base = FIRST_DELAY_SECONDS
        .saturating_mul(1_i64 << attempts.min(20))
        .min(MAX_DELAY_SECONDS);
    // Jitter in [0.5, 1.5) of the base, in milliseconds.
    let frac = (salt % 1000) as i64;
    let jittered = Duration::milliseconds(base * 500 + base * frac);
    match retry_after {
        Some(r) if r > jittered => r,
        _ => jittered,
    }
}

/// A send that did not go through.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendFailure {
    pub message: String,
    /// The receiver asked to wait this long (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// Retrying cannot help (e.g. the channel is not configured any more).
    pub permanent: bool,
}

impl SendFailure {
    pub fn retry(message: impl Into<String>) -> Self {
        SendFailure {
            message: message.into(),
            retry_after: None,
            permanent: false,
        }
    }
}

/// A cheap per-message number for jitter, from its id.
pub fn salt(msg: &OutboxMessage) -> u64 {
    salt_of(&msg.id(), msg.attempts)
}

/// The jitter salt of anything retried under an id (an outbox message, a CRM write-back).
pub fn salt_of(id: &str, attempts: u32) -> u64 {
    id.bytes().fold(u64::from(attempts), |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter_and_honours_retry_after() {
        let secs = |a, salt| backoff(a, None, salt).num_milliseconds() as f64 / 1000.0;
        assert_eq!(secs(0, 500), 1.0);
        assert_eq!(secs(3, 500), 8.0);
        assert_eq!(secs(30, 500), 600.0);
        for salt in 0..1000 {
            let s = secs(4, salt);
            assert!((8.0..24.0).contains(&s), "{s}");
        }
        let asked = Duration::seconds(120);
        assert_eq!(backoff(0, Some(asked), 0), asked);
        assert_eq!(backoff(12, Some(Duration::seconds(1)), 500), Duration::seconds(600));
        // The documented total: every wait summed stays within a few hours.
        let total: i64 = (0..MAX_ATTEMPTS).map(|a| backoff(a, None, 500).num_seconds()).sum();
        assert!((2 * 3600..4 * 3600).contains(&total), "{total}");
    }
}
