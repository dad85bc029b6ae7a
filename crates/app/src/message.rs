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

fn text<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or("")
}

fn mention(r: &Value) -> String {
    match r.get("slack").and_then(Value::as_str) {
        Some(id) => format!("<@{id}>"),
        None => r
            .get("name")
            .and_then(Value::as_str)
            .or(r.get("id").and_then(Value::as_str))
            .unwrap_or("?")
            .to_owned(),
    }
}

/// A Slack incoming-webhook payload (Block Kit: lead, type, owner, age, deadline, step) built
/// from an [`escalation_json`] document, so a subscriber can render what a publisher sent.
pub fn slack_payload(doc: &Value) -> Value {
    let icon = match text(doc, "severity") {
        "critical" => ":rotating_light:",
        "high" => ":warning:",
        _ => ":alarm_clock:",
    };
    let what = if text(doc, "clock") == "assignment" {
        "is still unassigned"
    } else {
        "has no first touch yet"
    };
    let label = match text(doc, "lead_type_label") {
        "" => text(doc, "lead_type"),
        l => l,
    };
    let lead = text(doc, "lead_id");
    let owner = doc.get("owner").and_then(Value::as_str).unwrap_or("unassigned");
    let age = human_duration(doc.get("age_seconds").and_then(Value::as_i64).unwrap_or(0));
    let deadline = text(doc, "deadline");
    let deadline_ts = chrono::DateTime::parse_from_rfc3339(deadline)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let who: Vec<String> = doc
        .get("recipients")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(mention).collect())
        .unwrap_or_default();
    let headline: String = format!("{icon} Lead {lead} ({label}) {what}")
        .chars()
        .take(150)
        .collect();
    json!({
        "text": text(doc, "text"),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline, "emoji": true}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": format!("*Lead*\n`{lead}`")},
                {"type": "mrkdwn", "text": format!("*Type*\n{label}")},
                {"type": "mrkdwn", "text": format!("*Owner*\n{owner}")},
                {"type": "mrkdwn", "text": format!("*Age*\n{age}")},
                {"type": "mrkdwn", "text": format!("*Deadline*\n<!date^{deadline_ts}^{{date_short_pretty}} {{time}}|{deadline}>")},
                {"type": "mrkdwn", "text": format!("*Step*\n{}/{} {} ({})", doc["step"], doc["steps_total"], text(doc, "step_name"), text(doc, "severity"))},
            ]},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("Notifying {} · {} clock · cycle {}", who.join(", "), text(doc, "clock"), doc["cycle"])}
            ]}
        ]
    })
}

/// A Slack payload for a nightly rollup summary.
pub fn slack_rollup(summary: &str) -> Value {
    json!({"text": format!("```{summary}```")})
}
