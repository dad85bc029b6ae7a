//! One module per operation.

pub mod ingest;
pub mod lead;
pub mod reconcile;
