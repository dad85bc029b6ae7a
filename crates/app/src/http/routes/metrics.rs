//! `GET /v1/metrics?from=&to=&period=&by=&format=`: the methodology's metrics for a period.

use crate::error::ErrorBody;
use crate::http::extract::{ReadAccess, Report};
use crate::http::response::{error, text};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::query::RawReportQuery;
use crate::{baseline_format, report_format};
use axum::extract::State;
use axum::response::Response;
use leadclock_domain::metrics::{Baseline, Report as MetricsReport};

#[utoipa::path(
    get,
    path = "/v1/metrics",
    tag = "reads",
    summary = "The methodology's metrics for a period",
    params(RawReportQuery),
    security(("read_token" = [])),
    responses(
        (status = 200, description = "In the asked `format`", content(
            (MetricsReport = "application/json"),
            (String = "text/plain; charset=utf-8"),
            (String = "text/csv; charset=utf-8"),
        )),
        (status = 400, description = "`invalid_field` or `out_of_range`, naming the parameter", body = ErrorBody),
        (status = 401, description = "No or a wrong `Authorization: Bearer` read token: `unauthorized`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn metrics<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    ReadAccess(scope): ReadAccess,
    Report(query): Report,
) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    match app.metrics_for(&query, &scope).await {
        Ok(report) => {
            let (content_type, body) = report_format::render(&report, query.format, app.policy.reporting_timezone);
            text(content_type, body)
        }
        Err(e) => error(&e),
    }
}

/// `GET /v1/baseline?from=&to=&period=&format=`: per lead type, today's response times beside
/// the benchmarks, and the SLA the team keeps. A quarter unless the query names a period.
#[utoipa::path(
    get,
    path = "/v1/baseline",
    tag = "reads",
    summary = "Per lead type: today's response times beside the benchmarks, and the SLA the team keeps",
    params(RawReportQuery),
    security(("read_token" = [])),
    responses(
        (status = 200, description = "In the asked `format`", content(
            (Baseline = "application/json"),
            (String = "text/plain; charset=utf-8"),
            (String = "text/csv; charset=utf-8"),
        )),
        (status = 400, description = "`invalid_field` or `out_of_range`, naming the parameter", body = ErrorBody),
        (status = 401, description = "No or a wrong `Authorization: Bearer` read token: `unauthorized`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn baseline<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    ReadAccess(scope): ReadAccess,
    Report(query): Report,
) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    match app.baseline_for(&query, &scope).await {
        Ok(b) => {
            let (content_type, body) = baseline_format::render(&b, query.format, app.policy.reporting_timezone);
            text(content_type, body)
        }
        Err(e) => error(&e),
    }
}
