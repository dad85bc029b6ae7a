//! `POST /v1/hooks/salesloft`: Salesloft webhooks (the resource as the body, its event in
//! `x-salesloft-event`, signed with `x-salesloft-signature` = hex HMAC-SHA1 of the body with the
//! subscription's callback token, one of `LEADCLOCK_SALESLOFT_TOKENS`). `call_created` and a
//! sent `email_updated` are touches on the person's lead; `person_created`/`updated` teach the
//! person's email and CRM id.

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
use leadclock_crm::salesloft::EVENT_HEADER;

#[utoipa::path(
    post,
    path = "/v1/hooks/salesloft",
    tag = "events",
    summary = "Salesloft webhooks, as Salesloft sends them: calls, emails and people",
    description = "Every signed delivery is answered 200, the events without SLA meaning included. A touch for a person whose lead is not known yet is held and stored when it becomes known.",
    params(("x-salesloft-event" = String, Header, description = "The event type, e.g. `call_created`")),
    request_body(content = Object, description = "The resource, e.g. a Call or an Email", content_type = "application/json"),
    security(("salesloft_signature" = [])),
    responses(
        (status = 200, description = "Stored or held; what was skipped, and why", body = ToolOutcome),
        (status = 400, description = "`malformed_json`: not a Salesloft resource, or no `x-salesloft-event`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token configured, or the signature does not match", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not JSON", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn salesloft<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, req: Request) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let (headers, body) = match sales_tool::signed(req, &state, SalesTool::Salesloft).await {
        Ok(signed) => signed,
        Err(refused) => return refused,
    };
    let Some(event) = headers.get(EVENT_HEADER).and_then(|v| v.to_str().ok()) else {
        return error(&IngestError::Malformed(format!(
            "the request carries no {EVENT_HEADER} header"
        )));
    };
    match leadclock_crm::salesloft::parse(event, &body) {
        Ok(batch) => {
            let raw = RawHook::new(
                HookSource::Salesloft,
                Some(event.to_owned()),
                text(&body),
                state.app.clock.now(),
            );
            sales_tool::store(&state, raw, &batch).await
        }
        Err(e) => error(&IngestError::Malformed(format!("not a Salesloft webhook body: {e}"))),
    }
}
