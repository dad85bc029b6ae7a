//! The local product: store, timers, notifier and HTTP server wired to the shared handlers.

use crate::notify::{LocalNotifier, Webhooks};
use crate::serve::Limits;
use crate::shutdown::Shutdown;
use crate::store::{SqliteStore, DB_FILE};
use crate::tasks;
use crate::timers::LocalTimers;
use leadclock_app::auth::AuthConfig;
use leadclock_app::error::PortError;
use leadclock_app::http::{self, ApiState, PublicBase, Routes, StaticAuth};
use leadclock_app::policy_file::versions_of;
use leadclock_app::ports::SystemClock;
use leadclock_app::App;
use leadclock_domain::policy::Versions;
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
    /// The policy file's text: recorded as a new policy version when it changed.
    pub policy_source: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub webhooks: Webhooks,
    /// Print each escalation line on stdout.
    pub print_escalations: bool,
    pub auth: AuthConfig,
    /// The public base URL senders call (for HubSpot signatures behind a proxy).
    pub public_url: Option<String>,
    /// Timeouts and the connection cap of the HTTP server.
    pub limits: Limits,
    /// When triggered, the server stops accepting and drains by its deadline.
    pub shutdown: Shutdown,
    /// CRM write-back: off unless a CRM's credentials are set.
    pub write_back: leadclock_app::writeback::Settings,
}

pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<LocalApp>,
    pub restored: usize,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Serves until the server stops: after `Config::shutdown` triggers, once the requests in
    /// flight are answered (or its deadline passes).
    pub async fn wait(self) -> std::io::Result<()> {
        self.server.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Records the policy the server starts with as the version in force from now when it changed
/// (as version 1, in force since the beginning, on a store that has none), and returns every
/// version: leads are judged by the one in force at their first engagement.
async fn adopt_policy(store: &SqliteStore, source: &str) -> Result<Versions, PortError> {
    let stored = store.adopt_policy(source, chrono::Utc::now()).await?;
    let versions = versions_of(&stored, DB_FILE).map_err(|e| PortError::new("policy versions", e))?;
    let current = versions.current();
    match current.effective_from {
        Some(from) => tracing::info!(version = current.number, %from, "policy version in force"),
        None => tracing::info!(version = current.number, "policy version in force since the beginning"),
    }
    Ok(versions)
}

/// Opens the store, re-arms timers from it (firing overdue steps at once), starts the
/// background tasks (timers, sweep, dispatcher, nightly rollup) and starts serving.
pub async fn start(cfg: Config) -> Result<Running, PortError> {
    let store = SqliteStore::open(&cfg.data_dir)?;
    let (timers, fired) = LocalTimers::start(SystemClock);
    let notifier = LocalNotifier::new(&cfg.data_dir, cfg.webhooks, cfg.print_escalations);
    let versions = adopt_policy(&store, &cfg.policy_source).await?;
    let app = Arc::new(
        App::new(Arc::new(cfg.policy), store, timers, notifier, SystemClock)
            .with_versions(versions)
            .with_write_back(cfg.write_back),
    );

    // Restore: every lead's armed timers come back, then overdue steps and unreconciled events
    // are handled at once.
    app.store.release_leases(chrono::Utc::now()).await?;
    let restored = app.restore_timers(chrono::Duration::days(3650)).await?;
    app.sweep(chrono::Duration::zero()).await?;

    tasks::on_timers(app.clone(), fired);
    tasks::every(app.clone(), "sweep", SWEEP_PERIOD, |app| async move {
        app.sweep(chrono::Duration::zero()).await.map(|_| ())
    });
    tasks::every(
        app.clone(),
        "report facts backfill",
        Duration::from_secs(1),
        |app| async move {
            app.backfill_facts(leadclock_app::handlers::reconcile::BACKFILL_PER_TICK)
                .await
                .map(|_| ())
        },
    );
    tasks::dispatcher(app.clone(), &cfg.shutdown);
    tasks::nightly_rollups(app.clone());

    let listener =
        crate::serve::bind(cfg.listen).map_err(|e| PortError::new("listen", format!("{}: {e}", cfg.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| PortError::new("listen", e.to_string()))?;
    let router = local_router(app.clone(), cfg.auth, cfg.public_url);
    let server = tokio::spawn(crate::serve::serve(listener, router, cfg.limits, cfg.shutdown));
    Ok(Running {
        addr,
        app,
        restored,
        server,
    })
}

/// Every route, plus the local-only `/v1/stats`, with the public URL senders sign.
fn local_router(app: Arc<LocalApp>, auth: AuthConfig, public_url: Option<String>) -> axum::Router {
    let state = ApiState {
        app,
        auth: Arc::new(StaticAuth(Arc::new(auth))),
    };
    let router = http::finish(http::routes(state.clone(), &Routes::all()).merge(http::stats(state)));
    match public_url {
        Some(base) => router.layer(axum::Extension(PublicBase(base))),
        None => router,
    }
}
