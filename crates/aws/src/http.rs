//! API Gateway (HTTP API, payload format 2.0) in front of the shared router: `lambda_http`
//! turns each invocation into an HTTP request for the same axum router the local server runs.
//! The only Lambda-specific fact is the URL senders called, read from the request context.

use crate::secrets::SecretSource;
use crate::AwsApp;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use leadclock_app::http::{self, ApiState, PublicBase, Routes};
use std::sync::Arc;

/// Serves `routes` of the shared router on this function until the runtime stops it.
pub async fn serve(app: Arc<AwsApp>, secrets: Arc<SecretSource>, routes: &[Routes]) -> Result<(), lambda_http::Error> {
    lambda_http::run(router(app, secrets, routes)).await
}

/// The shared router for `routes`, with the public URL taken from API Gateway.
pub fn router(app: Arc<AwsApp>, secrets: Arc<SecretSource>, routes: &[Routes]) -> axum::Router {
    http::router(ApiState { app, auth: secrets }, routes).layer(middleware::from_fn(public_base))
}

/// HubSpot signs the URL it called: `https://{API domain}{path}`.
async fn public_base(mut req: Request, next: Next) -> Response {
    let domain = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.domain_name.clone(),
        _ => None,
    };
    if let Some(domain) = domain {
        req.extensions_mut().insert(PublicBase(format!("https://{domain}")));
    }
    next.run(req).await
}

/// The functions' router fed API Gateway events through `lambda_http`'s own parsing: the same
/// path a deployed function takes from the Runtime API to a response, over an in-memory store.
#[cfg(test)]
mod tests {
    use super::public_base;
    use axum::middleware;
    use chrono::{DateTime, Utc};
    use leadclock_app::auth::{AuthConfig, ReadToken, Secret};
    use leadclock_app::error::PortError;
    use leadclock_app::http::{self, ApiState, Routes, StaticAuth};
    use leadclock_app::inbound::Kind;
    use leadclock_app::memory::MemoryStore;
    use leadclock_app::outbox::{Channel, OutboxMessage, SendFailure};
    use leadclock_app::ports::{ManualClock, Notifier, Timers};
    use leadclock_app::App;
    use leadclock_domain::steps::{StepStatus, Timer};
    use leadclock_domain::Policy;
    use serde_json::Value;
    use std::sync::Arc;
    use tower::ServiceExt;

    struct NoTimers;
    impl Timers for NoTimers {
        async fn schedule(&self, _: &Timer) -> Result<(), PortError> {
            Ok(())
        }
        async fn cancel(&self, _: &Timer) -> Result<(), PortError> {
            Ok(())
        }
    }

    struct NoChannels;
    impl Notifier for NoChannels {
        fn channels_for(&self, _: StepStatus) -> Vec<Channel> {
            Vec::new()
        }
        async fn send(&self, _: &OutboxMessage) -> Result<(), SendFailure> {
            Ok(())
        }
        async fn publish_rollup(&self, _: &str, _: &str, _: &Value) -> Result<(), PortError> {
            Ok(())
        }
    }

    fn router() -> axum::Router {
        let policy = Arc::new(Policy::parse(include_str!("../../../policies/example.toml")).unwrap());
        let at: DateTime<Utc> = "2026-12-02T19:00:00Z".parse().unwrap();
        let app = Arc::new(App::new(
            policy,
            MemoryStore::new(),
            NoTimers,
            NoChannels,
            ManualClock::at(at),
        ));
        let auth = AuthConfig {
            webhook_secrets: vec![Secret::new("fixture-webhook-secret")],
            hubspot_secrets: Vec::new(),
            read_tokens: vec![ReadToken::all("fixture-read-token")],
            admin_tokens: Vec::new(),
            insecure: false,
            ..AuthConfig::default()
        };
        let routes = [Routes::Events(Kind::Form), Routes::Reads];
        http::router(
            ApiState {
                app,
                auth: Arc::new(StaticAuth(Arc::new(auth))),
            },
            &routes,
        )
        .layer(middleware::from_fn(public_base))
    }

    /// One fixture through `lambda_http`'s event parsing and the router: status and JSON body.
    async fn call(router: &axum::Router, fixture: &str) -> (u16, Value) {
        let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let event = std::fs::read_to_string(&path).unwrap();
        let request = lambda_http::request::from_str(&event).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn api_gateway_events_reach_the_shared_routes() {
        let r = router();
        let (status, body) = call(&r, "apigw-v2-form.json").await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["lead_id"], "FIX-1");
        // The same event again is a duplicate, answered 200.
        assert_eq!(call(&r, "apigw-v2-form.json").await.0, 200);
        // A base64-encoded body (API Gateway's choice for some content types) reads the same.
        let (status, body) = call(&r, "apigw-v2-form-base64.json").await;
        assert_eq!((status, body["lead_id"].as_str()), (202, Some("FIX-2")), "{body}");

        let (status, lead) = call(&r, "apigw-v2-lead.json").await;
        assert_eq!(status, 200, "{lead}");
        assert_eq!(lead["lead_type"], "demo_request");
        assert_eq!(lead["policy_version"], 1);
    }

    #[tokio::test]
    async fn errors_keep_the_documented_json_shape_on_lambda() {
        let r = router();
        let (status, body) = call(&r, "apigw-v2-form-invalid.json").await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["field"], "occurred_at", "{body}");
        let (status, body) = call(&r, "apigw-v2-metrics-bad-query.json").await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["field"], "from", "{body}");
        let (status, body) = call(&r, "apigw-v2-unknown-route.json").await;
        assert_eq!(status, 404, "{body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
}
