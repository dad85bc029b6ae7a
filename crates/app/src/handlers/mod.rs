//! One module per operation.

pub mod ingest;
pub mod lead;
pub mod metrics;
pub mod reconcile;
