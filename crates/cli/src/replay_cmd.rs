//! `leadclock replay-hooks --from --to`: maps the CRM and sales-tool webhooks kept from a window
//! again with this release's code and the policy given, and corrects the timeline where the
//! result differs ([`leadclock_app::handlers::hooks`]). On a stopped server's data dir, or
//! with `--url` on a running server or a deployed stack (`POST /v1/hooks/replay`, the admin
//! token in `LEADCLOCK_ADMIN_TOKEN`), page after page until the window is done.

use chrono::{DateTime, NaiveDate, Utc};
use leadclock_app::handlers::hooks::Replayed;
use leadclock_app::ports::SystemClock;
use leadclock_app::raw_hooks::RawHookCursor;
use leadclock_app::App;
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::SqliteStore;
use leadclock_local::timers::LocalTimers;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Webhooks received at or after this instant (RFC 3339, or a date: its UTC midnight).
    #[arg(long)]
    from: String,
    /// Webhooks received before this instant (RFC 3339, or a date: its UTC midnight).
    #[arg(long)]
    to: String,
    /// A running server or deployed stack to replay on, e.g. `https://….execute-api….amazonaws.com`.
    #[arg(long)]
    url: Option<String>,
    #[arg(long, default_value = crate::DEFAULT_POLICY)]
    policy: PathBuf,
    #[arg(long, default_value = "data")]
    data: PathBuf,
}

/// The env variable `--url` reads the admin token from.
const TOKEN_ENV: &str = "LEADCLOCK_ADMIN_TOKEN";
/// Hooks per call on a stack: well inside API Gateway's 29 s.
const PAGE: usize = 100;

fn instant(flag: &str, s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{flag} {s:?}: expected an RFC 3339 instant or a date (YYYY-MM-DD)"))
}

/// What the pages did, added up.
#[derive(Default)]
struct Totals {
    hooks: usize,
    unchanged: usize,
    added: usize,
    corrected: usize,
    voided: usize,
    failed: usize,
}

impl Totals {
    fn add(&mut self, page: &Replayed) {
        self.hooks += page.hooks;
        self.unchanged += page.unchanged;
        self.added += page.added;
        self.corrected += page.corrected;
        self.voided += page.voided;
        self.failed += page.failed.len();
        for f in &page.failed {
            println!(
                "  not replayed: {} webhook {} received {}: {}",
                f.source, f.hook_id, f.received_at, f.reason
            );
        }
    }
}

/// Replays the window; `Ok(false)` when some webhook could not be read again.
pub fn run(args: &ReplayArgs) -> Result<bool, String> {
    let window = (instant("--from", &args.from)?, instant("--to", &args.to)?);
    if window.0 >= window.1 {
        return Err("--to must be after --from".into());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let totals = match &args.url {
        Some(url) => rt.block_on(remote(url, window))?,
        None => local(args, window, &rt)?,
    };
    println!(
        "{} webhook(s) replayed: {} event(s) unchanged, {} added, {} corrected, {} voided; {} webhook(s) not readable",
        totals.hooks, totals.unchanged, totals.added, totals.corrected, totals.voided, totals.failed
    );
    Ok(totals.failed == 0)
}

fn local(
    args: &ReplayArgs,
    window: (DateTime<Utc>, DateTime<Utc>),
    rt: &tokio::runtime::Runtime,
) -> Result<Totals, String> {
    let _lock = leadclock_local::lock::DataDirLock::acquire(&args.data)
        .map_err(|e| format!("{e} (the server is running: add --url http://127.0.0.1:8080)"))?;
    let store = SqliteStore::open(&args.data).map_err(|e| e.to_string())?;
    let versions = crate::report_cmd::versions(&store, &args.policy, rt)?;
    let orgs = leadclock_app::auth::AuthConfig::from_env().salesforce_org_ids;
    rt.block_on(async {
        let (timers, _fired) = LocalTimers::start(SystemClock);
        let notifier = LocalNotifier::new(&args.data, Webhooks::default(), false);
        let policy = versions.current().policy.clone();
        let app = App::new(policy, store, timers, notifier, SystemClock).with_versions(versions);
        let (mut totals, mut after) = (Totals::default(), None::<RawHookCursor>);
        loop {
            let page = app
                .replay_hooks(
                    window,
                    after.as_ref(),
                    leadclock_app::handlers::hooks::MAX_REPLAY_PAGE,
                    &orgs,
                )
                .await
                .map_err(|e| e.to_string())?;
            totals.add(&page);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(totals),
            }
        }
    })
}

async fn remote(base: &str, window: (DateTime<Utc>, DateTime<Utc>)) -> Result<Totals, String> {
    let token = std::env::var(TOKEN_ENV).map_err(|_| format!("--url needs an admin token in {TOKEN_ENV}"))?;
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    let url = reqwest::Url::parse(&base)
        .and_then(|u| u.join("v1/hooks/replay"))
        .map_err(|e| format!("--url {base:?}: {e}"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let (mut totals, mut after) = (Totals::default(), Value::Null);
    loop {
        let body = json!({"from": window.0, "to": window.1, "after": after, "limit": PAGE});
        let resp = client
            .post(url.clone())
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = resp.status();
        let answer: Value = resp.json().await.map_err(|e| format!("POST {url}: {status}: {e}"))?;
        if !status.is_success() {
            return Err(format!("POST {url}: {status}: {}", answer["error"]["message"]));
        }
        let page: Replayed = serde_json::from_value(answer.clone()).map_err(|e| format!("POST {url}: {e}"))?;
        totals.add(&page);
        match page.next {
            Some(_) => after = answer["next"].clone(),
            None => return Ok(totals),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_rfc3339_or_a_date_at_utc_midnight() {
        assert_eq!(
            instant("--from", "2026-11-01").unwrap(),
            "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            instant("--from", "2026-11-01T10:00:00+01:00").unwrap(),
            "2026-11-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(instant("--from", "last week").is_err());
    }
}
