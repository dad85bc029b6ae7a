//! `leadclock report` and `leadclock rollup`: the shared metrics handler over the local store.

use crate::load_policy;
use leadclock_app::policy_file::{next_version, versions_of};
use leadclock_app::ports::SystemClock;
use leadclock_app::query::{yesterday, RawReportQuery, ReportQuery};
use leadclock_app::report_format::Format;
use leadclock_app::{baseline_format, report_format, whatif_format, App};
use leadclock_domain::policy::Versions;
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::SqliteStore;
use std::path::Path;
use std::sync::Arc;

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn open(data: &Path) -> Result<SqliteStore, String> {
    if !data.join("leadclock.db").exists() {
        return Err(format!(
            "no leadclock.db in {}; start the server with `make run` first or pass --data",
            data.display()
        ));
    }
    SqliteStore::open(data).map_err(|e| e.to_string())
}

/// The versions the store has judged by, and `policy` after them when it differs from the
/// last (as the server would record it on its next start; nothing is written here).
pub(crate) fn versions(store: &SqliteStore, policy: &Path, rt: &tokio::runtime::Runtime) -> Result<Versions, String> {
    let source = std::fs::read_to_string(policy).map_err(|e| format!("cannot read {}: {e}", policy.display()))?;
    let mut stored = rt.block_on(store.policy_versions()).map_err(|e| e.to_string())?;
    stored.extend(next_version(&stored, &source, chrono::Utc::now()));
    versions_of(&stored, &policy.display().to_string())
}

pub fn report(policy_file: &Path, data: &Path, raw: &RawReportQuery) -> Result<(), String> {
    let q = ReportQuery::parse(raw).map_err(|e| format!("--{}", e))?;
    let policy = Arc::new(load_policy(policy_file)?);
    let store = open(data)?;
    let tz = policy.reporting_timezone;
    let rt = runtime()?;
    let versions = versions(&store, policy_file, &rt)?;
    let app = App::new(policy, store, (), (), SystemClock).with_versions(versions);
    let report = rt.block_on(app.metrics(&q)).map_err(|e| e.to_string())?;
    let text = match q.format {
        Format::Json => serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?,
        _ => report_format::render(&report, q.format, tz).1,
    };
    print!("{text}");
    Ok(())
}

pub fn baseline(policy: &Path, data: &Path, raw: &RawReportQuery) -> Result<(), String> {
    let q = ReportQuery::parse(raw).map_err(|e| format!("--{}", e))?;
    let policy = Arc::new(load_policy(policy)?);
    let tz = policy.reporting_timezone;
    let app = App::new(policy, open(data)?, (), (), SystemClock);
    let baseline = runtime()?.block_on(app.baseline(&q)).map_err(|e| e.to_string())?;
    print!("{}", baseline_format::render(&baseline, q.format, tz).1);
    Ok(())
}

pub fn whatif(current: &Path, proposed: &Path, data: &Path, raw: &RawReportQuery) -> Result<(), String> {
    let q = ReportQuery::parse(raw).map_err(|e| format!("--{}", e))?;
    let policy = Arc::new(load_policy(current)?);
    let proposed = load_policy(proposed)?;
    let tz = policy.reporting_timezone;
    let app = App::new(policy, open(data)?, (), (), SystemClock);
    let w = runtime()?
        .block_on(app.whatif(&proposed, &q))
        .map_err(|e| e.to_string())?;
    if q.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&w).map_err(|e| e.to_string())?);
    } else {
        print!("{}", whatif_format::table(&w, tz));
    }
    Ok(())
}

pub fn rollup(policy_file: &Path, data: &Path, day: Option<&str>) -> Result<(), String> {
    let policy = Arc::new(load_policy(policy_file)?);
    let tz = policy.reporting_timezone;
    let day = match day {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| format!("--day {d:?} must be like 2026-02-01"))?,
        None => yesterday(tz, chrono::Utc::now()),
    };
    let store = open(data)?;
    let rt = runtime()?;
    let _guard = rt.enter();
    let notifier = LocalNotifier::new(data, Webhooks::from_env(), true);
    let versions = versions(&store, policy_file, &rt)?;
    let app = App::new(policy, store, (), notifier, SystemClock).with_versions(versions);
    rt.block_on(async {
        app.rollup(day).await.map_err(|e| e.to_string())?;
        // Let background webhook posts finish.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        Ok(())
    })
}
