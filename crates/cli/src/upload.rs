//! `leadclock import --url`: the mapped events to a deployed stack's `POST /v1/events/batch`,
//! signed (v2) with the first secret in `LEADCLOCK_WEBHOOK_SECRETS`, and the progress of any
//! import on the terminal.
//!
//! Each batch is at most [`MAX_ITEMS`] items and [`MAX_UPLOAD_BYTES`]; a batch the stack could not
//! take for now (a network error, 429, 5xx) is sent again with backoff, honouring `Retry-After`:
//! a resent batch is all duplicates where it was stored, so nothing is counted twice. Items the
//! stack refuses are printed one by one and make the exit status 2.

use indicatif::{ProgressBar, ProgressStyle};
use leadclock_app::auth::Secret;
use leadclock_app::inbound::batch::{item_of, MAX_BATCH_BYTES, MAX_ITEMS};
use leadclock_domain::Event;
use serde_json::Value;
use std::io::IsTerminal;
use std::time::Duration;

/// Leaves room under the route's 1 MiB limit for the array's brackets and commas.
pub const MAX_UPLOAD_BYTES: usize = MAX_BATCH_BYTES - 16 * 1024;
/// Attempts per batch before the upload stops (the events not yet sent are listed as such).
const ATTEMPTS: u32 = 6;

/// How many events went where, on either destination.
#[derive(Debug, Default)]
pub struct Tally {
    pub accepted: usize,
    pub repeats: usize,
    pub refused: usize,
}

/// A bar on a terminal, a line per 25,000 events otherwise (a log or a CI job).
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} events {elapsed} (eta {eta})") {
                bar.set_style(style);
            }
            bar
        });
        Self { bar, total, done: 0 }
    }

    pub fn advance(&mut self, n: usize) {
        let before = self.done;
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n as u64),
            None if self.done / 25_000 > before / 25_000 => {
                eprintln!("  … {} of {} events stored", self.done, self.total);
            }
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The secret that signs the upload.
pub fn secret() -> Result<Secret, String> {
    std::env::var("LEADCLOCK_WEBHOOK_SECRETS")
        .ok()
        .and_then(|v| Secret::list(&v).into_iter().next())
        .ok_or_else(|| {
            "set LEADCLOCK_WEBHOOK_SECRETS to the stack's webhook secret: the batches are signed with it".into()
        })
}

/// The batches of `events`: at most [`MAX_ITEMS`] items and [`MAX_UPLOAD_BYTES`] each.
fn batches(events: &[Event]) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut size = 0;
    for e in events {
        let item = item_of(e);
        let len = item.to_string().len() + 1;
        match out.last_mut() {
            Some(b) if b.len() < MAX_ITEMS && size + len <= MAX_UPLOAD_BYTES => {
                size += len;
                b.push(item);
            }
            _ => {
                size = len;
                out.push(vec![item]);
            }
        }
    }
    out
}

/// Sends every event to `base` (`https://…/`): returns what the stack did with them.
pub async fn upload(base: &str, secret: &Secret, events: &[Event]) -> Result<Tally, String> {
    // A base with a path (`https://host/prod`) keeps it: the route is joined below it.
    let base_dir = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    let url = reqwest::Url::parse(&base_dir)
        .and_then(|u| u.join("v1/events/batch"))
        .map_err(|e| format!("--url {base:?}: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("--url {base:?} must be an http(s) URL"));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let (mut tally, mut progress) = (Tally::default(), Progress::new(events.len()));
    for items in batches(events) {
        let answer = send(&client, &url, secret, &items)
            .await
            .inspect_err(|_| progress.finish())?;
        count(&answer, &items, &mut tally);
        progress.advance(items.len());
    }
    progress.finish();
    Ok(tally)
}

/// Adds one batch's answer to the tally and prints each refused item.
fn count(answer: &Value, items: &[Value], tally: &mut Tally) {
    let results = answer["results"].as_array().map_or(&[][..], Vec::as_slice);
    if results.len() != items.len() {
        // Never counted as stored: the next import sends them again, and repeats are harmless.
        tally.refused += items.len().saturating_sub(results.len());
        println!(
            "  the stack answered {} result(s) for {} item(s): the rest are counted as refused",
            results.len(),
            items.len()
        );
    }
    for (item, result) in items.iter().zip(results) {
        match result["status"].as_u64() {
            Some(202) => tally.accepted += 1,
            Some(200) => tally.repeats += 1,
            status => {
                tally.refused += 1;
                let e = &result["error"];
                println!(
                    "  refused by the stack: event {} of lead {} ({}): {} {}",
                    item["event_id"].as_str().unwrap_or("?"),
                    item["lead_id"].as_str().unwrap_or("?"),
                    status.map_or("no status".into(), |s| s.to_string()),
                    e["code"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                );
            }
        }
    }
}

/// One signed batch, sent again while the stack answers "not now".
async fn send(client: &reqwest::Client, url: &reqwest::Url, secret: &Secret, items: &[Value]) -> Result<Value, String> {
    let body = serde_json::to_vec(items).map_err(|e| e.to_string())?;
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        let ts = chrono::Utc::now().timestamp();
        let signature = leadclock_app::auth::sign_v2(secret, ts, "POST", url.path(), &body);
        let sent = client
            .post(url.clone())
            .header("content-type", "application/json")
            .header("x-leadclock-timestamp", ts.to_string())
            .header("x-leadclock-signature", format!("v2={signature}"))
            .body(body.clone())
            .send()
            .await;
        let retry_after = match sent {
            Ok(r) if r.status().is_success() => return r.json().await.map_err(|e| format!("{url}: {e}")),
            Ok(r) if r.status() == 429 || r.status().is_server_error() => r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                return Err(format!("{url} answered {status}: {text}"));
            }
            Err(e) if attempt == ATTEMPTS => return Err(format!("{url}: {e}")),
            Err(_) => None,
        };
        if attempt < ATTEMPTS {
            tokio::time::sleep(retry_after.unwrap_or(wait).max(wait)).await;
            wait *= 2;
        }
    }
    Err(format!("{url} kept answering \"try again later\" after {ATTEMPTS} attempts; run the import again (what was stored is skipped)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_domain::event::Touch;
    use leadclock_domain::{EventBody, EventId, LeadId};

    #[test]
    fn batches_hold_at_most_500_items_and_fit_the_routes_limit() {
        let at = chrono::Utc::now();
        let touch = |i: usize, note: usize| {
            let mut e = Event::new(
                EventId::parse(&format!("t-{i}")).unwrap(),
                LeadId::parse("L-1").unwrap(),
                at,
                EventBody::Touch(Touch {
                    owner: None,
                    channel: "call".into(),
                    outcome: None,
                }),
            );
            e.extra.insert("note".into(), "x".repeat(note));
            e
        };
        let small: Vec<Event> = (0..1_201).map(|i| touch(i, 10)).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(Vec::len).collect();
        assert_eq!(sizes, [500, 500, 201]);
        let big: Vec<Event> = (0..600).map(|i| touch(i, 4_000)).collect();
        for b in batches(&big) {
            assert!(serde_json::to_vec(&b).unwrap().len() <= MAX_BATCH_BYTES);
        }
        assert_eq!(batches(&big).iter().map(Vec::len).sum::<usize>(), 600);
    }
}
