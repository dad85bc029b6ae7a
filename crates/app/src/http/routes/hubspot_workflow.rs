//! `POST /v1/hooks/hubspot/workflow?portal=`: a HubSpot workflow's "Send a webhook" action,
//! enrolled on a form submission. The body is the enrolled contact (all its properties, or the
//! ones the admin picked); it becomes the lead's engagement (a form event), classified by the
//! policy's rules over the contact's properties (`properties.recent_conversion_event_name`, …).
//!
//! A workflow inside a HubSpot app signs with the app's v3 signature; a workflow outside one
//! sends `Authorization: Bearer <token>` (one of `LEADCLOCK_HUBSPOT_WORKFLOW_TOKENS`). HubSpot
//! retries a workflow webhook that fails, so every run gets 200 once stored (skipped ones too).

use super::hubspot::{store_facts, text};
use crate::auth::{self, AuthError, Scheme};
use crate::error::{ErrorBody, IngestError};
use crate::http::extract::{header_lookup, json_content_type, limited_body, SignedBody};
use crate::http::response::error;
use crate::http::ApiState;
use crate::ports::{Clock, Notifier, Store, Timers};
use crate::query::QueryError;
use crate::raw_hooks::{HookSource, RawHook};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::response::Response;

/// A contact with every property and its version history can be large.
pub const MAX_WORKFLOW_BYTES: usize = 512 * 1024;

#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowQuery {
    /// The HubSpot portal (account) id: needed when the body does not carry `portal-id`
    /// (a customized request body), checked against it when it does.
    pub portal: Option<u64>,
}

/// The body, if the request carries a workflow token or the app's v3 signature.
async fn authenticated<S, T, N, C>(req: Request, state: &ApiState<S, T, N, C>) -> Result<Bytes, Response>
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    if !req.headers().contains_key(header::AUTHORIZATION) {
        let signed = SignedBody::<MAX_WORKFLOW_BYTES>::from_request(req, state).await?;
        if !matches!(signed.scheme, Scheme::HubSpot | Scheme::Insecure) {
            return Err(error(&AuthError::NotHubSpot));
        }
        return Ok(signed.body);
    }
    let cfg = state.auth.current().await;
    auth::verify_hubspot_workflow(&cfg, &header_lookup(req.headers())).map_err(|e| {
        tracing::warn!(code = "unauthorized", "HubSpot workflow webhook refused");
        error(&e)
    })?;
    json_content_type(req.headers()).map_err(|e| error(&e))?;
    limited_body(req, state, MAX_WORKFLOW_BYTES).await
}

#[utoipa::path(
    post,
    path = "/v1/hooks/hubspot/workflow",
    tag = "events",
    summary = "A HubSpot workflow's \"Send a webhook\" action: the enrolled contact engages",
    params(WorkflowQuery),
    request_body(content = Object, description = "The contact as HubSpot sends it (all properties, or a customized body)", content_type = "application/json"),
    security(("workflow_token" = []), ("hubspot_signature" = [], "hubspot_timestamp" = [])),
    responses(
        (status = 200, description = "Stored; what was skipped, and why", body = super::hubspot::HookOutcome),
        (status = 400, description = "`invalid_query` (portal) or `malformed_json`: not a workflow body, or another portal's", body = ErrorBody),
        (status = 401, description = "No workflow token and no HubSpot v3 signature: `unauthorized` (or `stale_request`)", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 512 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not `application/json`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn workflow<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, req: Request) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let portal = match WorkflowQuery::parse(req.uri().query()) {
        Ok(q) => q.portal,
        Err(e) => return error(&e),
    };
    let body = match authenticated(req, &state).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let batch = match leadclock_crm::hubspot::parse_workflow(&body, portal) {
        Ok(b) => b,
        Err(e) => return error(&IngestError::Malformed(format!("not a HubSpot workflow body: {e}"))),
    };
    let context = portal.map(|p| p.to_string());
    let raw = RawHook::new(HookSource::HubSpotWorkflow, context, text(&body), state.app.clock.now());
    store_facts(&state, raw, &batch).await
}

impl WorkflowQuery {
    /// `?portal=` as a number, if given.
    fn parse(query: Option<&str>) -> Result<WorkflowQuery, QueryError> {
        let invalid = || QueryError::Invalid {
            field: "portal",
            message: "must be the HubSpot portal id, a whole number".into(),
        };
        let portal = query
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.strip_prefix("portal="))
            .next_back()
            .map(|v| v.parse::<u64>().map_err(|_| invalid()))
            .transpose()?;
        Ok(WorkflowQuery { portal })
    }
}
