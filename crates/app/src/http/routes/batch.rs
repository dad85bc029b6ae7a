//! `POST /v1/events/batch`: up to 500 events of any kind, each answered in order.

use crate::error::HttpError;
use crate::http::extract::SignedBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::inbound::batch::{self, MAX_BATCH_BYTES};
use crate::ports::{Clock, Notifier, Store, Timers};
use axum::extract::State;
use axum::response::Response;

pub async fn batch<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    signed: SignedBody<MAX_BATCH_BYTES>,
) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    let items = match batch::parse(&signed.body, &app.policy_now(), app.clock.now()) {
        Ok(items) => items,
        Err(e) => return error(&e),
    };
    match app.receive_batch(items, true).await {
        Ok(outcome) => json(200, &outcome),
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(code = e.code(), error = %e, "batch failed");
            }
            error(&e)
        }
    }
}
