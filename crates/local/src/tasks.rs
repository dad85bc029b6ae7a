//! The local server's background tasks: timers firing, the sweep, the dispatcher and the
//! nightly rollup and retention pass. None of them can die: each item runs in its own task, so a panic or an error
//! is logged and the loop goes on with the next.

use crate::runtime::LocalApp;
use crate::shutdown::Shutdown;
use crate::timers::Fired;
use leadclock_app::error::PortError;
use leadclock_app::handlers::metrics::next_rollup;
use leadclock_app::ports::Clock;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How often the dispatcher looks for messages whose retry came due, when nothing woke it.
pub const DISPATCH_POLL: Duration = Duration::from_secs(1);

/// Runs `fut` once in its own task and logs how it ended.
pub async fn guarded<F>(what: &'static str, fut: F)
where
    F: Future<Output = Result<(), PortError>> + Send + 'static,
{
    match tokio::spawn(fut).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(task = what, error = %e, "background work failed; it will be retried"),
        Err(e) if e.is_panic() => tracing::error!(task = what, "background work panicked; carrying on"),
        Err(_) => {}
    }
}

/// The rollup of each finished day at 00:05 in the policy's reporting time zone, then the
/// retention pass.
pub fn nightly_rollups(app: Arc<LocalApp>) {
    tokio::spawn(async move {
        let tz = app.policy.reporting_timezone;
        loop {
            let now = app.clock.now();
            let (at, day) = next_rollup(tz, now);
            tokio::time::sleep((at - now).to_std().unwrap_or_default()).await;
            let pass = app.clone();
            guarded("nightly rollup and retention", async move {
                pass.nightly(day).await.map(|_| ())
            })
            .await;
        }
    });
}

/// Each fired timer reconciles its lead, in its own task.
pub fn on_timers(app: Arc<LocalApp>, mut fired: UnboundedReceiver<Fired>) {
    tokio::spawn(async move {
        while let Some(f) = fired.recv().await {
            let app = app.clone();
            tokio::spawn(guarded(
                "timer",
                async move { app.reconcile(&f.lead_id).await.map(|_| ()) },
            ));
        }
    });
}

/// Runs `work` every `period`, each run guarded.
pub fn every<F, Fut>(app: Arc<LocalApp>, what: &'static str, period: Duration, work: F)
where
    F: Fn(Arc<LocalApp>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), PortError>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            guarded(what, work(app.clone())).await;
        }
    });
}

/// Sends the outbox: whenever a pass writes messages, and every second for retries. On
/// shutdown it finishes the pass under way (the process waits for it) and stops.
pub fn dispatcher(app: Arc<LocalApp>, shutdown: &Shutdown) {
    let stop = shutdown.clone();
    shutdown.spawn(async move {
        while !stop.is_triggered() {
            let pass = app.clone();
            guarded("dispatcher", async move { pass.dispatch().await.map(|_| ()) }).await;
            tokio::select! {
                () = app.notifier.woken() => {}
                () = tokio::time::sleep(DISPATCH_POLL) => {}
                () = stop.requested() => {}
            }
        }
    });
}
