//! The local HTTP surface: the same paths, bodies and errors API Gateway serves.

use crate::store::Counted;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leadclock_app::auth::{self, AuthConfig, Signed};
use leadclock_app::error::{HttpError, IngestError, RouteError};
use leadclock_app::handlers::metrics::{Format, MetricsError, MetricsQuery};
use leadclock_app::ports::{Clock, EventStore, LeadIndex, Notifier, Timers};
use leadclock_app::report_format;
use leadclock_app::wire::{Kind, MAX_BODY_BYTES};
use leadclock_app::App;
use serde::Serialize;
use std::sync::Arc;

fn json_status<T: Serialize>(status: u16, body: &T) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(body)).into_response()
}

fn error<E: HttpError>(e: &E) -> Response {
    json_status(e.status(), &e.body())
}

/// What every route needs: the shared handlers and who may call them.
pub struct Ctx<S, T, N, C> {
    pub app: Arc<App<S, T, N, C>>,
    pub auth: Arc<AuthConfig>,
    /// The URL senders call, for HubSpot signatures behind a proxy (`LEADCLOCK_PUBLIC_URL`).
    pub public_url: Option<String>,
}

impl<S, T, N, C> Clone for Ctx<S, T, N, C> {
    fn clone(&self) -> Self {
        Ctx {
            app: self.app.clone(),
            auth: self.auth.clone(),
            public_url: self.public_url.clone(),
        }
    }
}

type State_<S, T, N, C> = State<Ctx<S, T, N, C>>;

fn lookup(headers: &HeaderMap) -> impl Fn(&str) -> Option<String> + '_ {
    move |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

pub fn router<S, T, N, C>(ctx: Ctx<S, T, N, C>) -> Router
where
    S: EventStore + LeadIndex + Counted + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    Router::new()
        .route("/v1/events/{kind}", post(ingest::<S, T, N, C>))
        .route("/v1/leads/{lead_id}", get(lead::<S, T, N, C>))
        .route("/v1/metrics", get(metrics::<S, T, N, C>))
        .route("/v1/stats", get(stats::<S, T, N, C>))
        .route("/healthz", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .fallback(|| async {
            error(&RouteError {
                status: 404,
                message: "no such route; see README for the API".into(),
            })
        })
        .method_not_allowed_fallback(|| async {
            error(&RouteError {
                status: 405,
                message: "method not allowed on this route".into(),
            })
        })
        // One byte over the limit lets the handler tell "too large" from "exactly at the limit".
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .with_state(ctx)
}

async fn ingest<S, T, N, C>(
    State(ctx): State_<S, T, N, C>,
    Path(kind): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response
where
    S: EventStore + LeadIndex,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    let Some(kind) = Kind::parse(&kind) else {
        return error(&RouteError {
            status: 404,
            message: format!("no event kind {kind:?}; use form, assignment, touch or stage"),
        });
    };
    let body = match body {
        Ok(b) => b,
        Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(&IngestError::TooLarge { limit: MAX_BODY_BYTES });
        }
        Err(rej) => return error(&IngestError::Malformed(rej.body_text())),
    };
    let base = ctx.public_url.clone().unwrap_or_else(|| {
        let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}")
    });
    let full_uri = format!(
        "{}{}",
        base.trim_end_matches('/'),
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    // Checked in its own scope: the header lookup must not live across an await.
    let verdict = {
        let header = lookup(&headers);
        let signed = Signed {
            method: method.as_str(),
            uri: &full_uri,
            body: &body,
            header: &header,
        };
        auth::verify_webhook(&ctx.auth, &signed, ctx.app.clock.now())
    };
    if let Err(e) = verdict {
        tracing::warn!(
            code = e.code(),
            field = e.field().unwrap_or_default(),
            "webhook refused"
        );
        return error(&e);
    }
    match ctx.app.ingest(kind, &body).await {
        Ok(accepted) => json_status(accepted.status(), &accepted),
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(code = e.code(), error = %e, "ingest failed");
            }
            error(&e)
        }
    }
}

async fn lead<S, T, N, C>(State(ctx): State_<S, T, N, C>, headers: HeaderMap, Path(lead_id): Path<String>) -> Response
where
    S: EventStore + LeadIndex,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    let verdict = auth::verify_read(&ctx.auth, &lookup(&headers));
    if let Err(e) = verdict {
        return error(&e);
    }
    match ctx.app.lead(&lead_id).await {
        Ok(view) => json_status(200, &view),
        Err(e) => error(&e),
    }
}

async fn metrics<S, T, N, C>(
    State(ctx): State_<S, T, N, C>,
    headers: HeaderMap,
    query: Result<Query<MetricsQuery>, QueryRejection>,
) -> Response
where
    S: EventStore + LeadIndex,
    T: Timers,
    N: Notifier,
    C: Clock,
{
    if let Err(e) = auth::verify_read(&ctx.auth, &lookup(&headers)) {
        return error(&e);
    }
    let app = &ctx.app;
    let Ok(Query(q)) = query else {
        return error(&MetricsError::Invalid {
            field: "query",
            message: "could not be parsed".into(),
        });
    };
    let report = match app.metrics(&q).await {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    // `metrics` has validated the format already.
    let format = Format::parse(q.format.as_deref()).unwrap_or(Format::Json);
    let (content_type, body) = report_format::render(&report, format, app.policy.reporting_timezone);
    ([("content-type", content_type)], body).into_response()
}

async fn stats<S, T, N, C>(State(ctx): State_<S, T, N, C>, headers: HeaderMap) -> Response
where
    S: EventStore + LeadIndex + Counted,
{
    if let Err(e) = auth::verify_read(&ctx.auth, &lookup(&headers)) {
        return error(&e);
    }
    match ctx.app.store.count_events().await {
        Ok(n) => json_status(200, &serde_json::json!({"events": n})),
        Err(e) => error(&IngestError::Store(e)),
    }
}
