//! The one HTTP front-end of both hosts: an axum [`Router`] built here, served by `axum::serve`
//! locally and by `lambda_http` on Lambda. Each Lambda mounts only its own routes from the same
//! builder, so a route, its auth, its limits and its errors exist once.
//!
//! Host-specific facts reach the routes as request extensions set by the host's own layer:
//! [`PublicBase`] (the URL senders call, which HubSpot signs).

mod extract;
pub mod openapi;
pub mod response;
mod routes;

pub use extract::PublicBase;

use crate::auth::AuthConfig;
use crate::inbound::Kind;
use crate::ports::{Clock, EventCount, Notifier, Store, Timers};
use crate::App;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Where the routes get the current secrets from: fixed locally, refreshed from SSM on AWS.
pub trait AuthProvider: Send + Sync + 'static {
    fn current(&self) -> Pin<Box<dyn Future<Output = Arc<AuthConfig>> + Send + '_>>;
}

/// Secrets that never change while the process runs (the local server, tests).
pub struct StaticAuth(pub Arc<AuthConfig>);

impl AuthProvider for StaticAuth {
    fn current(&self) -> Pin<Box<dyn Future<Output = Arc<AuthConfig>> + Send + '_>> {
        let cfg = self.0.clone();
        Box::pin(async move { cfg })
    }
}

/// What every route needs: the shared handlers and who may call them.
pub struct ApiState<S, T, N, C> {
    pub app: Arc<App<S, T, N, C>>,
    pub auth: Arc<dyn AuthProvider>,
}

impl<S, T, N, C> Clone for ApiState<S, T, N, C> {
    fn clone(&self) -> Self {
        ApiState {
            app: self.app.clone(),
            auth: self.auth.clone(),
        }
    }
}

/// A group of routes a host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// `POST /v1/events/{kind}` for one kind.
    Events(Kind),
    /// `POST /v1/events/batch`: many events of any kind.
    Batch,
    /// `GET /v1/leads/{lead_id}`, `GET /v1/metrics`, `GET /v1/baseline`, `GET /healthz`,
    /// `GET /openapi.json`.
    Reads,
    /// `POST /v1/hooks/hubspot` (and `/workflow`): HubSpot's webhooks; `POST
    /// /v1/hooks/salesforce/{secret}`: Salesforce Outbound Messages; `POST /v1/hooks/outreach`,
    /// `POST /v1/hooks/salesloft`: the sales tools' touches.
    Hooks,
    /// The admin routes, with an admin token: `POST /v1/privacy/erasure` (one person's data
    /// erased) and `POST /v1/hooks/replay` (the kept webhooks mapped again).
    Privacy,
    /// The dashboard's HTML pages: `/`, `/login`, `/now`, `/trends`, … (see [`crate::web`]).
    Dashboard,
}

impl Routes {
    /// Every route group: what the local server mounts.
    pub fn all() -> Vec<Routes> {
        let mut all: Vec<Routes> = Kind::ALL.into_iter().map(Routes::Events).collect();
        all.extend([
            Routes::Batch,
            Routes::Reads,
            Routes::Hooks,
            Routes::Privacy,
            Routes::Dashboard,
        ]);
        all
    }
}

/// The router for `groups`, with the shared fallbacks, limits and error bodies.
pub fn router<S, T, N, C>(state: ApiState<S, T, N, C>, groups: &[Routes]) -> Router
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    finish(routes(state, groups))
}

/// The routes of `groups`, without fallbacks: for a host that merges more before [`finish`].
pub fn routes<S, T, N, C>(state: ApiState<S, T, N, C>, routes: &[Routes]) -> Router
where
    S: Store + 'static,
    T: Timers + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    let mut r = Router::new();
    for group in routes {
        r = match *group {
            Routes::Events(kind) => r.route(
                &format!("/v1/events/{}", kind.as_str()),
                post(routes::events::ingest).layer(Extension(kind)),
            ),
            Routes::Batch => r.route(
                "/v1/events/batch",
                post(routes::batch::batch).layer(DefaultBodyLimit::max(crate::inbound::batch::MAX_BATCH_BYTES + 1)),
            ),
            Routes::Reads => r
                .route("/v1/leads/{lead_id}", get(routes::leads::lead))
                .route("/v1/metrics", get(routes::metrics::metrics))
                .route("/v1/baseline", get(routes::metrics::baseline))
                .route("/healthz", get(routes::health::healthz))
                .route("/openapi.json", get(openapi::openapi_json)),
            Routes::Hooks => r
                .route(
                    "/v1/hooks/hubspot",
                    post(routes::hubspot::hubspot).layer(DefaultBodyLimit::max(routes::hubspot::MAX_HUBSPOT_BYTES + 1)),
                )
                .route(
                    "/v1/hooks/hubspot/workflow",
                    post(routes::hubspot_workflow::workflow)
                        .layer(DefaultBodyLimit::max(routes::hubspot_workflow::MAX_WORKFLOW_BYTES + 1)),
                )
                .route(
                    "/v1/hooks/salesforce/{secret}",
                    post(routes::salesforce::salesforce)
                        .layer(DefaultBodyLimit::max(routes::salesforce::MAX_MESSAGE_BYTES)),
                )
                .route(
                    "/v1/hooks/outreach",
                    post(routes::outreach::outreach)
                        .layer(DefaultBodyLimit::max(routes::sales_tool::MAX_TOOL_BYTES + 1)),
                )
                .route(
                    "/v1/hooks/salesloft",
                    post(routes::salesloft::salesloft)
                        .layer(DefaultBodyLimit::max(routes::sales_tool::MAX_TOOL_BYTES + 1)),
                ),
            Routes::Privacy => r
                .route("/v1/privacy/erasure", post(routes::privacy::erasure))
                .route("/v1/hooks/replay", post(routes::replay::replay)),
            Routes::Dashboard => r.merge(crate::web::routes()),
        };
    }
    if routes.iter().any(|g| matches!(g, Routes::Events(_))) {
        r = r.route("/v1/events/{kind}", post(routes::events::unknown_kind));
    }
    r.with_state(state)
}

/// `GET /v1/stats`: totals for operators and load tests, where the store can count them.
pub fn stats<S, T, N, C>(state: ApiState<S, T, N, C>) -> Router
where
    S: EventCount + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    Router::new()
        .route("/v1/stats", get(routes::stats::stats))
        .with_state(state)
}

/// What every router shares: JSON 404/405 bodies and the body limit.
pub fn finish(r: Router) -> Router {
    r.fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        // One byte over the limit lets the extractor tell "too large" from "exactly at the limit".
        .layer(DefaultBodyLimit::max(
            crate::inbound::leadclock_json::MAX_BODY_BYTES + 1,
        ))
}
