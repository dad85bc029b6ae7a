//! The `slack-notify` function: SNS messages (escalations and rollup summaries) to a Slack
//! incoming webhook. The webhook URL is a secret read once from SSM Parameter Store
//! (SecureString); it never appears in the template, the code or the logs.

use leadclock_app::message::{slack_payload, slack_rollup, Published};
use leadclock_app::outbox::backoff;
use serde_json::Value;

pub const ATTEMPTS: u32 = 3;

/// The Slack body for one SNS message: Block Kit for an escalation, a code block otherwise.
pub fn payload_for(message: &str) -> Value {
    match Published::parse(message) {
        Some(Published::Escalation(m)) => slack_payload(&m),
        _ => slack_rollup(message),
    }
}

/// Messages in an SNS → Lambda event.
pub fn messages(event: &Value) -> Vec<String> {
    event
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records
                .iter()
                .filter_map(|r| r.pointer("/Sns/Message").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Posts with retries; an error makes the Lambda fail, so SNS retries the delivery too.
pub async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match http.post(url).json(body).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("Slack answered {}", r.status().as_u16()),
            Err(e) => last = format!("Slack unreachable: {}", e.without_url()),
        }
        tracing::warn!(attempt, error = %last, "Slack post failed");
        if attempt < ATTEMPTS {
            tokio::time::sleep(
                backoff(attempt - 1, None, u64::from(attempt) * 7919)
                    .to_std()
                    .unwrap_or_default(),
            )
            .await;
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalations_become_block_kit_and_summaries_text() {
        let esc = serde_json::json!({"type": "leadclock.escalation", "idempotency_key": "L-1:1:response:1",
            "outcome": "delivered", "lead_id": "L-1", "cycle": 1, "clock": "response", "step": 1, "step_name": "owner",
            "steps_total": 3, "severity": "warning", "lead_type": "demo_request", "lead_type_label": "Demo",
            "owner": "alice", "recipients": [], "engaged_at": "2026-11-23T15:00:00Z",
            "clock_started_at": "2026-11-23T15:00:00Z", "deadline": "2026-11-23T15:05:00Z",
            "due_at": "2026-11-23T15:05:00Z", "age_seconds": 300, "text": "ESCALATION"});
        let p = payload_for(&esc.to_string());
        assert_eq!(p["blocks"][0]["type"], "header");
        let s = payload_for("leadclock daily rollup 2026-11-22\nMQLs 3");
        assert!(s["text"].as_str().unwrap().contains("MQLs 3"));
        let event = serde_json::json!({"Records": [{"Sns": {"Message": "a"}}, {"Sns": {"Message": "b"}}]});
        assert_eq!(messages(&event), vec!["a", "b"]);
    }
}
