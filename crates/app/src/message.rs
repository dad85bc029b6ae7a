//! How an escalation looks on the wire: JSON for files, queues and webhooks, Block Kit for Slack.
//! Shared by the local notifier and the AWS functions so every channel says the same thing.

use chrono::SecondsFormat;
use leadclock_domain::clock::{human_duration, Escalation};
use serde_json::{json, Value};

/// The JSON document sent to files, generic webhooks and SNS.
pub fn escalation_json(e: &Escalation) -> Value {
    json!({
        "type": "leadclock.escalation",
        "lead_id": e.lead_id.as_str(),
        "cycle": e.cycle,
        "clock": e.clock.as_str(),
        "step": e.step + 1,
        "step_name": e.step_name,
        "steps_total": e.steps_total,
        "severity": e.severity,
        "lead_type": e.lead_type,
        "lead_type_label": e.lead_type_label,
        "owner": e.owner,
        "recipients": e.recipients,
        "engaged_at": e.engaged_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "clock_started_at": e.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "deadline": e.deadline.to_rfc3339_opts(SecondsFormat::Secs, true),
        "due_at": e.due_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "age_seconds": e.age_seconds,
        "text": e.line(),
    })
}

fn mention(r: &leadclock_domain::clock::Recipient) -> String {
    match &r.slack {
        Some(id) => format!("<@{id}>"),
        None => r.name.clone().unwrap_or_else(|| r.id.clone()),
    }
}

/// A Slack incoming-webhook payload: lead, type, owner, age, deadline, step.
pub fn slack_payload(e: &Escalation) -> Value {
    let icon = match e.severity {
        "critical" => ":rotating_light:",
        "high" => ":warning:",
        _ => ":alarm_clock:",
    };
    let what = match e.clock {
        leadclock_domain::ClockKind::Assignment => "is still unassigned",
        leadclock_domain::ClockKind::Response => "has no first touch yet",
    };
    let who: Vec<String> = e.recipients.iter().map(mention).collect();
    let headline = format!("{icon} Lead {} ({}) {what}", e.lead_id, e.lead_type_label_or_type());
    json!({
        "text": e.line(),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline.chars().take(150).collect::<String>(), "emoji": true}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": format!("*Lead*\n`{}`", e.lead_id)},
                {"type": "mrkdwn", "text": format!("*Type*\n{}", e.lead_type_label_or_type())},
                {"type": "mrkdwn", "text": format!("*Owner*\n{}", e.owner.as_deref().unwrap_or("unassigned"))},
                {"type": "mrkdwn", "text": format!("*Age*\n{}", human_duration(e.age_seconds))},
                {"type": "mrkdwn", "text": format!("*Deadline*\n<!date^{}^{{date_short_pretty}} {{time}}|{}>", e.deadline.timestamp(), e.deadline.to_rfc3339_opts(SecondsFormat::Secs, true))},
                {"type": "mrkdwn", "text": format!("*Step*\n{}/{} {} ({})", e.step + 1, e.steps_total, e.step_name, e.severity)},
            ]},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("Notifying {} · {} clock · cycle {}", who.join(", "), e.clock.as_str(), e.cycle)}
            ]}
        ]
    })
}

trait Label {
    fn lead_type_label_or_type(&self) -> &str;
}

impl Label for Escalation {
    fn lead_type_label_or_type(&self) -> &str {
        if self.lead_type_label.is_empty() {
            &self.lead_type
        } else {
            &self.lead_type_label
        }
    }
}
