//! Local escalation sinks: a readable line on stdout, a JSON line in the data dir, and,
//! when configured, Slack and a generic webhook.
//!
//! `notify` returns once the line is written to the JSON-lines file: that file is the durable
//! record. Webhooks are posted in the background, each on its own with retries, so a slow or
//! failing one never blocks the others or the caller.

use leadclock_app::error::PortError;
use leadclock_app::message::{escalation_json, slack_payload, slack_rollup};
use leadclock_app::ports::Notifier;
use leadclock_domain::clock::Escalation;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Attempts per webhook delivery, with doubling back-off from [`FIRST_BACKOFF`].
pub const WEBHOOK_ATTEMPTS: u32 = 4;
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Webhook destinations. The URLs are secrets: they come from the environment and are never logged.
#[derive(Clone, Default)]
pub struct Webhooks {
    pub slack_url: Option<String>,
    pub generic_url: Option<String>,
}

impl Webhooks {
    /// Reads `LEADCLOCK_SLACK_WEBHOOK_URL` and `LEADCLOCK_WEBHOOK_URL`.
    pub fn from_env() -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            slack_url: get("LEADCLOCK_SLACK_WEBHOOK_URL"),
            generic_url: get("LEADCLOCK_WEBHOOK_URL"),
        }
    }
}

#[derive(Clone)]
pub struct LocalNotifier {
    jsonl: PathBuf,
    file_lock: Arc<Mutex<()>>,
    hooks: Webhooks,
    http: reqwest::Client,
    print: bool,
}

impl LocalNotifier {
    pub fn new(data_dir: &std::path::Path, hooks: Webhooks, print: bool) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("leadclock/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            jsonl: data_dir.join("escalations.jsonl"),
            file_lock: Arc::new(Mutex::new(())),
            hooks,
            http,
            print,
        }
    }

    pub fn jsonl_path(&self) -> &std::path::Path {
        &self.jsonl
    }

    fn append_line(&self, path: &std::path::Path, doc: &Value) -> Result<(), PortError> {
        let _guard = self.file_lock.lock().unwrap_or_else(|p| p.into_inner());
        let fail = |e: std::io::Error| PortError::new("append JSON line", format!("{}: {e}", path.display()));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(fail)?;
        let mut line = doc.to_string();
        line.push('\n');
        f.write_all(line.as_bytes()).and_then(|()| f.sync_data()).map_err(fail)
    }
}

/// Posts `body` to `url`, retrying failures with back-off. Logs the sink name, never the URL.
pub async fn post_with_retries(
    http: reqwest::Client,
    sink: &'static str,
    url: String,
    body: Value,
    lead_id: String,
) -> bool {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        match http.post(&url).json(&body).send().await {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => tracing::warn!(lead_id = %lead_id, sink, attempt, status = r.status().as_u16(), "webhook refused"),
            Err(e) => tracing::warn!(lead_id = %lead_id, sink, attempt, error = %e.without_url(), "webhook failed"),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    tracing::error!(lead_id = %lead_id, sink, "webhook gave up after {WEBHOOK_ATTEMPTS} attempts");
    false
}

impl Notifier for LocalNotifier {
    async fn notify(&self, e: &Escalation) -> Result<(), PortError> {
        let doc = escalation_json(e);
        let this = self.clone();
        let doc2 = doc.clone();
        tokio::task::spawn_blocking(move || this.append_line(&this.jsonl, &doc2))
            .await
            .map_err(|j| PortError::new("write escalations.jsonl", j.to_string()))??;
        if self.print {
            println!("{}", e.line());
        }
        let lead = e.lead_id.to_string();
        if let Some(url) = &self.hooks.slack_url {
            tokio::spawn(post_with_retries(
                self.http.clone(),
                "slack",
                url.clone(),
                slack_payload(&doc),
                lead.clone(),
            ));
        }
        if let Some(url) = &self.hooks.generic_url {
            tokio::spawn(post_with_retries(self.http.clone(), "webhook", url.clone(), doc, lead));
        }
        Ok(())
    }

    async fn publish_rollup(&self, day: &str, summary: &str, report: &Value) -> Result<(), PortError> {
        let doc = serde_json::json!({"type": "leadclock.rollup", "day": day, "summary": summary, "report": report});
        let this = self.clone();
        let path = self.jsonl.with_file_name("rollups.jsonl");
        tokio::task::spawn_blocking(move || this.append_line(&path, &doc))
            .await
            .map_err(|j| PortError::new("write rollups.jsonl", j.to_string()))??;
        if self.print {
            println!("{summary}");
        }
        if let Some(url) = &self.hooks.slack_url {
            tokio::spawn(post_with_retries(
                self.http.clone(),
                "slack",
                url.clone(),
                slack_rollup(summary),
                format!("rollup:{day}"),
            ));
        }
        Ok(())
    }
}
