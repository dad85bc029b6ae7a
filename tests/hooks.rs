//! HubSpot's app webhooks on the local server, black-box: the vendor's documented and composed
//! payloads (`crates/crm/tests/fixtures/hubspot/`, sources in its SOURCES.md) signed with
//! HubSpot's v3 scheme become the lead's timeline; retries and out-of-order deliveries change
//! nothing; events without SLA meaning are answered 200 with their reason; a wrong signature
//! or another scheme is refused.

mod support;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use support::{root, temp_dir, Server};

const SECRET: &str = "hs-client-secret";
const TOKEN: &str = "read-token";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("crates/crm/tests/fixtures/hubspot").join(name)).unwrap()
}

/// HubSpot v3: base64 HMAC-SHA256 of method, URI, body and the timestamp in milliseconds.
fn sign_v3(uri: &str, body: &[u8], ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"POST");
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn deliver(s: &Server, body: &[u8], signature: Option<String>) -> (u16, Value) {
    let ms = chrono::Utc::now().timestamp_millis();
    let url = format!("{}/v1/hooks/hubspot", s.base);
    let sig = signature.unwrap_or_else(|| sign_v3(&url, body, ms));
    let r = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", sig)
        .header("x-hubspot-request-timestamp", ms.to_string())
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn lead(s: &Server, id: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{}/v1/leads/{id}", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn server(tag: &str) -> Server {
    let data = temp_dir(tag);
    Server::start(
        &root().join("policies/example.toml"),
        &data,
        &[
            ("LEADCLOCK_WEBHOOK_SECRETS", "leadclock-secret"),
            ("LEADCLOCK_HUBSPOT_CLIENT_SECRETS", SECRET),
            ("LEADCLOCK_READ_TOKENS", TOKEN),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn hubspot_webhooks_become_the_contacts_timeline_once() {
    let s = server("hooks-hubspot");
    // A creation, then the MQL change delivered twice (a retry with another eventId), out of order.
    let (status, body) = deliver(&s, &fixture("out-of-order-retry.json"), None).await;
    assert_eq!(status, 200, "{body}");
    // The retry inside the delivery is a duplicate of the first copy; the creation is skipped.
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );
    assert_eq!(body["skipped"].as_array().unwrap().len(), 1, "{body}");
    // The owner change of vector H1 assigns the same contact.
    let (status, body) = deliver(&s, &fixture("owner-change.json"), None).await;
    assert_eq!((status, body["accepted"].as_u64()), (200, Some(1)), "{body}");
    // HubSpot retries the whole delivery: nothing changes.
    let (status, body) = deliver(&s, &fixture("owner-change.json"), None).await;
    assert_eq!(
        (status, body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (200, Some(0), Some(1)),
        "{body}"
    );

    let l = lead(&s, "hubspot:62515:123").await;
    let kinds: Vec<&str> = l["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["form", "assignment"], "{l}");
    assert_eq!(l["owner"]["owner"], "9001");
    assert_eq!(l["cycles"][0]["engaged_at"], "2024-06-10T06:13:19Z");
    assert_eq!(
        l["lead_type"], "unclassified",
        "webhooks carry no properties to classify by"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_without_sla_meaning_get_200_and_bad_signatures_401() {
    let s = server("hooks-hubspot-edges");
    let (status, body) = deliver(&s, &fixture("mixed-batch.json"), None).await;
    assert_eq!(status, 200, "{body}");
    let reasons: Vec<&str> = body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.len() >= 4, "{body}");
    assert!(reasons.iter().all(|r| !r.is_empty()));

    let (status, body) = deliver(&s, &fixture("owner-change.json"), Some("AAAA".into())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    // A body that is not HubSpot's format at all is refused with the JSON error.
    let (status, body) = deliver(&s, b"{\"not\": \"an array\"}", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json")),
        "{body}"
    );
}
