//! API Gateway HTTP API (payload format 2.0) to the shared handlers and back, with the same
//! paths, bodies, status codes and error bodies as the local server.

use crate::AwsApp;
use base64::Engine;
use leadclock_app::auth::{self, AuthConfig, Signed};
use leadclock_app::error::{HttpError, IngestError, RouteError};
use leadclock_app::handlers::metrics::{Format, MetricsQuery};
use leadclock_app::ports::Clock;
use leadclock_app::report_format;
use leadclock_app::wire::{Kind, MAX_BODY_BYTES};
use serde::Serialize;
use serde_json::{json, Value};

/// Which routes a function answers: one event kind, or the read routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    Ingest(Kind),
    Read,
}

fn response(status: u16, content_type: &str, body: String) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": content_type},
        "body": body,
        "isBase64Encoded": false,
    })
}

fn json_response<T: Serialize>(status: u16, body: &T) -> Value {
    response(
        status,
        "application/json",
        serde_json::to_string(body).unwrap_or_else(|_| "{}".into()),
    )
}

fn error<E: HttpError>(e: &E) -> Value {
    json_response(e.status(), &e.body())
}

fn not_found(message: &str) -> Value {
    error(&RouteError {
        status: 404,
        message: message.into(),
    })
}

/// The raw body bytes of a request, decoding base64 when API Gateway encoded it.
fn body(event: &Value) -> Result<Vec<u8>, IngestError> {
    let raw = event.get("body").and_then(Value::as_str).unwrap_or("");
    if event.get("isBase64Encoded").and_then(Value::as_bool).unwrap_or(false) {
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| IngestError::Malformed("body is not valid base64".into()))
    } else {
        Ok(raw.as_bytes().to_vec())
    }
}

fn query(event: &Value) -> MetricsQuery {
    let q = event.get("queryStringParameters");
    let get = |k: &str| q.and_then(|q| q.get(k)).and_then(Value::as_str).map(str::to_owned);
    MetricsQuery {
        from: get("from"),
        to: get("to"),
        period: get("period"),
        by: get("by"),
        format: get("format"),
    }
}

fn header(event: &Value, name: &str) -> Option<String> {
    let headers = event.get("headers")?.as_object()?;
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned)
}

/// The URL the sender called, as HubSpot signs it.
fn called_uri(event: &Value, path: &str) -> String {
    let host = event
        .pointer("/requestContext/domainName")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| header(event, "host"))
        .unwrap_or_default();
    let query = event
        .get("rawQueryString")
        .and_then(Value::as_str)
        .filter(|q| !q.is_empty());
    match query {
        Some(q) => format!("https://{host}{path}?{q}"),
        None => format!("https://{host}{path}"),
    }
}

/// Handles one API Gateway event for the routes this function serves.
pub async fn handle(app: &AwsApp, auth: &AuthConfig, routes: Routes, event: Value) -> Value {
    let method = event
        .pointer("/requestContext/http/method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let path = event.get("rawPath").and_then(Value::as_str).unwrap_or("/").to_owned();
    // Stages other than $default prefix the path; match on the route's own tail.
    let tail = ["/v1/", "/healthz"]
        .iter()
        .find_map(|p| path.find(p).map(|i| path[i..].to_owned()))
        .unwrap_or(path);
    if routes == Routes::Read && tail != "/healthz" {
        if let Err(e) = auth::verify_read(auth, &|name: &str| header(&event, name)) {
            return error(&e);
        }
    }
    match (routes, method.as_str(), tail.as_str()) {
        (Routes::Ingest(kind), "POST", p) if p == format!("/v1/events/{}", kind.as_str()) => {
            let bytes = match body(&event) {
                Ok(b) => b,
                Err(e) => return error(&e),
            };
            if bytes.len() > MAX_BODY_BYTES {
                return error(&IngestError::TooLarge { limit: MAX_BODY_BYTES });
            }
            let raw_path = event.get("rawPath").and_then(Value::as_str).unwrap_or("/");
            let uri = called_uri(&event, raw_path);
            let verdict = {
                let lookup = |name: &str| header(&event, name);
                let signed = Signed {
                    method: &method,
                    uri: &uri,
                    body: &bytes,
                    header: &lookup,
                };
                auth::verify_webhook(auth, &signed, app.clock.now())
            };
            if let Err(e) = verdict {
                tracing::warn!(
                    code = e.code(),
                    field = e.field().unwrap_or_default(),
                    "webhook refused"
                );
                return error(&e);
            }
            match app.ingest(kind, &bytes).await {
                Ok(accepted) => json_response(accepted.status(), &accepted),
                Err(e) => {
                    if e.status() >= 500 {
                        tracing::error!(code = e.code(), error = %e, "ingest failed");
                    }
                    error(&e)
                }
            }
        }
        (Routes::Read, "GET", "/healthz") => json_response(200, &json!({"status": "ok"})),
        (Routes::Read, "GET", p) if p.starts_with("/v1/leads/") => {
            let id = &p["/v1/leads/".len()..];
            match app.lead(id).await {
                Ok(view) => json_response(200, &view),
                Err(e) => error(&e),
            }
        }
        (Routes::Read, "GET", "/v1/metrics") => {
            let q = query(&event);
            match app.metrics(&q).await {
                Ok(report) => {
                    let format = Format::parse(q.format.as_deref()).unwrap_or(Format::Json);
                    let (content_type, body) = report_format::render(&report, format, app.policy.reporting_timezone);
                    response(200, content_type, body)
                }
                Err(e) => error(&e),
            }
        }
        _ => not_found("no such route; see README for the API"),
    }
}
