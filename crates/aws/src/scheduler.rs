//! EventBridge Scheduler timers: one one-time `at()` schedule per pending escalation step, in a
//! dedicated group, deleted after it fires, with a retry policy and a dead-letter queue.
//!
//! Names are deterministic per lead, cycle, clock, step and due instant, so a retried create is
//! harmless (ConflictException means "already armed"). Scheduler fires with one-minute precision.

use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use aws_sdk_scheduler::Client;
use chrono::{DateTime, Duration, Utc};
use leadclock_app::error::PortError;
use leadclock_app::ports::Timers;
use leadclock_domain::steps::Timer;
use leadclock_domain::LeadId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Scheduler retries a failed invocation of `escalate` this many times before the DLQ.
pub const RETRY_ATTEMPTS: i32 = 5;
/// How long Scheduler keeps retrying an event.
pub const MAX_EVENT_AGE_SECONDS: i32 = 3600;
/// The earliest a schedule may be set: a little ahead, so "now" is never in the past on arrival.
const MIN_LEAD: Duration = Duration::seconds(2);

/// What the `escalate` function is invoked with: a one-time schedule's timer, or the sweep
/// (`{"sweep": true}`, from the template's rate schedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EscalateInput {
    Timer(Timer),
    /// A hand-made invocation naming only the lead.
    Lead {
        lead_id: LeadId,
    },
    Sweep {
        sweep: bool,
    },
}

#[derive(Clone)]
pub struct SchedulerTimers {
    client: Client,
    group: String,
    target_arn: String,
    role_arn: String,
    dlq_arn: String,
}

/// `lc-` and 40 hex characters of SHA-256 over lead, cycle, clock, step and due second: valid,
/// stable for a retried create, and new for a retry at a later instant (a schedule that is
/// firing cannot be replaced under the same name).
pub fn schedule_name(t: &Timer) -> String {
    let digest = Sha256::digest(format!("{}\n{}\n{}", t.key(), t.step, t.due_at.timestamp()).as_bytes());
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("lc-{hex}")
}

/// `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the next whole second.
pub fn at_expression(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let t = due.max(now + MIN_LEAD);
    let whole = if t.timestamp_subsec_nanos() > 0 {
        t.timestamp() + 1
    } else {
        t.timestamp()
    };
    let t = DateTime::<Utc>::from_timestamp(whole, 0).unwrap_or(t);
    format!("at({})", t.format("%Y-%m-%dT%H:%M:%S"))
}

impl SchedulerTimers {
    pub fn new(client: Client, group: String, target_arn: String, role_arn: String, dlq_arn: String) -> Self {
        Self {
            client,
            group,
            target_arn,
            role_arn,
            dlq_arn,
        }
    }
}

impl Timers for SchedulerTimers {
    async fn schedule(&self, timer: &Timer) -> Result<(), PortError> {
        let input = serde_json::to_string(&EscalateInput::Timer(timer.clone()))
            .map_err(|e| PortError::permanent("create schedule", e))?;
        let target = Target::builder()
            .arn(&self.target_arn)
            .role_arn(&self.role_arn)
            .input(input)
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(RETRY_ATTEMPTS)
                    .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECONDS)
                    .build(),
            )
            .dead_letter_config(DeadLetterConfig::builder().arn(&self.dlq_arn).build())
            .build()
            .map_err(|e| PortError::new("create schedule", e.to_string()))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| PortError::new("create schedule", e.to_string()))?;
        let name = schedule_name(timer);
        let result = with_retries("create schedule", || {
            self.client
                .create_schedule()
                .name(&name)
                .group_name(&self.group)
                .schedule_expression(at_expression(timer.due_at, Utc::now()))
                .schedule_expression_timezone("UTC")
                .flexible_time_window(window.clone())
                .target(target.clone())
                .action_after_completion(ActionAfterCompletion::Delete)
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_scheduler::operation::create_schedule::CreateScheduleError::is_conflict_exception,
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(port_err("create schedule", e)),
        }
    }

    async fn cancel(&self, timer: &Timer) -> Result<(), PortError> {
        let name = schedule_name(timer);
        let result = with_retries("delete schedule", || {
            self.client.delete_schedule().name(&name).group_name(&self.group).send()
        })
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_scheduler::operation::delete_schedule::DeleteScheduleError::is_resource_not_found_exception,
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(port_err("delete schedule", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_domain::{ClockKind, LeadId};

    #[test]
    fn names_are_stable_valid_and_distinct() {
        let t = Timer {
            lead_id: LeadId::parse("00Q5e:weird@id!").unwrap(),
            cycle: 1,
            clock: ClockKind::Response,
            step: 0,
            due_at: Utc::now(),
        };
        let a = schedule_name(&t);
        assert_eq!(a, schedule_name(&t));
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert_ne!(a, schedule_name(&Timer { step: 1, ..t.clone() }));
        assert_ne!(
            a,
            schedule_name(&Timer {
                due_at: t.due_at + Duration::seconds(30),
                ..t.clone()
            })
        );
    }

    #[test]
    fn at_expressions_are_whole_seconds_and_never_past() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T15:00:00.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let due = DateTime::parse_from_rfc3339("2026-11-23T15:05:00.100Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(at_expression(due, now), "at(2026-11-23T15:05:01)");
        assert_eq!(at_expression(now - Duration::hours(1), now), "at(2026-11-23T15:00:03)");
    }
}
