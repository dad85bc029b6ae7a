//! Extractors shared by every route: a webhook body whose signature has been checked, a read
//! that carried its token, a typed report query, path parameters. Each rejects with the
//! documented JSON error.

use super::response::error;
use super::ApiState;
use crate::auth::{self, Signed};
use crate::error::{HttpError, IngestError, RouteError};
use crate::inbound::leadclock_json::MAX_BODY_BYTES;
use crate::ports::Clock;
use crate::query::{QueryError, RawReportQuery, ReportQuery};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use leadclock_domain::Scope;

/// The base URL senders call (`https://leads.example.com`), set by the host: from
/// `LEADCLOCK_PUBLIC_URL` locally, from API Gateway's domain name on Lambda. Without it the
/// request's `Host` is used.
#[derive(Debug, Clone)]
pub struct PublicBase(pub String);

pub(crate) fn header_lookup(headers: &HeaderMap) -> impl Fn(&str) -> Option<String> + Sync + '_ {
    move |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The full URL the sender called, as HubSpot signs it.
fn called_url(parts: &Parts) -> String {
    let base = match parts.extensions.get::<PublicBase>() {
        Some(PublicBase(b)) => b.clone(),
        None => {
            let host = parts
                .headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    format!("{}{path}", base.trim_end_matches('/'))
}

/// The JSON routes take `application/json` (any parameters, e.g. `; charset=utf-8`) or a
/// `+json` type; anything else, or none, is 415 before the body is read.
pub(crate) fn json_content_type(headers: &HeaderMap) -> Result<(), IngestError> {
    let received = headers
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = received.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    if json {
        return Ok(());
    }
    tracing::warn!(content_type = %received, "webhook refused: not JSON");
    Err(IngestError::UnsupportedMediaType {
        expected: "application/json",
        received,
    })
}

/// A request's raw body within `limit` bytes, or the documented `body_too_large` /
/// `malformed_json` error.
pub(crate) async fn limited_body<St: Send + Sync>(req: Request, state: &St, limit: usize) -> Result<Bytes, Response> {
    let too_large = || error(&IngestError::TooLarge { limit });
    match Bytes::from_request(req, state).await {
        Ok(b) if b.len() <= limit => Ok(b),
        Ok(_) => Err(too_large()),
        Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
        Err(rej) => Err(error(&IngestError::Malformed(rej.body_text()))),
    }
}

/// A webhook's raw body, within the size limit, whose signature the current secrets accept.
pub struct SignedBody<const LIMIT: usize = MAX_BODY_BYTES> {
    pub body: Bytes,
    pub headers: HeaderMap,
    /// Which scheme signed it: vendor routes accept only their vendor's.
    pub scheme: auth::Scheme,
}

impl<S, T, N, C, const LIMIT: usize> FromRequest<ApiState<S, T, N, C>> for SignedBody<LIMIT>
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &ApiState<S, T, N, C>) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        json_content_type(&parts.headers).map_err(|e| error(&e))?;
        let url = called_url(&parts);
        let body = limited_body(Request::from_parts(parts.clone(), body), state, LIMIT).await?;
        let cfg = state.auth.current().await;
        let verdict = {
            let header = header_lookup(&parts.headers);
            let signed = Signed {
                method: parts.method.as_str(),
                uri: &url,
                body: &body,
                header: &header,
            };
            auth::verify_webhook(&cfg, &signed, state.app.clock.now())
        };
        match verdict {
            Ok(scheme) => Ok(SignedBody {
                body,
                headers: parts.headers,
                scheme,
            }),
            Err(e) => {
                tracing::warn!(
                    code = e.code(),
                    field = e.field().unwrap_or_default(),
                    "webhook refused"
                );
                Err(error(&e))
            }
        }
    }
}

impl<const LIMIT: usize> SignedBody<LIMIT> {
    /// Header lookup by lower-case name, for inbound adapters.
    pub fn header(&self) -> impl Fn(&str) -> Option<String> + Sync + '_ {
        header_lookup(&self.headers)
    }
}

/// A read whose bearer token the current tokens accept.
pub struct ReadAccess(pub Scope);

impl<S, T, N, C> FromRequestParts<ApiState<S, T, N, C>> for ReadAccess
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState<S, T, N, C>) -> Result<Self, Response> {
        let cfg = state.auth.current().await;
        auth::verify_read(&cfg, &header_lookup(&parts.headers))
            .map(ReadAccess)
            .map_err(|e| error(&e))
    }
}

/// A privacy request's JSON body, from a caller holding an admin token.
pub struct AdminBody(pub Bytes);

/// Privacy requests name one lead or one email: a few hundred bytes.
pub const MAX_ADMIN_BODY_BYTES: usize = 4096;

impl<S, T, N, C> FromRequest<ApiState<S, T, N, C>> for AdminBody
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &ApiState<S, T, N, C>) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let cfg = state.auth.current().await;
        auth::verify_admin(&cfg, &header_lookup(&parts.headers)).map_err(|e| {
            tracing::warn!(code = e.code(), "privacy request refused");
            error(&e)
        })?;
        json_content_type(&parts.headers).map_err(|e| error(&e))?;
        let too_large = IngestError::TooLarge {
            limit: MAX_ADMIN_BODY_BYTES,
        };
        match Bytes::from_request(Request::from_parts(parts, body), state).await {
            Ok(b) if b.len() <= MAX_ADMIN_BODY_BYTES => Ok(AdminBody(b)),
            Ok(_) => Err(error(&too_large)),
            Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(error(&too_large)),
            Err(rej) => Err(error(&IngestError::Malformed(rej.body_text()))),
        }
    }
}

/// The query string as `T`, or the API's `invalid_query` error.
async fn query_string<T: serde::de::DeserializeOwned, St: Send + Sync>(
    parts: &mut Parts,
    state: &St,
) -> Result<T, Response> {
    let Query(raw) = Query::<T>::from_request_parts(parts, state).await.map_err(|rej| {
        error(&QueryError::Invalid {
            field: "query",
            message: format!("could not be parsed: {}", rej.body_text()),
        })
    })?;
    Ok(raw)
}

/// A report query, checked once.
pub struct Report(pub ReportQuery);

impl<St: Send + Sync> FromRequestParts<St> for Report {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Response> {
        let raw: RawReportQuery = query_string(parts, state).await?;
        ReportQuery::parse(&raw).map(Report).map_err(|e| error(&e))
    }
}

/// `?timeline_limit=&timeline_after=` on a lead read, checked once.
pub struct Timeline(pub crate::view::TimelinePage);

#[derive(serde::Deserialize)]
struct RawTimeline {
    timeline_limit: Option<String>,
    timeline_after: Option<String>,
}

impl<St: Send + Sync> FromRequestParts<St> for Timeline {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Response> {
        let raw: RawTimeline = query_string(parts, state).await?;
        crate::view::TimelinePage::parse(raw.timeline_limit.as_deref(), raw.timeline_after.as_deref())
            .map(Timeline)
            .map_err(|e| error(&e))
    }
}

/// The `{lead_id}` path parameter.
pub struct LeadIdParam(pub String);

impl<St: Send + Sync> FromRequestParts<St> for LeadIdParam {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(LeadIdParam(id)),
            Err(rej) => Err(error(&RouteError::BadPath {
                field: "lead_id",
                message: rej.body_text(),
            })),
        }
    }
}
