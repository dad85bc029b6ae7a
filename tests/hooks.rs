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
const WORKFLOW_TOKEN: &str = "hs-workflow-token";

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
    s.lead(id, TOKEN).await
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
            ("LEADCLOCK_HUBSPOT_WORKFLOW_TOKENS", WORKFLOW_TOKEN),
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

/// A workflow run posted with the workflow token (or another `Authorization`).
async fn workflow(s: &Server, query: &str, body: &[u8], auth: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/hooks/hubspot/workflow{query}", s.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_run_on_a_form_submission_engages_the_contact_classified_by_its_form() {
    // The example policy plus a rule over the property HubSpot's workflow body carries.
    let data = temp_dir("hooks-hubspot-workflow");
    let example = std::fs::read_to_string(root().join("policies/example.toml")).unwrap();
    let rule = "[[classify]]\nname = \"demo form (HubSpot)\"\nwhen = [{ field = \"properties.recent_conversion_event_name\", matches = \"*demo*\" }]\nlead_type = \"demo_request\"\n\n";
    let policy = example.replacen("[[classify]]", &format!("{rule}[[classify]]"), 1);
    let policy_path = data.join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    let s = Server::start(
        &policy_path,
        &data,
        &[
            ("LEADCLOCK_WEBHOOK_SECRETS", "leadclock-secret"),
            ("LEADCLOCK_READ_TOKENS", TOKEN),
            ("LEADCLOCK_HUBSPOT_CLIENT_SECRETS", SECRET),
            ("LEADCLOCK_HUBSPOT_WORKFLOW_TOKENS", WORKFLOW_TOKEN),
        ],
    );
    let bearer = format!("Bearer {WORKFLOW_TOKEN}");
    let full = fixture("workflow-contact.json");
    let (status, body) = workflow(&s, "?portal=62515", &full, Some(&bearer)).await;
    assert_eq!((status, body["accepted"].as_u64()), (200, Some(1)), "{body}");
    let l = lead(&s, "hubspot:62515:123").await;
    assert_eq!(l["timeline"][0]["kind"], "form", "{l}");
    assert_eq!(
        l["lead_type"], "demo_request",
        "classified by the form the contact filled"
    );
    assert_eq!(l["cycles"][0]["engaged_at"], "2024-06-10T06:13:20Z");
    // The same form fill from a customized body (the portal from the URL) is the same event.
    let custom = fixture("workflow-custom.json");
    let (status, body) = workflow(&s, "?portal=62515", &custom, Some(&bearer)).await;
    assert_eq!((status, body["duplicates"].as_u64()), (200, Some(1)), "{body}");
    // A workflow inside a HubSpot app signs with the app's v3 signature instead.
    let url = format!("{}/v1/hooks/hubspot/workflow?portal=62515", s.base);
    let ms = chrono::Utc::now().timestamp_millis();
    let r = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", sign_v3(&url, &full, ms))
        .header("x-hubspot-request-timestamp", ms.to_string())
        .body(full.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Refusals: no token, a wrong token, a customized body with no portal, another portal.
    let (status, body) = workflow(&s, "?portal=62515", &full, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    let (status, _) = workflow(&s, "?portal=62515", &full, Some("Bearer guess")).await;
    assert_eq!(status, 401);
    let (status, body) = workflow(&s, "", &custom, Some(&bearer)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json")),
        "{body}"
    );
    let (status, _) = workflow(&s, "?portal=1", &full, Some(&bearer)).await;
    assert_eq!(status, 400, "another portal's contact");
    let (status, body) = workflow(&s, "?portal=x", &full, Some(&bearer)).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("portal")),
        "{body}"
    );
    assert_eq!(
        lead(&s, "hubspot:62515:123").await["timeline_total"],
        1,
        "nothing refused was stored"
    );
}

/// HubSpot merges two contacts: the survivor's lead folds the merged contact's events as its
/// own (its assignment and its MQL), whatever order the merge and those events arrive in;
/// the merged contact's lead points to the survivor and counts nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_merge_folds_the_merged_contacts_events_into_the_survivor() {
    let s = server("hooks-merge");
    let ms = chrono::Utc::now().timestamp_millis() - 600_000;
    let event = |id: u64, offset: i64, extra: Value| {
        let mut e = serde_json::json!({"eventId": id, "subscriptionId": 1, "portalId": 62515, "appId": 1,
            "occurredAt": ms + offset, "attemptNumber": 0, "changeSource": "CRM_UI"});
        e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        e
    };
    let merge = serde_json::json!([event(
        3,
        120_000,
        serde_json::json!({"subscriptionType": "contact.merge",
        "objectId": 700, "primaryObjectId": 700, "mergedObjectIds": [701], "newObjectId": 700})
    )]);
    let before = serde_json::json!([
        event(
            1,
            0,
            serde_json::json!({"subscriptionType": "contact.propertyChange", "objectId": 701,
            "propertyName": "lifecyclestage", "propertyValue": "marketingqualifiedlead"})
        ),
        event(
            2,
            60_000,
            serde_json::json!({"subscriptionType": "contact.propertyChange", "objectId": 701,
            "propertyName": "hubspot_owner_id", "propertyValue": "9001"})
        ),
    ]);
    // The merge first, then the merged contact's history: delivery order is not guaranteed.
    let (status, body) = deliver(&s, merge.to_string().as_bytes(), None).await;
    assert_eq!((status, body["accepted"].as_u64()), (200, Some(2)), "{body}");
    let (status, body) = deliver(&s, before.to_string().as_bytes(), None).await;
    assert_eq!((status, body["accepted"].as_u64()), (200, Some(2)), "{body}");
    let survivor = lead(&s, "hubspot:62515:700").await;
    assert_eq!(survivor["owner"]["owner"], "9001", "{survivor}");
    let engaged = chrono::DateTime::from_timestamp_millis(ms).unwrap();
    let cycle = &survivor["cycles"][0];
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(at(&cycle["engaged_at"]).timestamp(), engaged.timestamp(), "{survivor}");
    assert_eq!(
        (at(&cycle["first_assigned_at"]) - at(&cycle["engaged_at"])).num_seconds(),
        60,
        "{survivor}"
    );
    let gone = lead(&s, "hubspot:62515:701").await;
    assert_eq!(gone["merged_into"], "hubspot:62515:700", "{gone}");
    assert_eq!(gone["cycles"].as_array().unwrap().len(), 0, "{gone}");
    // A resent merge changes nothing.
    let (_, again) = deliver(&s, merge.to_string().as_bytes(), None).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
}
