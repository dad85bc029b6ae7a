//! What the Outreach and Salesloft routes share: the signed body, and a delivery's facts
//! joined to leads ([`crate::identity`]). Every delivery the signature accepts is answered 200
//! once stored, events without SLA meaning included (with the reason): a 4xx only makes the
//! tool retry or switch the webhook off. Only a store failure answers 503.

use super::hubspot::SkippedItem;
use crate::auth::{self, SalesTool};
use crate::error::HttpError;
use crate::http::extract::{header_lookup, json_content_type, limited_body};
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::{Clock, Notifier, Store, Timers};
use crate::raw_hooks::RawHook;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

/// A sales tool's webhook body is one resource: small.
pub const MAX_TOOL_BYTES: usize = 256 * 1024;

/// What one delivery did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolOutcome {
    /// Touches stored on their leads: this delivery's, and earlier held ones it made known.
    pub stored: usize,
    /// Touches held until their person's lead is known (a later person event or form).
    pub held: usize,
    /// People whose email or CRM id was learned.
    pub people_identified: usize,
    /// Events with no SLA meaning, each with its reason.
    pub skipped: Vec<SkippedItem>,
}

/// The headers and the raw body, if JSON, within the limit and signed by one of `tool`'s secrets.
pub(super) async fn signed<S, T, N, C>(
    req: Request,
    state: &ApiState<S, T, N, C>,
    tool: SalesTool,
) -> Result<(HeaderMap, Bytes), Response>
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    json_content_type(req.headers()).map_err(|e| error(&e))?;
    let headers = req.headers().clone();
    let body = limited_body(req, state, MAX_TOOL_BYTES).await?;
    let cfg = state.auth.current().await;
    auth::verify_sales_tool(&cfg, tool, &body, &header_lookup(&headers)).map_err(|e| {
        tracing::warn!(
            ?tool,
            code = e.code(),
            field = e.field().unwrap_or_default(),
            "sales tool webhook refused"
        );
        error(&e)
    })?;
    Ok((headers, body))
}

/// Keeps a delivery and stores its facts ([`crate::App::receive_hook`]): CRM-record events as
/// they are, tool people learned, touches joined to their lead or held.
pub(super) async fn store<S, T, N, C>(
    state: &ApiState<S, T, N, C>,
    raw: RawHook,
    batch: &leadclock_crm::Batch,
) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let orgs = state.auth.current().await.salesforce_org_ids.clone();
    match state.app.receive_hook(raw, batch, &orgs).await {
        Ok(out) => json(
            200,
            &ToolOutcome {
                stored: out.batch.accepted + out.joined.stored,
                held: out.joined.held,
                people_identified: out.joined.people_identified,
                skipped: SkippedItem::list(out.skipped),
            },
        ),
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "sales tool delivery not stored");
            error(&e)
        }
    }
}
