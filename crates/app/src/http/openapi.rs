//! The OpenAPI 3.1 document of the whole HTTP API, derived from the types the routes take and
//! return (`utoipa`), served at `GET /openapi.json` and checked in as `docs/openapi.json`.
//!
//! After changing a route or a body type, regenerate the checked-in copy with
//! `LEADCLOCK_WRITE_OPENAPI=1 cargo test -p leadclock-app openapi`.

use crate::auth::{
    AUTHORIZATION_HEADER, HUBSPOT_SIGNATURE_HEADER, HUBSPOT_TIMESTAMP_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::http::routes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "leadclock",
        description = "Speed-to-lead SLA clocks: webhooks in, clocks, escalations and metrics out. \
            The same paths, bodies, status codes and error bodies are served by the local server and \
            on AWS. Every error is `{\"error\": {\"code\", \"field\", \"message\"}}`; any route also \
            answers 404 `not_found` for a path it does not know and 405 `method_not_allowed` for a \
            method it does not take.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        routes::events::form_doc,
        routes::events::assignment_doc,
        routes::events::touch_doc,
        routes::events::stage_doc,
        routes::batch::batch,
        routes::hubspot::hubspot,
        routes::hubspot_workflow::workflow,
        routes::salesforce::salesforce,
        routes::outreach::outreach,
        routes::salesloft::salesloft,
        routes::leads::lead,
        routes::metrics::metrics,
        routes::metrics::baseline,
        routes::stats::stats,
        routes::health::healthz,
        routes::privacy::erasure,
        routes::replay::replay,
        openapi_json,
    ),
    modifiers(&Security),
    tags(
        (name = "events", description = "Webhooks: signed with leadclock's v2 signature (docs/signatures.md) or HubSpot's v3"),
        (name = "reads", description = "Reads: `Authorization: Bearer <token>`, one of `LEADCLOCK_READ_TOKENS`"),
        (name = "privacy", description = "Personal data: `Authorization: Bearer <token>`, one of `LEADCLOCK_ADMIN_TOKENS` (docs/privacy.md)"),
        (name = "operations", description = "Probes and this document: no credentials"),
    ),
)]
pub struct ApiDoc;

/// The security schemes the routes name.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let header = |name: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(name, description)))
        };
        components.add_security_scheme(
            "leadclock_signature",
            header(
                SIGNATURE_HEADER,
                "`v2=` + hex HMAC-SHA256(secret, `{timestamp}\\n{METHOD}\\n{path and query}\\n{raw body}`); \
                 several comma-separated values may be sent (docs/signatures.md)",
            ),
        );
        components.add_security_scheme(
            "leadclock_timestamp",
            header(
                TIMESTAMP_HEADER,
                "Unix seconds when the request was signed; within 5 minutes of the server's clock",
            ),
        );
        components.add_security_scheme(
            "hubspot_signature",
            header(
                HUBSPOT_SIGNATURE_HEADER,
                "HubSpot's v3 signature: base64 HMAC-SHA256(client secret, method + URI + body + timestamp)",
            ),
        );
        components.add_security_scheme(
            "hubspot_timestamp",
            header(
                HUBSPOT_TIMESTAMP_HEADER,
                "Epoch milliseconds; within 5 minutes of the server's clock",
            ),
        );
        components.add_security_scheme(
            "outreach_signature",
            header(
                leadclock_crm::outreach::SIGNATURE_HEADER,
                "hex HMAC-SHA256(webhook secret, raw body); the secret is one of LEADCLOCK_OUTREACH_SECRETS",
            ),
        );
        components.add_security_scheme(
            "salesloft_signature",
            header(
                leadclock_crm::salesloft::SIGNATURE_HEADER,
                "hex HMAC-SHA1(callback token, raw body); the token is one of LEADCLOCK_SALESLOFT_TOKENS",
            ),
        );
        components.add_security_scheme(
            "read_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(format!(
                        "`{AUTHORIZATION_HEADER}: Bearer <token>`, one of LEADCLOCK_READ_TOKENS"
                    )))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(format!(
                        "`{AUTHORIZATION_HEADER}: Bearer <token>`, one of LEADCLOCK_ADMIN_TOKENS (not a read token)"
                    )))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "workflow_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(format!(
                        "`{AUTHORIZATION_HEADER}: Bearer <token>`, one of LEADCLOCK_HUBSPOT_WORKFLOW_TOKENS"
                    )))
                    .build(),
            ),
        );
    }
}

/// The document as served: pretty JSON, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serializes");
        doc.push('\n');
        doc
    })
}

/// `GET /openapi.json`: this document; no credentials needed.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "This document (OpenAPI 3.1)",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)),
)]
pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    /// `docs/openapi.json` is the generated document; `LEADCLOCK_WRITE_OPENAPI=1` rewrites it.
    #[test]
    fn openapi_document_is_checked_in() {
        let generated = document();
        if std::env::var_os("LEADCLOCK_WRITE_OPENAPI").is_some_and(|v| v == "1") {
            std::fs::write(CHECKED_IN, generated).expect("write docs/openapi.json");
            return;
        }
        let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
        assert!(
            checked_in == generated,
            "docs/openapi.json differs from the document the code generates; regenerate it with\n  \
             LEADCLOCK_WRITE_OPENAPI=1 cargo test -p leadclock-app openapi\nand commit the result"
        );
    }

    struct NoTimers;
    impl crate::ports::Timers for NoTimers {
        async fn schedule(&self, _: &leadclock_domain::steps::Timer) -> Result<(), crate::error::PortError> {
            Ok(())
        }
        async fn cancel(&self, _: &leadclock_domain::steps::Timer) -> Result<(), crate::error::PortError> {
            Ok(())
        }
    }

    struct NoChannels;
    impl crate::ports::Notifier for NoChannels {
        fn channels_for(&self, _: leadclock_domain::steps::StepStatus) -> Vec<crate::outbox::Channel> {
            Vec::new()
        }
        async fn send(&self, _: &crate::outbox::OutboxMessage) -> Result<(), crate::outbox::SendFailure> {
            Ok(())
        }
        async fn publish_rollup(&self, _: &str, _: &str, _: &serde_json::Value) -> Result<(), crate::error::PortError> {
            Ok(())
        }
    }

    /// The read routes serve the document without a token, while the reads still need one.
    #[tokio::test]
    async fn openapi_json_is_served_with_the_reads_and_needs_no_token() {
        use crate::auth::{AuthConfig, Secret};
        use crate::http::{router, ApiState, Routes, StaticAuth};
        use axum::body::Body;
        use axum::http::Request;
        use std::sync::Arc;
        use tower::ServiceExt;

        let policy =
            Arc::new(leadclock_domain::Policy::parse(include_str!("../../../../policies/example.toml")).unwrap());
        let clock = crate::ports::ManualClock::at("2026-12-02T19:00:00Z".parse().unwrap());
        let app = Arc::new(crate::App::new(
            policy,
            crate::memory::MemoryStore::new(),
            NoTimers,
            NoChannels,
            clock,
        ));
        let auth = AuthConfig {
            webhook_secrets: vec![Secret::new("webhook-secret")],
            hubspot_secrets: Vec::new(),
            read_tokens: vec![crate::auth::ReadToken::all("read-token")],
            admin_tokens: Vec::new(),
            insecure: false,
            ..AuthConfig::default()
        };
        let api = router(
            ApiState {
                app,
                auth: Arc::new(StaticAuth(Arc::new(auth))),
            },
            &[Routes::Reads],
        );
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let r = api.clone().oneshot(get("/openapi.json")).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[axum::http::header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body, document().as_bytes());
        let r = api.oneshot(get("/v1/metrics")).await.unwrap();
        assert_eq!(r.status(), 401);
    }

    #[test]
    fn openapi_document_names_every_route_and_the_crate_version() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
        for p in [
            "/v1/events/form",
            "/v1/events/assignment",
            "/v1/events/touch",
            "/v1/events/stage",
            "/v1/events/batch",
            "/v1/hooks/hubspot",
            "/v1/leads/{lead_id}",
            "/v1/metrics",
            "/v1/baseline",
            "/v1/stats",
            "/healthz",
            "/openapi.json",
        ] {
            assert!(paths.contains(&p), "{p} missing from {paths:?}");
        }
    }
}
