//! `POST /v1/events/batch`: up to 500 events of any kind, each answered in order.

use crate::error::{ErrorBody, HttpError};
use crate::handlers::batch::BatchOutcome;
use crate::http::extract::SignedBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::inbound::batch::{self, MAX_BATCH_BYTES};
use crate::inbound::bodies::BatchBody;
use crate::ports::{Clock, Notifier, Store, Timers};
use axum::extract::State;
use axum::response::Response;

#[utoipa::path(
    post,
    path = "/v1/events/batch",
    tag = "events",
    summary = "Up to 500 events of any kind, each answered in order",
    request_body(content = BatchBody, content_type = "application/json"),
    security(("leadclock_signature" = [], "leadclock_timestamp" = []), ("hubspot_signature" = [], "hubspot_timestamp" = [])),
    responses(
        (status = 200, description = "One answer per item, in order, each with its own status (202, 200, 400, 409, 422)", body = BatchOutcome),
        (status = 400, description = "`malformed_json` (not an array or `{\"items\": [...]}`), or `out_of_range` (over 500 items)", body = ErrorBody),
        (status = 401, description = "Unsigned or wrongly signed (`unauthorized`), or stale (`stale_request`)", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 1 MiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not `application/json`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
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
