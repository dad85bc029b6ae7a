//! `leadclock`: serve the local product, check a policy, compute business-hours instants.

mod calendar_cmd;
mod explain_cmd;
mod forget_cmd;
mod import_cmd;
mod replay_cmd;
mod report_cmd;
mod upload;
mod versions_cmd;

use leadclock_app::query::RawReportQuery;

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(crate) const DEFAULT_POLICY: &str = "policies/example.toml";

/// A line on stdout that never panics: a server whose stdout was closed (a pipe whose reader
/// went away, a detached shell) must keep serving and delivering, so the error is ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "leadclock",
    version,
    about = "Speed-to-lead SLA clocks, escalations and metrics"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the local server: HTTP API, SQLite store, in-process timers.
    Serve {
        /// Policy file (TOML).
        #[arg(long, default_value = DEFAULT_POLICY)]
        policy: PathBuf,
        /// Directory for the database and escalations.jsonl.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Accept unsigned webhooks and unauthenticated reads (local trials only).
        #[arg(long)]
        insecure_no_auth: bool,
    },
    /// Print the v2 signature headers for a webhook body (from a file or stdin), for curl.
    Sign {
        /// Environment variable holding the secret(s); the first is used.
        #[arg(long, default_value = "LEADCLOCK_WEBHOOK_SECRETS")]
        secret_env: String,
        /// The path (and query, if any) the request will be sent to: it is signed.
        #[arg(long, default_value = "/v1/events/form")]
        path: String,
        /// The request's method: it is signed.
        #[arg(long, default_value = "POST")]
        method: String,
        /// Body file; `-` or absent reads stdin.
        file: Option<PathBuf>,
    },
    /// Policy commands.
    Policy {
        #[command(subcommand)]
        cmd: PolicyCmd,
    },
    /// The methodology's metrics over the local store.
    Report {
        #[arg(long, default_value = DEFAULT_POLICY)]
        policy: PathBuf,
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Start: a date (2026-02-01, local midnight in the reporting time zone) or RFC 3339.
        #[arg(long)]
        from: Option<String>,
        /// End: a date (inclusive) or RFC 3339 (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// today, yesterday, week (last 7 days, the default), month, last_month, quarter (90 days).
        #[arg(long)]
        period: Option<String>,
        /// Break down by lead_type, source, region, team, owner or segment.
        #[arg(long)]
        by: Option<String>,
        #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
        format: String,
    },
    /// Per lead type: response times now, the benchmarks beside them, and a suggested SLA.
    Baseline {
        #[arg(long, default_value = DEFAULT_POLICY)]
        policy: PathBuf,
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Start: a date (local midnight in the reporting time zone) or RFC 3339.
        #[arg(long)]
        from: Option<String>,
        /// End: a date (inclusive) or RFC 3339 (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// A named period instead (quarter, the last 90 days, is the default).
        #[arg(long)]
        period: Option<String>,
        #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
        format: String,
    },
    /// Replay the stored events under a proposed policy, beside the one in force; nothing is written.
    Whatif {
        /// The proposed policy.
        #[arg(long)]
        policy: PathBuf,
        /// The policy in force (what `serve` runs with).
        #[arg(long, default_value = DEFAULT_POLICY)]
        current: PathBuf,
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Start: a date (local midnight in the reporting time zone) or RFC 3339.
        #[arg(long)]
        from: Option<String>,
        /// End: a date (inclusive) or RFC 3339 (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// A named period instead (quarter, the last 90 days, is the default).
        #[arg(long)]
        period: Option<String>,
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Compute, store and announce one day's rollup (what the server does nightly).
    Rollup {
        #[arg(long, default_value = DEFAULT_POLICY)]
        policy: PathBuf,
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Local date in the reporting time zone; defaults to yesterday.
        #[arg(long)]
        day: Option<String>,
    },
    /// Import a CRM's history (HubSpot or Salesforce CSV exports, leadclock JSON lines) as history.
    Import(import_cmd::ImportArgs),
    /// Erase one person's personal data (by lead id or email), or run the retention pass now.
    Forget(forget_cmd::ForgetArgs),
    /// Map the CRM and sales-tool webhooks kept from a window again, and correct what changed.
    ReplayHooks(replay_cmd::ReplayArgs),
    /// Business-hours arithmetic on a policy's calendars.
    Calendar {
        #[command(subcommand)]
        cmd: calendar_cmd::CalendarCmd,
    },
}

#[derive(Subcommand)]
enum PolicyCmd {
    /// Report every problem in a policy file, with its location.
    Check { file: PathBuf },
    /// Show which [[classify]] rule decides a form event (the JSON of POST /v1/events/form), and why.
    Explain {
        /// The event's JSON body.
        event: PathBuf,
        #[arg(long, default_value = DEFAULT_POLICY)]
        policy: PathBuf,
    },
    /// The policy versions leads are judged by (each lead by the one in force when it engaged).
    Versions {
        #[command(subcommand)]
        cmd: versions_cmd::VersionsCmd,
    },
}

pub(crate) use leadclock_app::policy_file::load as load_policy;

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("LEADCLOCK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // The metric events are for the AWS host's CloudWatch metrics; locally `/v1/stats` and the
    // reports say the same, so they stay out of the log.
    let metrics_off = format!("{}=off", leadclock_app::telemetry::TARGET);
    let filter = match metrics_off.parse() {
        Ok(d) => filter.add_directive(d),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LEADCLOCK_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().flatten_event(true).init();
    } else {
        use std::io::IsTerminal;
        builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}

async fn serve(policy: PathBuf, data: PathBuf, listen: SocketAddr, insecure: bool) -> Result<(), String> {
    use leadclock_local::shutdown::{Shutdown, DEFAULT_GRACE};
    let policy_doc = load_policy(&policy)?;
    let policy_source =
        std::fs::read_to_string(&policy).map_err(|e| format!("cannot read {}: {e}", policy.display()))?;
    let mut auth = leadclock_app::auth::AuthConfig::from_env();
    auth.insecure = insecure;
    if !auth.accepts_webhooks() {
        return Err("no webhook secret configured: set LEADCLOCK_WEBHOOK_SECRETS (or a CRM hook setting \
such as LEADCLOCK_HUBSPOT_CLIENT_SECRETS or LEADCLOCK_SALESFORCE_PATH_SECRETS), or pass --insecure-no-auth for a local trial"
            .into());
    }
    let limits = leadclock_local::serve::Limits::from_env().map_err(|e| e.to_string())?;
    let grace = leadclock_local::serve::duration_setting("LEADCLOCK_SHUTDOWN_TIMEOUT", DEFAULT_GRACE)
        .map_err(|e| e.to_string())?;
    // Held until this function returns, i.e. for as long as the server runs.
    let _lock = leadclock_local::lock::DataDirLock::acquire(&data).map_err(|e| e.to_string())?;
    let shutdown = Shutdown::new(grace);
    shutdown
        .on_signals()
        .map_err(|e| format!("cannot handle SIGTERM/SIGINT: {e}"))?;
    if insecure {
        eprintln!("WARNING: --insecure-no-auth: webhooks are not verified and reads are open. Local trials only.");
    }
    let types: Vec<String> = policy_doc.lead_types.keys().cloned().collect();
    let webhooks = leadclock_local::notify::Webhooks::from_env();
    let write_back = leadclock_app::writeback::settings(|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    let cfg = leadclock_local::runtime::Config {
        policy: policy_doc,
        policy_source,
        data_dir: data.clone(),
        listen,
        webhooks: webhooks.clone(),
        print_escalations: true,
        auth,
        public_url: std::env::var("LEADCLOCK_PUBLIC_URL").ok().filter(|v| !v.is_empty()),
        limits,
        shutdown: shutdown.clone(),
        write_back,
    };
    let running = leadclock_local::runtime::start(cfg).await.map_err(|e| e.to_string())?;
    print_banner(
        &format!("http://{}", running.addr),
        &policy,
        &data,
        &types,
        &webhooks,
        insecure,
    );
    let version = running.app.versions.current();
    match version.effective_from {
        Some(from) => say!(
            "  policy version {} (in force since {})",
            version.number,
            from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        None => say!("  policy version {} (in force since the beginning)", version.number),
    }
    if running.restored > 0 {
        say!(
            "  restored {} lead(s) with pending timers or unreconciled events",
            running.restored
        );
    }
    running.wait().await.map_err(|e| e.to_string())?;
    // The server has answered what was in flight; now the tracked background work, if any.
    let left = shutdown.drain().await;
    if left > 0 {
        eprintln!("leadclock: {left} background task(s) cut off by the shutdown deadline");
    }
    say!("leadclock stopped");
    Ok(())
}

fn print_banner(
    url: &str,
    policy: &Path,
    data: &Path,
    types: &[String],
    webhooks: &leadclock_local::notify::Webhooks,
    insecure: bool,
) {
    say!("leadclock listening on {url}");
    say!("  policy   {} (lead types: {})", policy.display(), types.join(", "));
    say!("  data     {} (leadclock.db, escalations.jsonl)", data.display());
    say!(
        "  notify   stdout, escalations.jsonl{}{}",
        if webhooks.slack_url.is_some() { ", Slack" } else { "" },
        if webhooks.generic_url.is_some() {
            ", webhook"
        } else {
            ""
        }
    );
    say!("Try:");
    let body =
        r#"{"lead_id":"L-1","occurred_at":"'$(date -u +%FT%TZ)'","lead_type":"demo_request","source":"organic"}"#;
    if insecure {
        say!("  curl -s -XPOST {url}/v1/events/form -H 'content-type: application/json' -d '{body}'");
        say!("  curl -s {url}/v1/leads/L-1");
    } else {
        say!("  BODY='{body}'");
        say!("  curl -s -XPOST {url}/v1/events/form -H 'content-type: application/json' $(printf '%s' \"$BODY\" | leadclock sign | sed 's/^/-H /;s/: /:/') -d \"$BODY\"");
        say!("  curl -s -H \"Authorization: Bearer $LEADCLOCK_READ_TOKENS\" {url}/v1/leads/L-1");
    }
}

fn sign(secret_env: &str, method: &str, path: &str, file: Option<&Path>) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "--path {path:?} must start with / (the path and query, without the host)"
        ));
    }
    use std::io::Read;
    let secrets = std::env::var(secret_env)
        .map(|v| leadclock_app::auth::Secret::list(&v))
        .unwrap_or_default();
    let secret = secrets.first().ok_or_else(|| format!("{secret_env} holds no secret"))?;
    let mut body = Vec::new();
    match file {
        Some(p) if p != Path::new("-") => {
            body = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        }
        _ => {
            std::io::stdin().read_to_end(&mut body).map_err(|e| e.to_string())?;
        }
    }
    let ts = chrono::Utc::now().timestamp();
    println!("X-Leadclock-Timestamp: {ts}");
    let method = method.to_ascii_uppercase();
    println!(
        "X-Leadclock-Signature: v2={}",
        leadclock_app::auth::sign_v2(secret, ts, &method, path, &body)
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Serve {
            policy,
            data,
            listen,
            insecure_no_auth,
        } => {
            init_logging();
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let result = rt.block_on(serve(policy, data, listen, insecure_no_auth));
            // Blocking store calls cut off by the deadline must not hold the exit.
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
            result
        }
        Cmd::Policy {
            cmd: PolicyCmd::Check { file },
        } => load_policy(&file).map(|p| {
            println!(
                "{}: ok ({} lead types, {} calendars, default calendar {})",
                file.display(),
                p.lead_types.len(),
                p.calendars.len(),
                p.default_calendar
            );
        }),
        Cmd::Policy {
            cmd: PolicyCmd::Explain { event, policy },
        } => explain_cmd::run(&event, &policy),
        Cmd::Policy {
            cmd: PolicyCmd::Versions { cmd },
        } => versions_cmd::run(cmd),
        Cmd::Calendar { cmd } => calendar_cmd::run(cmd),
        Cmd::Import(args) => match import_cmd::run(&args) {
            // Some rows were refused: the rest is stored, and the exit status says so.
            Ok(true) => return ExitCode::from(2),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
        Cmd::Forget(args) => match forget_cmd::run(&args) {
            // A subject matched no stored lead: the others are erased, and the exit status says so.
            Ok(false) => return ExitCode::from(2),
            Ok(true) => Ok(()),
            Err(e) => Err(e),
        },
        Cmd::ReplayHooks(args) => match replay_cmd::run(&args) {
            // Some webhook could not be read again: the rest is replayed, and the exit status says so.
            Ok(false) => return ExitCode::from(2),
            Ok(true) => Ok(()),
            Err(e) => Err(e),
        },
        Cmd::Sign {
            secret_env,
            path,
            method,
            file,
        } => sign(&secret_env, &method, &path, file.as_deref()),
        Cmd::Report {
            policy,
            data,
            from,
            to,
            period,
            by,
            format,
        } => {
            let q = RawReportQuery {
                from,
                to,
                period,
                by,
                format: Some(format),
            };
            report_cmd::report(&policy, &data, &q)
        }
        Cmd::Baseline {
            policy,
            data,
            from,
            to,
            period,
            format,
        } => {
            let q = RawReportQuery {
                from,
                to,
                period,
                by: None,
                format: Some(format),
            };
            report_cmd::baseline(&policy, &data, &q)
        }
        Cmd::Whatif {
            policy,
            current,
            data,
            from,
            to,
            period,
            format,
        } => {
            let q = RawReportQuery {
                from,
                to,
                period,
                by: None,
                format: Some(format),
            };
            report_cmd::whatif(&current, &policy, &data, &q)
        }
        Cmd::Rollup { policy, data, day } => report_cmd::rollup(&policy, &data, day.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
