//! `GET /healthz`: open to probes, no secrets needed. It reads the store (so a store that
//! cannot answer makes it 503) and reports the outbox's dead letters: messages the dispatcher
//! gave up on, which need someone to look.

use crate::http::response::json;
use crate::http::ApiState;
use crate::ports::Outbox;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

/// The store answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Healthy {
    /// Always `ok`.
    #[schema(pattern = "^ok$")]
    pub status: &'static str,
    /// Escalation messages the dispatcher gave up on.
    pub dead_letters: u64,
}

/// The store did not answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unhealthy {
    /// Always `unavailable`.
    #[schema(pattern = "^unavailable$")]
    pub status: &'static str,
    pub error: UnhealthyCode,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnhealthyCode {
    /// Always `store_unavailable`.
    #[schema(pattern = "^store_unavailable$")]
    pub code: &'static str,
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Liveness and the outbox's dead letters",
    description = "Open to probes, no token needed. Reads the store, so a store that cannot answer makes it 503.",
    responses(
        (status = 200, description = "The store answered", body = Healthy),
        (status = 503, description = "The store did not answer", body = Unhealthy),
    ),
)]
pub async fn healthz<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>) -> Response
where
    S: Outbox + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    match state.app.store.dead_letters().await {
        Ok(dead) => json(
            200,
            &Healthy {
                status: "ok",
                dead_letters: dead,
            },
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: the store did not answer");
            json(
                503,
                &Unhealthy {
                    status: "unavailable",
                    error: UnhealthyCode {
                        code: "store_unavailable",
                    },
                },
            )
        }
    }
}
