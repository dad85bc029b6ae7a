//! `GET /healthz`: open to probes, no secrets needed. It reads the store (so a store that
//! cannot answer makes it 503) and reports the outbox's dead letters: messages the dispatcher
//! gave up on, which need someone to look.

use crate::http::response::json;
use crate::http::ApiState;
use crate::ports::Outbox;
use axum::extract::State;
use axum::response::Response;
use serde_json::json;

pub async fn healthz<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>) -> Response
where
    S: Outbox + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    match state.app.store.dead_letters().await {
        Ok(dead) => json(200, &json!({"status": "ok", "dead_letters": dead})),
        Err(e) => {
            tracing::error!(error = %e, "health check: the store did not answer");
            json(
                503,
                &json!({"status": "unavailable", "error": {"code": "store_unavailable"}}),
            )
        }
    }
}
