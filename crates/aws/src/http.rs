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
