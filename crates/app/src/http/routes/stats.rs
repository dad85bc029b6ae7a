//! `GET /v1/stats`: how many events the store holds (operators, load tests).

use crate::error::{ErrorBody, StoreError};
use crate::http::extract::ReadAccess;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::EventCount;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

/// Totals of the store.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoreStats {
    /// Events stored, duplicates not counted.
    pub events: u64,
}

#[utoipa::path(
    get,
    path = "/v1/stats",
    tag = "reads",
    summary = "Events stored (the local server only)",
    security(("read_token" = [])),
    responses(
        (status = 200, description = "The totals", body = StoreStats),
        (status = 401, description = "No or a wrong read token: `unauthorized`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "The store failed for now: `store_unavailable`, with `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn stats<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, _: ReadAccess) -> Response
where
    S: EventCount + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    match state.app.store.count_events().await {
        Ok(n) => json(200, &StoreStats { events: n }),
        Err(e) => error(&StoreError(e)),
    }
}
