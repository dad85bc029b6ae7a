//! One module per operation.

pub mod dispatch;
pub mod ingest;
pub mod lead;
pub mod metrics;
pub mod reconcile;
