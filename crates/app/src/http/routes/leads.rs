//! `GET /v1/leads/{lead_id}?timeline_limit=&timeline_after=`: the clocks, escalations and one
//! page of the timeline of one lead.

use crate::error::ErrorBody;
use crate::http::extract::{LeadIdParam, ReadAccess, Timeline};
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::view::LeadView;
use axum::extract::State;
use axum::response::Response;

#[utoipa::path(
    get,
    path = "/v1/leads/{lead_id}",
    tag = "reads",
    summary = "One lead: clocks with deadlines and delays, escalations, one page of its timeline",
    params(
        ("lead_id" = String, Path, description = "1–128 printable ASCII characters, no spaces or `/`"),
        ("timeline_limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Timeline entries in this page (default 200, at most 1000)"),
        ("timeline_after" = Option<String>, Query, description = "The previous page's `timeline_next`: this page starts after that entry"),
    ),
    security(("read_token" = [])),
    responses(
        (status = 200, description = "The lead, contact-free", body = LeadView),
        (status = 400, description = "`invalid_field`: not a lead id, or a bad `timeline_limit` / `timeline_after` (the field names which)", body = ErrorBody),
        (status = 401, description = "No or a wrong `Authorization: Bearer` read token: `unauthorized`", body = ErrorBody),
        (status = 404, description = "`lead_not_found`: no events for this lead", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn lead<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    ReadAccess(scope): ReadAccess,
    LeadIdParam(id): LeadIdParam,
    Timeline(page): Timeline,
) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    match state.app.lead_page_for(&id, &page, &scope).await {
        Ok(view) => json(200, &view),
        Err(e) => error(&e),
    }
}
