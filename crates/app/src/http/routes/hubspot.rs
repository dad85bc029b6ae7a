//! `POST /v1/hooks/hubspot`: a HubSpot app's webhooks (a JSON array of up to 100 contact
//! events, HubSpot's v3 signature). The events become CRM facts (`leadclock_crm::hubspot`),
//! the facts events (`inbound::crm`), stored in one write. Every event HubSpot sends is answered
//! 200, the ones without SLA meaning included, with what was skipped and why: any other answer
//! makes HubSpot retry for a day. Only a store failure answers 503, so HubSpot retries it.

use crate::auth::{AuthError, Scheme};
use crate::error::{ErrorBody, HttpError, IngestError};
use crate::http::extract::SignedBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::inbound::bodies::HubSpotEvent;
use crate::inbound::crm::Skipped;
use crate::ports::{Clock, Notifier, Store, Timers};
use crate::raw_hooks::{HookSource, RawHook};
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

/// What one delivery did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookOutcome {
    pub accepted: usize,
    pub duplicates: usize,
    /// Leads reconciled, each once.
    pub leads: usize,
    /// Leads left for the sweep: the delivery's time ran out first (see `HOOK_RECONCILE_BUDGET`).
    #[serde(skip_serializing_if = "crate::handlers::batch::is_zero")]
    pub deferred: usize,
    /// Events and facts with no SLA meaning, each with its reason.
    pub skipped: Vec<SkippedItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkippedItem {
    pub what: String,
    pub reason: String,
}

impl SkippedItem {
    pub(super) fn list(skipped: Vec<Skipped>) -> Vec<SkippedItem> {
        skipped
            .into_iter()
            .map(|s| SkippedItem {
                what: s.key,
                reason: s.reason,
            })
            .collect()
    }
}

/// A delivery's size limit: 100 events whose property values (a long text property, a
/// note) can be kilobytes each. A 413 would be retried and then lost with every event in it.
pub const MAX_HUBSPOT_BYTES: usize = 1024 * 1024;

#[utoipa::path(
    post,
    path = "/v1/hooks/hubspot",
    tag = "events",
    summary = "A HubSpot app's webhooks, as HubSpot sends them",
    description = "Every event is answered 200, the ones without SLA meaning included, with what was skipped and why: any other answer makes HubSpot retry for a day.",
    request_body(content = inline(Vec<HubSpotEvent>), description = "At most 100 events", content_type = "application/json"),
    security(("hubspot_signature" = [], "hubspot_timestamp" = [])),
    responses(
        (status = 200, description = "Stored; what was skipped, and why", body = HookOutcome),
        (status = 400, description = "`malformed_json`: not a HubSpot webhook body", body = ErrorBody),
        (status = 401, description = "Not signed with HubSpot's v3 signature (`unauthorized`), or stale (`stale_request`)", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 1 MiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not `application/json`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn hubspot<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    signed: SignedBody<MAX_HUBSPOT_BYTES>,
) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    if !matches!(signed.scheme, Scheme::HubSpot | Scheme::Insecure) {
        return error(&AuthError::NotHubSpot);
    }
    let batch = match leadclock_crm::hubspot::webhooks::parse_events(&signed.body) {
        Ok(b) => b,
        Err(e) => return error(&IngestError::Malformed(format!("not a HubSpot webhook body: {e}"))),
    };
    let raw = RawHook::new(HookSource::HubSpot, None, text(&signed.body), state.app.clock.now());
    store_facts(&state, raw, &batch).await
}

/// A body the parser read as JSON is UTF-8.
pub(super) fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

/// Keeps the delivery and stores its events ([`App::receive_hook`]): 200 with what was stored
/// and what was skipped (and why), or the store's error (503 when HubSpot should retry).
pub(super) async fn store_facts<S, T, N, C>(
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
    match state.app.receive_hook(raw, batch, &[]).await {
        Ok(out) => json(
            200,
            &HookOutcome {
                accepted: out.batch.accepted,
                duplicates: out.batch.duplicates,
                leads: out.batch.leads,
                deferred: out.batch.deferred,
                skipped: SkippedItem::list(out.skipped),
            },
        ),
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "HubSpot delivery not stored");
            error(&e)
        }
    }
}
