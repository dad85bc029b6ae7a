//! In-process timers: one tokio task holds every pending timer and sends the lead id of each
//! that falls due to a channel the runtime drains. Nothing here is durable: each lead's saved
//! summary lists what it armed, and start-up re-arms from it. Due instants are read against
//! the injected clock.

use chrono::{DateTime, Utc};
use leadclock_app::error::PortError;
use leadclock_app::ports::{Clock, Timers};
use leadclock_domain::steps::Timer;
use leadclock_domain::LeadId;
use std::collections::{BTreeSet, HashMap};
use tokio::sync::mpsc;
use tokio::time::Instant;

enum Command {
    Schedule(Timer),
    Cancel(String),
}

/// Handle to the timer task. Cheap to clone.
#[derive(Clone)]
pub struct LocalTimers {
    tx: mpsc::UnboundedSender<Command>,
}

/// A timer that fell due.
#[derive(Debug, Clone)]
pub struct Fired {
    pub lead_id: LeadId,
    pub due_at: DateTime<Utc>,
}

impl LocalTimers {
    /// Starts the timer task; due timers arrive on the returned receiver.
    pub fn start(clock: impl Clock + 'static) -> (Self, mpsc::UnboundedReceiver<Fired>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (fired_tx, fired_rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx, fired_tx, clock));
        (Self { tx }, fired_rx)
    }
}

/// The runtime instant when `due` comes, by the injected clock.
fn instant_of(due: DateTime<Utc>, clock: &impl Clock) -> Instant {
    let wait = (due - clock.now()).to_std().unwrap_or_default();
    Instant::now() + wait
}

async fn run(mut rx: mpsc::UnboundedReceiver<Command>, fired: mpsc::UnboundedSender<Fired>, clock: impl Clock) {
    let mut by_key: HashMap<String, Timer> = HashMap::new();
    let mut queue: BTreeSet<(DateTime<Utc>, String)> = BTreeSet::new();
    loop {
        let next = queue.first().cloned();
        let sleep = async {
            match &next {
                Some((due, _)) => tokio::time::sleep_until(instant_of(*due, &clock)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            cmd = rx.recv() => match cmd {
                None => return,
                Some(Command::Schedule(t)) => {
                    let key = t.key();
                    if let Some(old) = by_key.remove(&key) {
                        queue.remove(&(old.due_at, key.clone()));
                    }
                    queue.insert((t.due_at, key.clone()));
                    by_key.insert(key, t);
                }
                Some(Command::Cancel(key)) => {
                    if let Some(old) = by_key.remove(&key) {
                        queue.remove(&(old.due_at, key));
                    }
                }
            },
            () = sleep => {
                if let Some((due, key)) = next {
                    queue.remove(&(due, key.clone()));
                    if let Some(t) = by_key.remove(&key) {
                        if fired.send(Fired { lead_id: t.lead_id, due_at: due }).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

impl Timers for LocalTimers {
    async fn schedule(&self, timer: &Timer) -> Result<(), PortError> {
        self.tx
            .send(Command::Schedule(timer.clone()))
            .map_err(|_| PortError::new("schedule timer", "timer task stopped"))
    }

    async fn cancel(&self, timer: &Timer) -> Result<(), PortError> {
        self.tx
            .send(Command::Cancel(timer.key()))
            .map_err(|_| PortError::new("cancel timer", "timer task stopped"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_domain::ClockKind;

    fn timer(lead: &str, clock: ClockKind, due_ms: i64) -> Timer {
        Timer {
            lead_id: LeadId::parse(lead).unwrap(),
            cycle: 1,
            clock,
            step: 0,
            due_at: Utc::now() + chrono::Duration::milliseconds(due_ms),
        }
    }

    #[tokio::test]
    async fn fires_in_order_replaces_and_cancels() {
        let (timers, mut fired) = LocalTimers::start(leadclock_app::ports::SystemClock);
        timers.schedule(&timer("B", ClockKind::Response, 200)).await.unwrap();
        timers.schedule(&timer("A", ClockKind::Response, 100)).await.unwrap();
        // Replacing A's response timer moves it after B.
        timers.schedule(&timer("A", ClockKind::Response, 300)).await.unwrap();
        timers.schedule(&timer("C", ClockKind::Assignment, 150)).await.unwrap();
        timers.cancel(&timer("C", ClockKind::Assignment, 0)).await.unwrap();
        let start = std::time::Instant::now();
        let first = fired.recv().await.unwrap();
        let second = fired.recv().await.unwrap();
        assert_eq!((first.lead_id.as_str(), second.lead_id.as_str()), ("B", "A"));
        assert!(start.elapsed() >= std::time::Duration::from_millis(250));
        let none = tokio::time::timeout(std::time::Duration::from_millis(300), fired.recv()).await;
        assert!(none.is_err(), "cancelled timer fired");
    }

    #[tokio::test]
    async fn overdue_fires_at_once() {
        let (timers, mut fired) = LocalTimers::start(leadclock_app::ports::SystemClock);
        timers
            .schedule(&timer("L", ClockKind::Response, -60_000))
            .await
            .unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_millis(200), fired.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.lead_id.as_str(), "L");
    }
}
