//! Local channels: a JSON line in the data dir for every step outcome (the durable record,
//! written exactly once per step), and, when configured, Slack and a generic webhook for the
//! steps delivered. A readable line goes to stdout when asked; a closed stdout is not an error.
//!
//! Sending is the dispatcher's job ([`leadclock_app::handlers::dispatch`]): the reconcile pass
//! only writes outbox messages and wakes it. Slack is paced to about one message a second per
//! webhook and its `Retry-After` is honoured; every receiver gets the step's id as an
//! `Idempotency-Key` header and an `idempotency_key` field, so repeats can be dropped.

use chrono::Duration as ChronoDuration;
use leadclock_app::error::PortError;
use leadclock_app::message::{slack_payload, slack_rollup, Published};
use leadclock_app::outbox::{backoff, Channel, OutboxMessage, SendFailure};
use leadclock_app::ports::Notifier;
use leadclock_domain::steps::StepStatus;
use serde_json::Value;
use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Slack's incoming webhooks take about one message a second.
pub const SLACK_SPACING: Duration = Duration::from_secs(1);
/// How much of the end of `escalations.jsonl` start-up reads to find lines written just
/// before a crash (the dispatcher writes a bounded batch at a time, so they are at the end).
const TAIL_BYTES: u64 = 4 * 1024 * 1024;
/// Attempts at posting a nightly rollup summary (not an escalation: it has no outbox).
const ROLLUP_ATTEMPTS: u32 = 4;

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

/// `escalations.jsonl`: one line per step, exactly once.
struct Jsonl {
    file: File,
    /// Step ids already in the file (from its tail at start-up, and since).
    written: HashSet<String>,
}

impl Jsonl {
    fn open(path: &Path) -> std::io::Result<Jsonl> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)?;
        let written = tail_keys(&mut file)?;
        Ok(Jsonl { file, written })
    }

    fn append(&mut self, key: &str, line: &str) -> std::io::Result<()> {
        if self.written.contains(key) {
            return Ok(());
        }
        let mut buf = line.trim_end().to_owned();
        buf.push('\n');
        self.file.write_all(buf.as_bytes())?;
        self.file.sync_data()?;
        self.written.insert(key.to_owned());
        Ok(())
    }
}

/// The idempotency keys of the lines at the end of the file.
fn tail_keys(file: &mut File) -> std::io::Result<HashSet<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
    // The window may start inside a line (or a character): that first piece is skipped.
    let mut bytes = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut bytes)?;
    file.seek(SeekFrom::End(0))?;
    let tail = String::from_utf8_lossy(&bytes);
    Ok(tail
        .lines()
        .skip(usize::from(len > TAIL_BYTES))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("idempotency_key").and_then(Value::as_str).map(str::to_owned))
        .collect())
}

#[derive(Clone)]
pub struct LocalNotifier {
    jsonl_path: PathBuf,
    jsonl: Arc<Mutex<Option<Jsonl>>>,
    hooks: Webhooks,
    http: reqwest::Client,
    print: bool,
    slack_slot: Arc<tokio::sync::Mutex<Instant>>,
    wake: Arc<Notify>,
}

impl LocalNotifier {
    pub fn new(data_dir: &Path, hooks: Webhooks, print: bool) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("leadclock/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            jsonl_path: data_dir.join("escalations.jsonl"),
            jsonl: Arc::new(Mutex::new(None)),
            hooks,
            http,
            print,
            slack_slot: Arc::new(tokio::sync::Mutex::new(Instant::now())),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn jsonl_path(&self) -> &Path {
        &self.jsonl_path
    }

    /// Resolves when new messages may be waiting (or at once if some arrived since last time).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    fn write_jsonl(&self, key: String, line: String) -> Result<(), SendFailure> {
        let mut guard = self.jsonl.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let fail = |e: std::io::Error| SendFailure::retry(format!("{}: {e}", self.jsonl_path.display()));
        if guard.is_none() {
            *guard = Some(Jsonl::open(&self.jsonl_path).map_err(fail)?);
        }
        let sink = guard
            .as_mut()
            .ok_or_else(|| SendFailure::retry("escalations.jsonl is not open"))?;
        sink.append(&key, &line).map_err(|e| {
            // Reopen next time: the file may have been moved or the disk filled.
            *guard = None;
            fail(e)
        })
    }

    async fn jsonl_send(&self, m: &OutboxMessage) -> Result<(), SendFailure> {
        let (this, key, line) = (self.clone(), m.step.global_id(&m.lead_id), m.payload.clone());
        tokio::task::spawn_blocking(move || this.write_jsonl(key, line))
            .await
            .map_err(|e| SendFailure::retry(format!("the file writer stopped: {e}")))??;
        if self.print {
            print_line(&m.payload);
        }
        Ok(())
    }

    async fn slack_send(&self, m: &OutboxMessage, url: &str) -> Result<(), SendFailure> {
        let Some(Published::Escalation(doc)) = Published::parse(&m.payload) else {
            return Err(SendFailure {
                permanent: true,
                ..SendFailure::retry("not an escalation message")
            });
        };
        {
            let mut slot = self.slack_slot.lock().await;
            tokio::time::sleep_until(*slot).await;
            *slot = Instant::now() + SLACK_SPACING;
        }
        post(&self.http, url, &slack_payload(&doc), &doc.idempotency_key).await
    }

    async fn webhook_send(&self, m: &OutboxMessage, url: &str) -> Result<(), SendFailure> {
        let doc: Value = serde_json::from_str(&m.payload).map_err(|e| SendFailure::retry(e.to_string()))?;
        post(&self.http, url, &doc, &m.step.global_id(&m.lead_id)).await
    }
}

/// A readable line on stdout; a closed or broken stdout is ignored, never a panic.
fn print_line(payload: &str) {
    let text = match Published::parse(payload) {
        Some(Published::Escalation(e)) => e.text,
        Some(Published::Outcome(o)) => {
            format!(
                "STEP {} {}: {} ({})",
                o.idempotency_key,
                o.outcome.as_str(),
                o.reason,
                o.lead_id
            )
        }
        None => return,
    };
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Posts `body` once; the failure says whether and when to retry.
async fn post(http: &reqwest::Client, url: &str, body: &Value, key: &str) -> Result<(), SendFailure> {
    let r = http.post(url).header("Idempotency-Key", key).json(body).send().await;
    let r = r.map_err(|e| SendFailure::retry(format!("unreachable: {}", e.without_url())))?;
    let status = r.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = r
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(ChronoDuration::seconds);
    // A request the receiver will never take (bad payload, gone channel) is not retried.
    let permanent = status.is_client_error() && ![408, 409, 425, 429].contains(&status.as_u16());
    Err(SendFailure {
        message: format!("answered {}", status.as_u16()),
        retry_after,
        permanent,
    })
}

impl Notifier for LocalNotifier {
    /// Every live outcome gets a line; history (imports, backfills) is recorded on the lead
    /// only, so a 90-day import does not write hundreds of thousands of lines nobody acted on.
    fn channels_for(&self, status: StepStatus) -> Vec<Channel> {
        match status {
            StepStatus::Settling | StepStatus::History => Vec::new(),
            StepStatus::Delivering => {
                let mut c = vec![Channel::Jsonl];
                c.extend(self.hooks.slack_url.as_ref().map(|_| Channel::Slack));
                c.extend(self.hooks.generic_url.as_ref().map(|_| Channel::Webhook));
                c
            }
            _ => vec![Channel::Jsonl],
        }
    }

    async fn send(&self, m: &OutboxMessage) -> Result<(), SendFailure> {
        let gone = || SendFailure {
            permanent: true,
            ..SendFailure::retry("this channel is no longer configured")
        };
        match m.channel {
            Channel::Jsonl => self.jsonl_send(m).await,
            Channel::Slack => {
                self.slack_send(m, self.hooks.slack_url.as_deref().ok_or_else(gone)?)
                    .await
            }
            Channel::Webhook => {
                self.webhook_send(m, self.hooks.generic_url.as_deref().ok_or_else(gone)?)
                    .await
            }
            Channel::Sns => Err(gone()),
        }
    }

    fn wake(&self) {
        self.wake.notify_one();
    }

    async fn publish_rollup(&self, day: &str, summary: &str, report: &Value) -> Result<(), PortError> {
        let doc = serde_json::json!({"type": "leadclock.rollup", "day": day, "summary": summary, "report": report});
        let path = self.jsonl_path.with_file_name("rollups.jsonl");
        let line = format!("{doc}\n");
        tokio::task::spawn_blocking(move || {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            f.write_all(line.as_bytes()).and_then(|()| f.sync_data())
        })
        .await
        .map_err(|e| PortError::permanent("write rollups.jsonl", e))?
        .map_err(|e| PortError::from_source("write rollups.jsonl", true, e))?;
        if self.print {
            let _ = writeln!(std::io::stdout().lock(), "{summary}");
        }
        if let Some(url) = &self.hooks.slack_url {
            post_rollup(&self.http, url, &slack_rollup(summary), day).await;
        }
        Ok(())
    }
}

/// A rollup summary to Slack, a few attempts with backoff; a failure is logged, not fatal.
async fn post_rollup(http: &reqwest::Client, url: &str, body: &Value, day: &str) {
    for attempt in 0..ROLLUP_ATTEMPTS {
        match post(http, url, body, &format!("rollup:{day}")).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(day, attempt, error = %e, "rollup summary not posted to Slack"),
        }
        let wait = backoff(attempt, None, u64::from(attempt) * 397)
            .to_std()
            .unwrap_or_default();
        tokio::time::sleep(wait).await;
    }
}
