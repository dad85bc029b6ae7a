//! CRM write-back on the local server, black-box, against a local recording server that
//! answers as HubSpot and Salesforce document: a lead's lifecycle writes its figures into the
//! contact (HubSpot `PATCH /crm/v3/objects/contacts/{id}`) or lead (Salesforce client
//! credentials, then `PATCH /services/data/vNN.N/sobjects/Lead/{id}`); a 429 is retried after
//! its `Retry-After`, an expired Salesforce session is renewed, and a resent event writes
//! nothing more.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{fast_policy, post, temp_dir, wait_for, Server};

/// One request the CRM received.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    method: Method,
    path: String,
    authorization: String,
    body: String,
    answered: u16,
}

/// The recording CRM: what it was sent, and how it answers.
#[derive(Default)]
struct Crm {
    seen: Mutex<Vec<Seen>>,
    /// HubSpot: answer the first PATCH 429 with `Retry-After: 1`.
    throttle_first: bool,
    /// Salesforce: tokens issued so far (the first one is "expired" at the PATCH).
    tokens: Mutex<u32>,
}

async fn record(State(crm): State<Arc<Crm>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = String::from_utf8_lossy(&body).into_owned();
    let earlier = crm
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.method == Method::PATCH)
        .count();
    let response = if path == "/services/oauth2/token" {
        let n = {
            let mut t = crm.tokens.lock().unwrap();
            *t += 1;
            *t
        };
        let base = format!("http://{}", headers.get("host").unwrap().to_str().unwrap());
        axum::Json(json!({"access_token": format!("00D!tok-{n}"), "instance_url": base, "token_type": "Bearer",
            "id": "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA", "issued_at": "1700000000000"}))
        .into_response()
    } else if path.starts_with("/services/data/") && authorization == "Bearer 00D!tok-1" {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])),
        )
            .into_response()
    } else if path.starts_with("/services/data/") {
        StatusCode::NO_CONTENT.into_response()
    } else if crm.throttle_first && earlier == 0 {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            axum::Json(
                json!({"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}),
            ),
        )
            .into_response()
    } else {
        axum::Json(json!({"id": "123", "properties": {}})).into_response()
    };
    crm.seen.lock().unwrap().push(Seen {
        at: Instant::now(),
        method,
        path,
        authorization,
        body,
        answered: response.status().as_u16(),
    });
    response
}

async fn start_crm(crm: Arc<Crm>) -> String {
    let app = axum::Router::new().fallback(record).with_state(crm);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn ago(secs: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Engaged ten minutes ago, assigned 90 s later, answered 60 s after that: a content MQL
/// (a one-hour SLA on the wall clock) that met it.
async fn lifecycle(s: &Server, lead: &str) -> String {
    let c = reqwest::Client::new();
    let form = json!({"lead_id": lead, "event_id": "f1", "occurred_at": ago(600), "lead_type": "content_mql"});
    assert_eq!(post(&c, s, "form", form).await.0, 202);
    let assigned = json!({"lead_id": lead, "event_id": "a1", "occurred_at": ago(510), "owner": "alice"});
    assert_eq!(post(&c, s, "assignment", assigned).await.0, 202);
    let touched = ago(450);
    let touch = json!({"lead_id": lead, "event_id": "t1", "occurred_at": touched, "owner": "alice", "channel": "call", "outcome": "connected"});
    assert_eq!(post(&c, s, "touch", touch.clone()).await.0, 202);
    touched
}

fn last_accepted(crm: &Crm) -> Option<Seen> {
    crm.seen
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s.method == Method::PATCH && s.answered < 300)
        .cloned()
}

fn patches(crm: &Crm) -> usize {
    crm.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.method == Method::PATCH)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifecycle_writes_its_figures_into_the_hubspot_contact_after_a_429() {
    let crm = Arc::new(Crm {
        throttle_first: true,
        ..Crm::default()
    });
    let base = start_crm(crm.clone()).await;
    let env = [
        ("LEADCLOCK_HUBSPOT_WRITEBACK_TOKEN", "pat-na1-test-token"),
        ("LEADCLOCK_HUBSPOT_API_URL", base.as_str()),
    ];
    let s = Server::start(&fast_policy(), &temp_dir("writeback-hs"), &env);
    let lead = "hubspot:62515:123";
    let touched = lifecycle(&s, lead).await;
    let done = wait_for(Duration::from_secs(20), || {
        last_accepted(&crm).is_some_and(|p| p.body.contains(&touched))
    })
    .await;
    assert!(
        done,
        "no accepted write with the touch: {:?}\n{}",
        crm.seen.lock().unwrap(),
        s.logs()
    );
    let seen = crm.seen.lock().unwrap().clone();
    let first = &seen[0];
    assert_eq!(
        (first.answered, first.path.as_str()),
        (429, "/crm/v3/objects/contacts/123")
    );
    let retry = seen.iter().find(|p| p.answered == 200).unwrap();
    assert!(
        retry.at - first.at >= Duration::from_millis(950),
        "retried {:?} after the 429",
        retry.at - first.at
    );
    let last = last_accepted(&crm).unwrap();
    assert_eq!(last.path, "/crm/v3/objects/contacts/123");
    assert_eq!(last.authorization, "Bearer pat-na1-test-token");
    let body: Value = serde_json::from_str(&last.body).unwrap();
    let p = &body["properties"];
    assert_eq!(p["leadclock_systems_delay_minutes"], "1.5", "{body}");
    assert_eq!(p["leadclock_human_delay_minutes"], "1.0", "{body}");
    assert_eq!(p["leadclock_speed_to_lead_minutes"], "2.5", "{body}");
    assert_eq!(p["leadclock_sla_threshold_minutes"], "60.0", "{body}");
    assert_eq!(p["leadclock_sla_status"], "met", "{body}");
    assert_eq!(p["leadclock_first_response_at"], touched.as_str(), "{body}");
    let deadline = chrono::DateTime::parse_from_rfc3339(p["leadclock_sla_deadline"].as_str().unwrap()).unwrap();
    let assigned = chrono::DateTime::parse_from_rfc3339(&ago(510)).unwrap();
    assert!(
        (deadline - assigned - chrono::Duration::hours(1)).num_seconds().abs() <= 2,
        "{body}"
    );
    // The lead says how its write-back went.
    let (status, view) = support::get_lead(&reqwest::Client::new(), &s, lead).await;
    assert_eq!(status, 200);
    assert_eq!(view["write_back"]["status"], "sent", "{}", view["write_back"]);
    assert_eq!(view["write_back"]["last_error"], Value::Null, "{}", view["write_back"]);
    // A resent touch changes no figure: nothing more is written.
    let before = patches(&crm);
    let c = reqwest::Client::new();
    let again = json!({"lead_id": lead, "event_id": "t1", "occurred_at": touched, "owner": "alice", "channel": "call", "outcome": "connected"});
    assert_eq!(post(&c, &s, "touch", again).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(patches(&crm), before, "{:?}", crm.seen.lock().unwrap());
    // A lead that is not a CRM record is never written.
    let other = json!({"lead_id": "L-plain", "occurred_at": ago(60), "lead_type": "content_mql"});
    assert_eq!(post(&c, &s, "form", other).await.0, 202);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(crm.seen.lock().unwrap().iter().all(|p| p.path.ends_with("/123")));
    let (_, plain) = support::get_lead(&c, &s, "L-plain").await;
    assert!(plain.get("write_back").is_none(), "{plain}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_salesforce_lead_gets_its_fields_with_a_renewed_client_credentials_session() {
    let crm = Arc::new(Crm::default());
    let base = start_crm(crm.clone()).await;
    let env = [
        ("LEADCLOCK_SALESFORCE_CLIENT_ID", "3MVG9-consumer-key"),
        ("LEADCLOCK_SALESFORCE_CLIENT_SECRET", "consumer-secret"),
        ("LEADCLOCK_SALESFORCE_LOGIN_URL", base.as_str()),
    ];
    let s = Server::start(&fast_policy(), &temp_dir("writeback-sf"), &env);
    let lead = "salesforce:00D000000000001AAA:00Q000000000001AAA";
    let touched = lifecycle(&s, lead).await;
    let done = wait_for(Duration::from_secs(20), || {
        last_accepted(&crm).is_some_and(|p| p.body.contains(&touched))
    })
    .await;
    assert!(
        done,
        "no accepted write with the touch: {:?}\n{}",
        crm.seen.lock().unwrap(),
        s.logs()
    );
    let seen = crm.seen.lock().unwrap().clone();
    let token = &seen[0];
    assert_eq!(
        (token.method.as_str(), token.path.as_str()),
        ("POST", "/services/oauth2/token")
    );
    for part in [
        "grant_type=client_credentials",
        "client_id=3MVG9-consumer-key",
        "client_secret=consumer-secret",
    ] {
        assert!(token.body.contains(part), "{}", token.body);
    }
    assert_eq!(seen[1].answered, 401, "the first session is refused: {seen:?}");
    assert_eq!(
        seen[2].path, "/services/oauth2/token",
        "a new session is asked for: {seen:?}"
    );
    let last = last_accepted(&crm).unwrap();
    assert_eq!(last.path, "/services/data/v62.0/sobjects/Lead/00Q000000000001AAA");
    assert_eq!(last.authorization, "Bearer 00D!tok-2");
    let body: Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(body["Leadclock_Systems_Delay_Minutes__c"], json!(1.5), "{body}");
    assert_eq!(body["Leadclock_Human_Delay_Minutes__c"], json!(1.0), "{body}");
    assert_eq!(body["Leadclock_Speed_To_Lead_Minutes__c"], json!(2.5), "{body}");
    assert_eq!(body["Leadclock_SLA_Threshold_Minutes__c"], json!(60.0), "{body}");
    assert_eq!(body["Leadclock_SLA_Status__c"], "met", "{body}");
    assert_eq!(body["Leadclock_First_Response_At__c"], touched.as_str(), "{body}");
    assert!(!s.logs().contains("consumer-secret"), "the secret reached the logs");
}
