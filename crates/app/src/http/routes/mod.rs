//! One module per route, each short: extract, call the shared handler, render.

pub mod batch;
pub mod events;
pub mod health;
pub mod hubspot;
pub mod hubspot_workflow;
pub mod leads;
pub mod metrics;
pub mod outreach;
pub mod privacy;
pub mod replay;
pub mod sales_tool;
pub mod salesforce;
pub mod salesloft;
pub mod stats;

use super::response::error;
use crate::error::RouteError;
use axum::response::Response;

pub async fn not_found() -> Response {
    error(&RouteError::NotFound("no such route; see README for the API".into()))
}

pub async fn method_not_allowed() -> Response {
    error(&RouteError::MethodNotAllowed)
}
