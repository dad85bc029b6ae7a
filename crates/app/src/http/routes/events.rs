//! `POST /v1/events/{form,assignment,touch,stage}`: leadclock's JSON, one event per request.

use crate::error::{ErrorBody, HttpError, IngestError, RouteError};
use crate::handlers::ingest::Accepted;
use crate::http::extract::SignedBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::inbound::bodies::{AssignmentBody, FormBody, StageBody, TouchBody};
use crate::inbound::{Inbound, Kind, LeadclockJson};
use crate::ports::{Clock, Notifier, Store, Timers};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;

/// `POST /v1/events/{kind}` for the kind its route was mounted with.
pub async fn ingest<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    Extension(kind): Extension<Kind>,
    signed: SignedBody,
) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let header = signed.header();
    let request = Inbound {
        body: &signed.body,
        header: &header,
        received_at: state.app.clock.now(),
    };
    match state.app.receive(&LeadclockJson { kind }, &request).await {
        Ok(mut accepted) => match accepted.pop() {
            Some(a) => json(a.status(), &a),
            None => error(&IngestError::Malformed("the request carried no event".into())),
        },
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(code = e.code(), error = %e, "ingest failed");
            }
            error(&e)
        }
    }
}

/// The OpenAPI operation of one `POST /v1/events/{kind}` route (all served by [`ingest`]): the
/// four differ only in path, summary and body, so their answers are written once.
macro_rules! event_doc {
    ($name:ident, $path:literal, $summary:literal, $body:ident) => {
        #[doc = concat!("The OpenAPI operation of `POST ", $path, "` (served by [`ingest`]).")]
        #[utoipa::path(
            post,
            path = $path,
            tag = "events",
            summary = $summary,
            request_body(content = $body, content_type = "application/json"),
            security(("leadclock_signature" = [], "leadclock_timestamp" = []), ("hubspot_signature" = [], "hubspot_timestamp" = [])),
            responses(
                (status = 202, description = "A new event, stored; the body has the lead's clocks", body = Accepted),
                (status = 200, description = "A repeat of a stored event: the same shape, `duplicate: true`", body = Accepted),
                (status = 400, description = "`malformed_json`, `missing_field`, `invalid_field` or `out_of_range`", body = ErrorBody),
                (status = 401, description = "Unsigned or wrongly signed (`unauthorized`), or signed more than 5 minutes from the server's clock (`stale_request`)", body = ErrorBody),
                (status = 409, description = "`event_id_conflict`: the `event_id` was stored with a different body", body = ErrorBody),
                (status = 413, description = "`body_too_large`: over 64 KiB", body = ErrorBody),
                (status = 415, description = "`unsupported_media_type`: not `application/json`", body = ErrorBody),
                (status = 422, description = "`unknown_lead_type`, `unclassified`, `unknown_stage`, or `lead_event_limit` (the lead holds the most events a lead may: 5,000; corrections with `supersedes` are still stored)", body = ErrorBody),
                (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
                (status = 503, description = "`store_unavailable`: the store failed for now (nothing stored; retry after `Retry-After`)", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
            ),
        )]
        #[allow(dead_code)]
        pub(crate) fn $name() {}
    };
}

event_doc!(
    form_doc,
    "/v1/events/form",
    "A form fill: the engagement that starts an MQL cycle",
    FormBody
);
event_doc!(
    assignment_doc,
    "/v1/events/assignment",
    "An assignment: the lead got an owner",
    AssignmentBody
);
event_doc!(touch_doc, "/v1/events/touch", "A touch: a rep reached out", TouchBody);
event_doc!(
    stage_doc,
    "/v1/events/stage",
    "A stage change: the lead moved in the funnel",
    StageBody
);

/// `POST /v1/events/{anything else}`.
pub async fn unknown_kind(Path(kind): Path<String>) -> Response {
    error(&RouteError::NotFound(format!(
        "no event kind {kind:?}; use form, assignment, touch or stage"
    )))
}
