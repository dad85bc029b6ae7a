//! `POST /v1/events/{form,assignment,touch,stage}`: leadclock's JSON, one event per request.

use crate::error::{HttpError, IngestError, RouteError};
use crate::http::extract::SignedBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
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

/// `POST /v1/events/{anything else}`.
pub async fn unknown_kind(Path(kind): Path<String>) -> Response {
    error(&RouteError::NotFound(format!(
        "no event kind {kind:?}; use form, assignment, touch or stage"
    )))
}
