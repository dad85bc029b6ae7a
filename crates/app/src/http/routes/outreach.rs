//! `POST /v1/hooks/outreach`: Outreach webhooks (one JSON:API resource per request, signed with
//! `Outreach-Webhook-Signature` = hex HMAC-SHA256 of the body with the webhook's secret, one of
//! `LEADCLOCK_OUTREACH_SECRETS`). `mailing.delivered`, `call.created` and `task.completed` are
//! touches on the prospect's lead; `prospect.created`/`updated` teach the prospect's emails.

use super::hubspot::text;
use super::sales_tool::{self, ToolOutcome};
use crate::auth::SalesTool;
use crate::error::{ErrorBody, IngestError};
use crate::http::response::error;
use crate::http::ApiState;
use crate::ports::{Clock, Notifier, Store, Timers};
use crate::raw_hooks::{HookSource, RawHook};
use axum::extract::{Request, State};
use axum::response::Response;

#[utoipa::path(
    post,
    path = "/v1/hooks/outreach",
    tag = "events",
    summary = "Outreach webhooks, as Outreach sends them: touches and prospects",
    description = "Every signed delivery is answered 200, the events without SLA meaning included. A touch for a prospect whose lead is not known yet is held and stored when it becomes known.",
    request_body(content = Object, description = "`{\"data\": {…}, \"meta\": {\"eventName\", \"deliveredAt\"}}`", content_type = "application/vnd.api+json"),
    security(("outreach_signature" = [])),
    responses(
        (status = 200, description = "Stored or held; what was skipped, and why", body = ToolOutcome),
        (status = 400, description = "`malformed_json`: not an Outreach webhook body", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no secret configured, or the signature does not match", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not JSON", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn outreach<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, req: Request) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let (_, body) = match sales_tool::signed(req, &state, SalesTool::Outreach).await {
        Ok(signed) => signed,
        Err(refused) => return refused,
    };
    match leadclock_crm::outreach::parse(&body) {
        Ok(batch) => {
            let raw = RawHook::new(HookSource::Outreach, None, text(&body), state.app.clock.now());
            sales_tool::store(&state, raw, &batch).await
        }
        Err(e) => error(&IngestError::Malformed(format!("not an Outreach webhook body: {e}"))),
    }
}
