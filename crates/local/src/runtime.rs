//! The local product: store, timers, notifier and HTTP server wired to the shared handlers.

use crate::notify::{LocalNotifier, Webhooks};
use crate::store::SqliteStore;
use crate::timers::LocalTimers;
use leadclock_app::error::PortError;
use leadclock_app::ports::SystemClock;
use leadclock_app::App;
use leadclock_domain::Policy;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How often the sweep re-checks leads with due steps or unreconciled events. It mends timers
/// lost to a crash between storing an event and arming its timer.
pub const SWEEP_PERIOD: Duration = Duration::from_secs(60);

pub type LocalApp = App<SqliteStore, LocalTimers, LocalNotifier, SystemClock>;

pub struct Config {
    pub policy: Policy,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub webhooks: Webhooks,
    /// Print each escalation line on stdout.
    pub print_escalations: bool,
    pub auth: leadclock_app::auth::AuthConfig,
    /// The public base URL senders call (for HubSpot signatures behind a proxy).
    pub public_url: Option<String>,
}

pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<LocalApp>,
    pub restored: usize,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Serves until the server stops (Ctrl-C is handled by the caller dropping the runtime).
    pub async fn wait(self) -> std::io::Result<()> {
        self.server.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Opens the store, re-arms timers from it (firing overdue steps at once), and starts serving.
pub async fn start(cfg: Config) -> Result<Running, PortError> {
    let store = SqliteStore::open(&cfg.data_dir)?;
    let (timers, mut fired) = LocalTimers::start();
    let notifier = LocalNotifier::new(&cfg.data_dir, cfg.webhooks, cfg.print_escalations);
    let app = Arc::new(App::new(Arc::new(cfg.policy), store, timers, notifier, SystemClock));

    // Restore: every lead with a pending step or unreconciled events gets its timers back.
    let restored = app.sweep(chrono::Duration::days(3650)).await?;

    let on_fire = app.clone();
    tokio::spawn(async move {
        while let Some(f) = fired.recv().await {
            let app = on_fire.clone();
            tokio::spawn(async move {
                if let Err(e) = app.reconcile(&f.lead_id, None).await {
                    tracing::warn!(lead_id = %f.lead_id, error = %e, "timer could not reconcile; the sweep will retry");
                }
            });
        }
    });
    let sweeper = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_PERIOD);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = sweeper.sweep(chrono::Duration::zero()).await {
                tracing::warn!(error = %e, "sweep failed");
            }
        }
    });

    tokio::spawn(nightly_rollups(app.clone()));

    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| PortError::new("listen", format!("{}: {e}", cfg.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| PortError::new("listen", e.to_string()))?;
    let router = crate::server::router(crate::server::Ctx {
        app: app.clone(),
        auth: std::sync::Arc::new(cfg.auth),
        public_url: cfg.public_url,
    });
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(Running {
        addr,
        app,
        restored,
        server,
    })
}

/// Minutes after local midnight (reporting time zone) when the previous day's rollup runs.
pub const ROLLUP_MINUTE: i64 = 5;

/// Runs the rollup of each finished day at 00:05 in the policy's reporting time zone.
async fn nightly_rollups(app: Arc<LocalApp>) {
    use leadclock_app::handlers::metrics::local_midnight;
    let tz = app.policy.reporting_timezone;
    loop {
        let now = chrono::Utc::now();
        let today = now.with_timezone(&tz).date_naive();
        let mut next = local_midnight(tz, today) + chrono::Duration::minutes(ROLLUP_MINUTE);
        if next <= now {
            next = local_midnight(tz, today.succ_opt().unwrap_or(today)) + chrono::Duration::minutes(ROLLUP_MINUTE);
        }
        tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
        let day = next.with_timezone(&tz).date_naive().pred_opt().unwrap_or(today);
        if let Err(e) = app.rollup(day).await {
            tracing::error!(day = %day, error = %e, "nightly rollup failed");
        }
    }
}
