//! `GET /v1/leads/{lead_id}?timeline_limit=&timeline_after=`: the clocks, escalations and one
//! page of the timeline of one lead.

use crate::http::extract::{LeadIdParam, ReadAccess, Timeline};
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use axum::extract::State;
use axum::response::Response;

pub async fn lead<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    _: ReadAccess,
    LeadIdParam(id): LeadIdParam,
    Timeline(page): Timeline,
) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    match state.app.lead_page(&id, &page).await {
        Ok(view) => json(200, &view),
        Err(e) => error(&e),
    }
}
