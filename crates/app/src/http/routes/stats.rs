//! `GET /v1/stats`: how many events the store holds (operators, load tests).

use crate::error::StoreError;
use crate::http::extract::ReadAccess;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::EventCount;
use axum::extract::State;
use axum::response::Response;

pub async fn stats<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, _: ReadAccess) -> Response
where
    S: EventCount + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    match state.app.store.count_events().await {
        Ok(n) => json(200, &serde_json::json!({"events": n})),
        Err(e) => error(&StoreError(e)),
    }
}
