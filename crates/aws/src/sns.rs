//! SNS notifier: escalations as JSON with message attributes for subscription filters, and the
//! nightly summary to the metrics topic.

use crate::error::port_err;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use leadclock_app::error::PortError;
use leadclock_app::message::escalation_json;
use leadclock_app::ports::Notifier;
use leadclock_domain::clock::Escalation;
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

fn attr(kind: &str, value: impl Into<String>) -> Result<MessageAttributeValue, PortError> {
    MessageAttributeValue::builder()
        .data_type(kind)
        .string_value(value)
        .build()
        .map_err(|e| PortError::new("publish", e.to_string()))
}

/// Roles a step notifies, as an SNS String.Array: `["owner","manager"]`.
fn roles(e: &Escalation) -> String {
    let mut roles: Vec<&str> = e.recipients.iter().map(|r| r.role).collect();
    roles.dedup();
    serde_json::to_string(&roles).unwrap_or_else(|_| "[]".into())
}

impl Notifier for SnsNotifier {
    async fn notify(&self, e: &Escalation) -> Result<(), PortError> {
        let body = escalation_json(e).to_string();
        self.client
            .publish()
            .topic_arn(&self.escalation_topic)
            .subject(
                format!("leadclock: lead {} {} step {}", e.lead_id, e.clock.as_str(), e.step + 1)
                    .chars()
                    .take(100)
                    .collect::<String>(),
            )
            .message(body)
            .message_attributes("step", attr("Number", (e.step + 1).to_string())?)
            .message_attributes("role", attr("String.Array", roles(e))?)
            .message_attributes("lead_type", attr("String", &e.lead_type)?)
            .message_attributes("severity", attr("String", e.severity)?)
            .message_attributes("owner", attr("String", e.owner.as_deref().unwrap_or("unassigned"))?)
            .message_attributes("clock", attr("String", e.clock.as_str())?)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| port_err("publish escalation", err))
    }

    async fn publish_rollup(&self, day: &str, summary: &str, _report: &Value) -> Result<(), PortError> {
        // The full report is stored in the table; the topic carries the readable summary.
        self.client
            .publish()
            .topic_arn(&self.metrics_topic)
            .subject(format!("leadclock daily rollup {day}"))
            .message(summary)
            .message_attributes("type", attr("String", "rollup")?)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| port_err("publish rollup", err))
    }
}
