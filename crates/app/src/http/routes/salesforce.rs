//! `POST /v1/hooks/salesforce/{secret}`: Salesforce Outbound Messages (the SOAP `notifications`
//! call, 1–100 notifications about Leads and Tasks). They carry no signature: the path's
//! secret and the message's `OrganizationId` must both be this tenant's.
//!
//! One `<Ack>true</Ack>` covers the whole message, so it is sent only once every notification's
//! events are stored; anything else is a SOAP fault, and Salesforce keeps the message queued and
//! sends it again (for up to 24 hours). Notifications whose fields mean nothing for the SLA are
//! acknowledged with the rest: a fault for them would only make Salesforce resend them.

use crate::auth::{self, AuthConfig};
use crate::error::HttpError;
use crate::http::ApiState;
use crate::ports::{Clock, Notifier, Store, Timers};
use crate::raw_hooks::{HookSource, RawHook};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use leadclock_crm::salesforce::{self, FaultCode, OutboundMessage};

/// The most a message may weigh: 100 notifications of a wide record.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Why a message was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum SalesforceRefusal {
    #[error("this URL's secret is not one of LEADCLOCK_SALESFORCE_PATH_SECRETS")]
    Secret,
    #[error("Outbound Messages are SOAP: send text/xml")]
    ContentType,
    #[error("not an Outbound Message: {0}")]
    Malformed(String),
    #[error("{0}: add it to LEADCLOCK_SALESFORCE_ORG_IDS to accept its messages")]
    Org(String),
    #[error("not stored, so not acknowledged: {0}")]
    Store(String),
}

impl SalesforceRefusal {
    /// SOAP 1.1 answers faults with HTTP 500; the others tell a human reading the outbound
    /// message queue (Setup → Outbound Messages) what is wrong. Salesforce retries them all.
    fn status(&self) -> StatusCode {
        match self {
            Self::Secret => StatusCode::UNAUTHORIZED,
            Self::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Org(_) => StatusCode::FORBIDDEN,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> FaultCode {
        match self {
            Self::Store(_) => FaultCode::Server,
            _ => FaultCode::Client,
        }
    }
}

fn soap(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, salesforce::CONTENT_TYPE)], body).into_response()
}

impl IntoResponse for SalesforceRefusal {
    fn into_response(self) -> Response {
        tracing::warn!(status = self.status().as_u16(), reason = %self, "Salesforce message not acknowledged");
        soap(self.status(), salesforce::fault(self.code(), &self.to_string()))
    }
}

/// Salesforce sends `text/xml; charset=utf-8`; SOAP's other XML types are read too.
fn is_xml(headers: &HeaderMap) -> bool {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    matches!(
        essence.as_deref(),
        Some("text/xml" | "application/xml" | "application/soap+xml")
    )
}

/// The message, checked: this tenant's path secret and org, SOAP, well-formed.
fn checked(
    cfg: &AuthConfig,
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<OutboundMessage, SalesforceRefusal> {
    if !auth::verify_salesforce_path(cfg, secret) {
        return Err(SalesforceRefusal::Secret);
    }
    if !is_xml(headers) {
        return Err(SalesforceRefusal::ContentType);
    }
    let text = std::str::from_utf8(body).map_err(|_| SalesforceRefusal::Malformed("the body is not UTF-8".into()))?;
    let message = OutboundMessage::parse(text).map_err(|e| SalesforceRefusal::Malformed(e.to_string()))?;
    if !cfg.insecure {
        message
            .ensure_org(&cfg.salesforce_org_ids)
            .map_err(|e| SalesforceRefusal::Org(e.to_string()))?;
    }
    Ok(message)
}

#[utoipa::path(
    post,
    path = "/v1/hooks/salesforce/{secret}",
    tag = "events",
    summary = "Salesforce Outbound Messages (SOAP), as Salesforce sends them",
    description = "Answers `<Ack>true</Ack>` once every notification is stored; a SOAP fault otherwise, so Salesforce sends the message again.",
    params(("secret" = String, Path, description = "One of LEADCLOCK_SALESFORCE_PATH_SECRETS")),
    request_body(content = String, description = "The SOAP `notifications` envelope", content_type = "text/xml"),
    responses(
        (status = 200, description = "Stored: the SOAP acknowledgement", body = String, content_type = "text/xml"),
        (status = 400, description = "Not an Outbound Message: a SOAP fault", body = String, content_type = "text/xml"),
        (status = 401, description = "Not this tenant's path secret: a SOAP fault", body = String, content_type = "text/xml"),
        (status = 403, description = "Another org's message: a SOAP fault", body = String, content_type = "text/xml"),
        (status = 413, description = "Over 1 MiB", body = String),
        (status = 415, description = "Not XML: a SOAP fault", body = String, content_type = "text/xml"),
        (status = 500, description = "Not stored: a SOAP fault; Salesforce retries", body = String, content_type = "text/xml"),
    ),
)]
pub async fn salesforce<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let cfg = state.auth.current().await;
    let message = match checked(&cfg, &secret, &headers, &body) {
        Ok(m) => m,
        Err(refusal) => return refusal.into_response(),
    };
    let batch = match message.facts() {
        Ok(b) => b,
        Err(e) => return SalesforceRefusal::Malformed(e.to_string()).into_response(),
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let raw = RawHook::new(HookSource::Salesforce, None, text, state.app.clock.now());
    match state.app.receive_hook(raw, &batch, &cfg.salesforce_org_ids).await {
        Ok(out) => {
            tracing::info!(
                notifications = message.notifications.len(),
                accepted = out.batch.accepted,
                duplicates = out.batch.duplicates,
                skipped = out.skipped.len(),
                "Salesforce message acknowledged"
            );
            soap(StatusCode::OK, salesforce::ACK.to_owned())
        }
        Err(e) => SalesforceRefusal::Store(e.message()).into_response(),
    }
}
