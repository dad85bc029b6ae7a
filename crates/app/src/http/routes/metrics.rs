//! `GET /v1/metrics?from=&to=&period=&by=&format=`: the methodology's metrics for a period.

use crate::http::extract::{ReadAccess, Report};
use crate::http::response::{error, text};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::{baseline_format, report_format};
use axum::extract::State;
use axum::response::Response;

pub async fn metrics<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    _: ReadAccess,
    Report(query): Report,
) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    match app.metrics(&query).await {
        Ok(report) => {
            let (content_type, body) = report_format::render(&report, query.format, app.policy.reporting_timezone);
            text(content_type, body)
        }
        Err(e) => error(&e),
    }
}

/// `GET /v1/baseline?from=&to=&period=&format=`: per lead type, today's response times beside
/// the benchmarks, and the SLA the team keeps. A quarter unless the query names a period.
pub async fn baseline<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    _: ReadAccess,
    Report(query): Report,
) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    match app.baseline(&query).await {
        Ok(b) => {
            let (content_type, body) = baseline_format::render(&b, query.format, app.policy.reporting_timezone);
            text(content_type, body)
        }
        Err(e) => error(&e),
    }
}
