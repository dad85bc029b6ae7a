//! `leadclock-load --url http://127.0.0.1:8080 --clients 50 --duration 2m`
//!
//! Each client walks its own leads through form → assignment → touch → sal, one request at a
//! time, until the duration ends; then the tool reads back how many events the server stored.
//! Only loopback targets are allowed: this is a bench for your own machine.

use clap::Parser;
use leadclock_app::auth::{sign_v2, Secret};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// e.g. 30s, 2m
    #[arg(long, default_value = "2m")]
    duration: String,
    /// Prefix for lead ids, so runs do not collide.
    #[arg(long, default_value = "load")]
    prefix: String,
    /// Secret for signing (defaults to LEADCLOCK_WEBHOOK_SECRETS); unsigned when absent.
    #[arg(long)]
    secret: Option<String>,
    /// Bearer token for the stats read (defaults to LEADCLOCK_READ_TOKENS).
    #[arg(long)]
    token: Option<String>,
}

struct Outcome {
    latencies_us: Vec<u64>,
    accepted: u64,
    failed: u64,
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

async fn client(id: usize, args: Arc<Args>, until: Instant, http: reqwest::Client, secret: Option<Secret>) -> Outcome {
    let mut out = Outcome {
        latencies_us: Vec::new(),
        accepted: 0,
        failed: 0,
    };
    let mut n = 0;
    while Instant::now() < until {
        let lead = format!("{}-{id}-{n}", args.prefix);
        n += 1;
        let now = chrono::Utc::now();
        let steps: [(&str, Value); 4] = [
            (
                "form",
                json!({"lead_id": lead, "occurred_at": now.to_rfc3339(), "lead_type": "demo_request", "source": "load"}),
            ),
            (
                "assignment",
                json!({"lead_id": lead, "occurred_at": now.to_rfc3339(), "owner": format!("rep-{}", id % 10)}),
            ),
            (
                "touch",
                json!({"lead_id": lead, "occurred_at": now.to_rfc3339(), "channel": "call"}),
            ),
            (
                "stage",
                json!({"lead_id": lead, "occurred_at": now.to_rfc3339(), "stage": "sal"}),
            ),
        ];
        for (kind, body) in steps {
            let raw = body.to_string();
            let path = format!("/v1/events/{kind}");
            let mut req = http
                .post(format!("{}{path}", args.url))
                .header("content-type", "application/json");
            if let Some(s) = &secret {
                // The v2 scheme: method, path and body under the timestamp (v1 is refused by default).
                let ts = chrono::Utc::now().timestamp();
                let signature = sign_v2(s, ts, "POST", &path, raw.as_bytes());
                req = req
                    .header("x-leadclock-timestamp", ts.to_string())
                    .header("x-leadclock-signature", format!("v2={signature}"));
            }
            let start = Instant::now();
            match req.body(raw).send().await {
                Ok(r) if r.status().as_u16() == 202 => out.accepted += 1,
                _ => out.failed += 1,
            }
            out.latencies_us.push(start.elapsed().as_micros() as u64);
        }
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Arc::new(Args::parse());
    let host = args
        .url
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    if !(host == "localhost" || host.starts_with("127.") || host == "[::1]") {
        return Err(format!("refusing to load {host}: only loopback targets are allowed"));
    }
    let duration = humantime::parse_duration(&args.duration).map_err(|e| e.to_string())?;
    let env_first = |k: &str| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_owned()))
            .filter(|s| !s.is_empty())
    };
    let secret = args
        .secret
        .clone()
        .or_else(|| env_first("LEADCLOCK_WEBHOOK_SECRETS"))
        .map(|s| Secret::new(&s));
    let token = args.token.clone().or_else(|| env_first("LEADCLOCK_READ_TOKENS"));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .map_err(|e| e.to_string())?;
    let stats = |http: reqwest::Client| {
        let (url, token) = (format!("{}/v1/stats", args.url), token.clone());
        async move {
            let mut req = http.get(url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let v: Value = req
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            v["events"].as_u64().ok_or_else(|| format!("unexpected stats: {v}"))
        }
    };
    let before = stats(http.clone()).await?;
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..args.clients)
        .map(|i| tokio::spawn(client(i, args.clone(), until, http.clone(), secret.clone())))
        .collect();
    let mut lat = Vec::new();
    let (mut accepted, mut failed) = (0, 0);
    for t in tasks {
        let o = t.await.map_err(|e| e.to_string())?;
        lat.extend(o.latencies_us);
        accepted += o.accepted;
        failed += o.failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let stored = stats(http).await? - before;
    println!(
        "{{\"clients\": {}, \"seconds\": {elapsed:.1}, \"sent\": {}, \"accepted\": {accepted}, \"failed\": {failed}, \"stored\": {stored}, \"events_per_second\": {:.0}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"max_ms\": {:.2}}}",
        args.clients,
        lat.len(),
        accepted as f64 / elapsed,
        percentile(&lat, 0.50) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    if stored != accepted || failed > 0 {
        return Err(format!(
            "lost events: accepted {accepted}, stored {stored}, failed {failed}"
        ));
    }
    Ok(())
}
