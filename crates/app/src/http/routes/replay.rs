//! `POST /v1/hooks/replay`: maps the webhooks kept from a window again with the current code
//! and policy and corrects the timeline where the result differs, a page at a time, with an
//! admin token. `leadclock replay-hooks` calls it page after page.

use crate::error::{ErrorBody, IngestError};
use crate::handlers::hooks::{Replayed, MAX_REPLAY_PAGE};
use crate::http::extract::AdminBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::{Clock, Notifier, Store, Timers};
use crate::raw_hooks::RawHookCursor;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Hooks one call maps when the request names no `limit`: well inside API Gateway's 29 s.
pub const DEFAULT_REPLAY_PAGE: usize = 100;

/// The window of receipt, and where in it to go on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}))]
pub struct ReplayRequest {
    /// Hooks received at or after this instant.
    pub from: DateTime<Utc>,
    /// Hooks received before this instant.
    pub to: DateTime<Utc>,
    /// The previous answer's `next`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub after: Option<RawHookCursor>,
    /// Hooks to map in this call (1–500, 100 by default).
    #[serde(default)]
    pub limit: Option<usize>,
}

fn request(body: &[u8]) -> Result<ReplayRequest, IngestError> {
    let req: ReplayRequest = serde_json::from_slice(body)
        .map_err(|e| IngestError::Malformed(format!("not a replay request ({{\"from\", \"to\"}}): {e}")))?;
    if req.from >= req.to {
        return Err(IngestError::Invalid {
            field: "to".into(),
            message: "must be after from".into(),
        });
    }
    if req.limit.is_some_and(|l| !(1..=MAX_REPLAY_PAGE).contains(&l)) {
        return Err(IngestError::OutOfRange {
            field: "limit".into(),
            message: format!("must be from 1 to {MAX_REPLAY_PAGE}"),
        });
    }
    Ok(req)
}

#[utoipa::path(
    post,
    path = "/v1/hooks/replay",
    tag = "privacy",
    summary = "Map the kept CRM and sales-tool webhooks of a window again; correct what changed",
    description = "Each kept body is parsed and mapped with the current code and policy: events never stored are added, changed ones superseded, ones no longer derived voided, all as history (they page nobody). Call again with `after` = the answer's `next` until it has none.",
    security(("admin_token" = [])),
    request_body(content = ReplayRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "This page replayed", body = Replayed),
        (status = 400, description = "`malformed_json`, `invalid_field` (`to` before `from`), `out_of_range` (`limit`)", body = ErrorBody),
        (status = 401, description = "No admin token: `unauthorized`", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 4 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not `application/json`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; the same request is safe to send again", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn replay<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, AdminBody(body): AdminBody) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let req = match request(&body) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    let orgs = state.auth.current().await.salesforce_org_ids.clone();
    let limit = req.limit.unwrap_or(DEFAULT_REPLAY_PAGE);
    match state
        .app
        .replay_hooks((req.from, req.to), req.after.as_ref(), limit, &orgs)
        .await
    {
        Ok(done) => json(200, &done),
        Err(e) => error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HttpError;

    #[test]
    fn a_request_is_a_forward_window_with_a_bounded_page() {
        assert!(request(br#"{"from":"2026-11-01T00:00:00Z","to":"2026-12-01T00:00:00Z"}"#).is_ok());
        for (body, code) in [
            (
                &br#"{"from":"2026-12-01T00:00:00Z","to":"2026-11-01T00:00:00Z"}"#[..],
                "invalid_field",
            ),
            (
                br#"{"from":"2026-11-01T00:00:00Z","to":"2026-12-01T00:00:00Z","limit":0}"#,
                "out_of_range",
            ),
            (
                br#"{"from":"2026-11-01T00:00:00Z","to":"2026-12-01T00:00:00Z","limit":501}"#,
                "out_of_range",
            ),
            (br#"{"from":"yesterday","to":"2026-12-01T00:00:00Z"}"#, "malformed_json"),
            (
                br#"{"from":"2026-11-01T00:00:00Z","to":"2026-12-01T00:00:00Z","x":1}"#,
                "malformed_json",
            ),
        ] {
            assert_eq!(request(body).unwrap_err().code(), code, "{body:?}");
        }
    }
}
