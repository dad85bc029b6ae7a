//! Local adapters and the local runtime: SQLite store, in-process timers, stdout/JSON-lines/
//! Slack/webhook notifications, and the shared HTTP router served by hyper under the limits of
//! [`serve`], stopped by [`shutdown`], one server per data dir ([`lock`]).

pub mod lock;
pub mod notify;
pub mod runtime;
pub mod serve;
pub mod shutdown;
pub mod store;
pub mod tasks;
pub mod timers;
