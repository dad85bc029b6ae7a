//! Local adapters and the local server: SQLite store, in-process timers, stdout/JSON-lines/
//! Slack/webhook notifications, and the HTTP API.

pub mod notify;
pub mod runtime;
pub mod server;
pub mod store;
pub mod timers;
