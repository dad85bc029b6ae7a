//! How a step looks on the wire: one typed document per kind, for files, queues and webhooks,
//! and Block Kit for Slack. Every channel of both hosts renders from these types.

use chrono::{DateTime, SecondsFormat, Utc};
use leadclock_domain::clock::{human_duration, Escalation, Recipient, Severity};
use leadclock_domain::steps::{StepRecord, StepStatus};
use leadclock_domain::{ClockKind, LeadId};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};

/// `type` of an escalation document.
pub const ESCALATION_TYPE: &str = "leadclock.escalation";
/// `type` of a step-outcome document (a step recorded but not delivered).
pub const OUTCOME_TYPE: &str = "leadclock.step_outcome";

fn secs<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The escalation a delivered step sends: to the JSON-lines file, webhooks and SNS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationMessage {
    #[serde(rename = "type")]
    pub kind: String,
    /// The step's id across leads: receivers drop repeats of it (every channel but the
    /// JSON-lines file is at-least-once).
    pub idempotency_key: String,
    pub outcome: StepStatus,
    pub lead_id: LeadId,
    pub cycle: u32,
    pub clock: ClockKind,
    /// 1-based, as people count.
    pub step: u32,
    pub step_name: String,
    pub steps_total: u32,
    pub severity: Severity,
    pub lead_type: String,
    pub lead_type_label: String,
    pub owner: Option<String>,
    pub recipients: Vec<Recipient>,
    #[serde(serialize_with = "secs")]
    pub engaged_at: DateTime<Utc>,
    #[serde(serialize_with = "secs")]
    pub clock_started_at: DateTime<Utc>,
    #[serde(serialize_with = "secs")]
    pub deadline: DateTime<Utc>,
    #[serde(serialize_with = "secs")]
    pub due_at: DateTime<Utc>,
    pub age_seconds: i64,
    /// One readable line, free of contact data.
    pub text: String,
}

impl EscalationMessage {
    pub fn of(e: &Escalation) -> Self {
        EscalationMessage {
            kind: ESCALATION_TYPE.into(),
            idempotency_key: e.key.global_id(&e.lead_id),
            outcome: StepStatus::Delivered,
            lead_id: e.lead_id.clone(),
            cycle: e.key.cycle,
            clock: e.key.clock,
            step: e.key.step + 1,
            step_name: e.step_name.clone(),
            steps_total: e.steps_total,
            severity: e.severity,
            lead_type: e.lead_type.clone(),
            lead_type_label: e.lead_type_label.clone(),
            owner: e.owner.clone(),
            recipients: e.recipients.clone(),
            engaged_at: e.engaged_at,
            clock_started_at: e.started_at,
            deadline: e.deadline,
            due_at: e.due_at,
            age_seconds: e.age_seconds,
            text: e.line(),
        }
    }
}

/// A step recorded with an outcome other than `delivered`: the JSON-lines file keeps a line
/// for every step, so it is the whole local record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub idempotency_key: String,
    pub outcome: StepStatus,
    pub reason: String,
    pub lead_id: LeadId,
    pub cycle: u32,
    pub clock: ClockKind,
    pub step: u32,
    #[serde(serialize_with = "secs")]
    pub due_at: DateTime<Utc>,
    #[serde(serialize_with = "secs")]
    pub decided_at: DateTime<Utc>,
}

impl OutcomeMessage {
    pub fn of(lead: &LeadId, r: &StepRecord) -> Self {
        OutcomeMessage {
            kind: OUTCOME_TYPE.into(),
            idempotency_key: r.key.global_id(lead),
            outcome: r.status,
            reason: r.reason.clone(),
            lead_id: lead.clone(),
            cycle: r.key.cycle,
            clock: r.key.clock,
            step: r.key.step + 1,
            due_at: r.due_at,
            decided_at: r.at,
        }
    }
}

/// What a message on the escalation topic or in a webhook body can be.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Published {
    Escalation(Box<EscalationMessage>),
    Outcome(OutcomeMessage),
}

impl Published {
    pub fn parse(text: &str) -> Option<Published> {
        let p: Published = serde_json::from_str(text).ok()?;
        let kind = match &p {
            Published::Escalation(e) => e.kind.as_str(),
            Published::Outcome(o) => o.kind.as_str(),
        };
        (kind == ESCALATION_TYPE || kind == OUTCOME_TYPE).then_some(p)
    }
}

/// Escapes the three characters Slack's mrkdwn treats as control (`&`, `<`, `>`), so user
/// text can never mention `@channel`, a user, or forge a link.
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Slack member id as Slack issues them: only these become mentions.
fn is_slack_id(s: &str) -> bool {
    s.len() >= 2
        && s.len() <= 20
        && s.starts_with(['U', 'W'])
        && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn mention(r: &Recipient) -> String {
    match r.slack.as_deref().filter(|id| is_slack_id(id)) {
        Some(id) => format!("<@{id}>"),
        None => slack_escape(r.name.as_deref().unwrap_or(&r.id)),
    }
}

fn text(s: &str) -> Value {
    // `verbatim` keeps Slack from turning bare URLs or channel names in user text into links.
    json!({"type": "mrkdwn", "text": s, "verbatim": true})
}

/// A Slack incoming-webhook payload (Block Kit: lead, type, owner, age, deadline, step).
pub fn slack_payload(m: &EscalationMessage) -> Value {
    let icon = match m.severity {
        Severity::Critical => ":rotating_light:",
        Severity::High => ":warning:",
        Severity::Warning => ":alarm_clock:",
    };
    let what = if m.clock == ClockKind::Assignment {
        "is still unassigned"
    } else {
        "has no first touch yet"
    };
    let label = if m.lead_type_label.is_empty() {
        &m.lead_type
    } else {
        &m.lead_type_label
    };
    let lead = slack_escape(m.lead_id.as_str());
    let owner = slack_escape(m.owner.as_deref().unwrap_or("unassigned"));
    let deadline = m.deadline.to_rfc3339_opts(SecondsFormat::Secs, true);
    let who: Vec<String> = m.recipients.iter().map(mention).collect();
    // Header text is plain_text, rendered literally; angle brackets are still replaced so no
    // client ever reads user text there as a mention.
    let plain = |s: &str| s.replace('<', "‹").replace('>', "›");
    let headline: String = format!("{icon} Lead {} ({}) {what}", m.lead_id, plain(label))
        .chars()
        .take(150)
        .collect();
    json!({
        "text": slack_escape(&m.text),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline, "emoji": true}},
            {"type": "section", "fields": [
                text(&format!("*Lead*\n`{lead}`")),
                text(&format!("*Type*\n{}", slack_escape(label))),
                text(&format!("*Owner*\n{owner}")),
                text(&format!("*Age*\n{}", human_duration(m.age_seconds))),
                text(&format!("*Deadline*\n<!date^{}^{{date_short_pretty}} {{time}}|{deadline}>", m.deadline.timestamp())),
                text(&format!("*Step*\n{}/{} {} ({})", m.step, m.steps_total, slack_escape(&m.step_name), m.severity.as_str())),
            ]},
            {"type": "context", "elements": [
                text(&format!("Notifying {} · {} clock · cycle {}", who.join(", "), m.clock.as_str(), m.cycle))
            ]}
        ]
    })
}

/// A Slack payload for a nightly rollup summary.
pub fn slack_rollup(summary: &str) -> Value {
    json!({"text": format!("```{}```", slack_escape(summary))})
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_domain::policy::Role;

    fn message(owner: &str, label: &str, recipients: Vec<Recipient>) -> EscalationMessage {
        let t = DateTime::parse_from_rfc3339("2026-11-23T15:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        EscalationMessage {
            kind: ESCALATION_TYPE.into(),
            idempotency_key: "L-1:1:response:1".into(),
            outcome: StepStatus::Delivered,
            lead_id: LeadId::parse("L-1").unwrap(),
            cycle: 1,
            clock: ClockKind::Response,
            step: 1,
            step_name: "owner".into(),
            steps_total: 3,
            severity: Severity::Warning,
            lead_type: "demo_request".into(),
            lead_type_label: label.into(),
            owner: Some(owner.into()),
            recipients,
            engaged_at: t,
            clock_started_at: t,
            deadline: t,
            due_at: t,
            age_seconds: 300,
            text: format!("ESCALATION lead L-1 owner {owner}"),
        }
    }

    fn all_text(v: &Value) -> String {
        v.to_string()
    }

    #[test]
    fn user_text_cannot_ping_mention_or_link() {
        let evil = Recipient {
            id: "<!channel>".into(),
            role: Role::Owner,
            name: Some("<@U999|boss>".into()),
            slack: Some("<!here>".into()),
        };
        let m = message("<!channel> & <https://evil.example|click>", "<!everyone>", vec![evil]);
        let out = all_text(&slack_payload(&m));
        for forbidden in ["<!channel>", "<!everyone>", "<!here>", "<@U999", "<https://evil"] {
            assert!(!out.contains(forbidden), "{forbidden} in {out}");
        }
        assert!(out.contains("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"));
        // Only a directory id that looks like a Slack member id becomes a mention.
        let alice = Recipient {
            id: "alice".into(),
            role: Role::Owner,
            name: None,
            slack: Some("U012ABCDEF".into()),
        };
        assert!(all_text(&slack_payload(&message("alice", "", vec![alice]))).contains("<@U012ABCDEF>"));
    }

    #[test]
    fn documents_round_trip_and_are_told_apart() {
        let m = message("alice", "Demo", vec![]);
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"due_at\":\"2026-11-23T15:05:00Z\""), "{text}");
        assert_eq!(Published::parse(&text), Some(Published::Escalation(Box::new(m))));
        assert_eq!(Published::parse("leadclock daily rollup"), None);
        assert_eq!(Published::parse(r#"{"type":"other"}"#), None);
    }
}
