//! Local adapters and the local runtime: SQLite store, in-process timers, stdout/JSON-lines/
//! Slack/webhook notifications, and the shared HTTP router served by `axum::serve`.

pub mod notify;
pub mod runtime;
pub mod store;
pub mod tasks;
pub mod timers;
