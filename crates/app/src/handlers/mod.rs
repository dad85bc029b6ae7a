//! One module per operation.

pub mod baseline;
pub mod batch;
pub mod dashboard;
pub mod dispatch;
pub mod hooks;
pub mod ingest;
pub mod lead;
pub mod metrics;
pub mod privacy;
pub mod reconcile;
pub mod timeline;
pub mod whatif;
pub mod writeback;
