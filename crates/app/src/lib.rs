//! The handlers every host shares, and the ports they drive.
//!
//! The local server and the Lambda functions only parse their transport, call an [`App`]
//! method, and render the result.

pub mod auth;
pub mod error;
pub mod handlers;
pub mod memory;
pub mod message;
pub mod ports;
pub mod report_format;
pub mod view;
pub mod wire;

use leadclock_domain::Policy;
use std::sync::Arc;

/// The handlers, wired to one set of adapters.
pub struct App<S, T, N, C> {
    pub policy: Arc<Policy>,
    pub store: S,
    pub timers: T,
    pub notifier: N,
    pub clock: C,
}

impl<S, T, N, C> App<S, T, N, C> {
    pub fn new(policy: Arc<Policy>, store: S, timers: T, notifier: N, clock: C) -> Self {
        Self {
            policy,
            store,
            timers,
            notifier,
            clock,
        }
    }
}
