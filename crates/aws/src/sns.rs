//! SNS channel: escalations as JSON with message attributes for subscription filters (the
//! durable hand-off on AWS: Slack and email subscribe to the topic), and the nightly summary
//! to the metrics topic.

use crate::error::port_err;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use leadclock_app::error::PortError;
use leadclock_app::message::{EscalationMessage, Published};
use leadclock_app::outbox::{Channel, OutboxMessage, SendFailure};
use leadclock_app::ports::Notifier;
use leadclock_domain::steps::StepStatus;
use serde_json::Value;

#[derive(Clone)]
pub struct SnsNotifier {
    client: Client,
    escalation_topic: String,
    metrics_topic: String,
}

impl SnsNotifier {
    pub fn new(client: Client, escalation_topic: String, metrics_topic: String) -> Self {
        Self {
            client,
            escalation_topic,
            metrics_topic,
        }
    }
}

fn attr(kind: &str, value: impl Into<String>) -> Result<MessageAttributeValue, SendFailure> {
    MessageAttributeValue::builder()
        .data_type(kind)
        .string_value(value)
        .build()
        .map_err(|e| SendFailure {
            permanent: true,
            ..SendFailure::retry(e.to_string())
        })
}

/// Roles a step notifies, as an SNS String.Array: `["owner","manager"]`.
fn roles(m: &EscalationMessage) -> String {
    let mut roles: Vec<&str> = m.recipients.iter().map(|r| r.role.as_str()).collect();
    roles.dedup();
    serde_json::to_string(&roles).unwrap_or_else(|_| "[]".into())
}

impl Notifier for SnsNotifier {
    /// Only delivered steps are published; the other outcomes stay in the table.
    fn channels_for(&self, status: StepStatus) -> Vec<Channel> {
        if status == StepStatus::Delivering {
            vec![Channel::Sns]
        } else {
            Vec::new()
        }
    }

    async fn send(&self, message: &OutboxMessage) -> Result<(), SendFailure> {
        let Some(Published::Escalation(m)) = Published::parse(&message.payload) else {
            return Err(SendFailure {
                permanent: true,
                ..SendFailure::retry("not an escalation message")
            });
        };
        let subject: String = format!("leadclock: lead {} {} step {}", m.lead_id, m.clock.as_str(), m.step)
            .chars()
            .take(100)
            .collect();
        self.client
            .publish()
            .topic_arn(&self.escalation_topic)
            .subject(subject)
            .message(&message.payload)
            .message_attributes("step", attr("Number", m.step.to_string())?)
            .message_attributes("role", attr("String.Array", roles(&m))?)
            .message_attributes("lead_type", attr("String", &m.lead_type)?)
            .message_attributes("severity", attr("String", m.severity.as_str())?)
            .message_attributes("owner", attr("String", m.owner.as_deref().unwrap_or("unassigned"))?)
            .message_attributes("clock", attr("String", m.clock.as_str())?)
            .message_attributes("idempotency_key", attr("String", &m.idempotency_key)?)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| SendFailure::retry(port_err("publish escalation", e).to_string()))
    }

    async fn publish_rollup(&self, day: &str, summary: &str, _report: &Value) -> Result<(), PortError> {
        // The full report is stored in the table; the topic carries the readable summary.
        self.client
            .publish()
            .topic_arn(&self.metrics_topic)
            .subject(format!("leadclock daily rollup {day}"))
            .message(summary)
            .message_attributes(
                "type",
                attr("String", "rollup").map_err(|e| PortError::new("publish rollup", e.message))?,
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|err| port_err("publish rollup", err))
    }
}
