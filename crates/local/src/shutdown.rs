//! Graceful shutdown, as one value every part of the local runtime shares.
//!
//! A [`Shutdown`] is triggered once: by SIGTERM or SIGINT ([`Shutdown::on_signals`]) or by a
//! caller ([`Shutdown::trigger`]). From then on there is one deadline, `grace` after the trigger
//! (10 s by default), that bounds everything still running:
//!
//! 1. the server stops accepting connections and lets the requests in flight finish
//!    (see [`crate::serve`]); idle keep-alive connections are closed at once;
//! 2. background work that must not be cut off half-way (the current delivery of a
//!    notification, say) runs as a tracked task, and [`Shutdown::drain`] waits for it;
//! 3. the store needs nothing more: every acknowledged event was committed before its answer.
//!
//! How a background task uses it:
//!
//! ```ignore
//! let stop = shutdown.clone();
//! shutdown.spawn(async move {
//!     loop {
//!         tokio::select! {
//!             _ = stop.requested() => break,   // finish nothing new after the trigger
//!             job = queue.recv() => deliver(job).await, // a started delivery completes
//!         }
//!     }
//! });
//! ```
//!
//! Tasks that can be dropped at any point (the sweep, the timers: a lost timer is re-armed by the
//! next start's sweep) need not be tracked; they end with the runtime.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long the whole shutdown may take, from the signal to the exit, unless configured.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The shared stop signal and its deadline. Clones are the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    token: CancellationToken,
    tasks: TaskTracker,
    grace: Duration,
    deadline: Arc<OnceLock<Instant>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new(DEFAULT_GRACE)
    }
}

impl Shutdown {
    /// A signal not yet triggered, whose shutdown may last `grace` once it is.
    pub fn new(grace: Duration) -> Self {
        Shutdown {
            token: CancellationToken::new(),
            tasks: TaskTracker::new(),
            grace,
            deadline: Arc::new(OnceLock::new()),
        }
    }

    /// Starts the shutdown: the deadline is set now. Later calls change nothing.
    pub fn trigger(&self) {
        self.deadline.get_or_init(|| Instant::now() + self.grace);
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once the shutdown has started (at once if it already has).
    pub async fn requested(&self) {
        self.token.cancelled().await;
    }

    /// A token cancelled with this shutdown, for code that takes a `CancellationToken`.
    pub fn token(&self) -> CancellationToken {
        self.token.child_token()
    }

    /// When everything must be done by; `None` before the trigger.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.get().copied()
    }

    /// Runs `task` as work the shutdown waits for (up to the deadline), e.g. a delivery loop.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tasks.spawn(task)
    }

    /// After the trigger: waits for the tracked tasks until the deadline. Returns how many were
    /// still running when the deadline passed (they are dropped with the runtime).
    pub async fn drain(&self) -> usize {
        self.tasks.close();
        let deadline = self.deadline().unwrap_or_else(|| Instant::now() + self.grace);
        match tokio::time::timeout_at(deadline, self.tasks.wait()).await {
            Ok(()) => 0,
            Err(_) => self.tasks.len(),
        }
    }

    /// Triggers this shutdown on the first SIGTERM or SIGINT (Ctrl-C). Must be called inside a
    /// Tokio runtime; fails only if the signal handlers cannot be installed.
    pub fn on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let me = self.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!(signal = name, grace = ?me.grace, "shutting down: no new connections, finishing requests in flight");
            me.trigger();
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn drain_waits_for_tracked_work_but_not_past_the_deadline() {
        let s = Shutdown::new(Duration::from_secs(10));
        assert!(s.deadline().is_none() && !s.is_triggered());
        let quick = s.spawn(tokio::time::sleep(Duration::from_secs(2)));
        s.spawn(tokio::time::sleep(Duration::from_secs(60)));
        let started = Instant::now();
        s.trigger();
        s.requested().await;
        assert_eq!(s.deadline(), Some(started + Duration::from_secs(10)));
        assert_eq!(s.drain().await, 1, "the 60 s task outlives the deadline");
        assert!(quick.is_finished());
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        // A second trigger does not move the deadline.
        s.trigger();
        assert_eq!(s.deadline(), Some(started + Duration::from_secs(10)));
    }

    #[tokio::test(start_paused = true)]
    async fn drain_returns_as_soon_as_the_work_is_done() {
        let s = Shutdown::default();
        s.spawn(tokio::time::sleep(Duration::from_secs(1)));
        let token = s.token();
        let started = Instant::now();
        s.trigger();
        assert!(token.is_cancelled());
        assert_eq!(s.drain().await, 0);
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }
}
