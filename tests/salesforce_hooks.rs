//! Salesforce Outbound Messages on the local server, black-box: the documented envelope
//! (`crates/crm/tests/fixtures/salesforce/`, sources in its SOURCES.md) becomes the lead's
//! timeline and is acknowledged only once stored; a resend changes nothing; another org, a
//! wrong path secret, non-XML and a broken envelope get SOAP faults; a full disk gets a fault,
//! never an Ack.

mod support;

use serde_json::Value;
use support::{root, temp_dir, Server};

const SECRET: &str = "sf-path-secret-0123456789";
const ORG: &str = "00D000000000001AAA";
const TOKEN: &str = "read-token";
const LEAD: &str = "salesforce:00D000000000001AAA:00Q000000000001AAA";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("crates/crm/tests/fixtures/salesforce").join(name)).unwrap()
}

fn env(orgs: &'static str) -> [(&'static str, &'static str); 4] {
    [
        ("LEADCLOCK_WEBHOOK_SECRETS", "leadclock-secret"),
        ("LEADCLOCK_READ_TOKENS", TOKEN),
        ("LEADCLOCK_SALESFORCE_PATH_SECRETS", SECRET),
        ("LEADCLOCK_SALESFORCE_ORG_IDS", orgs),
    ]
}

async fn send(s: &Server, secret: &str, content_type: &str, body: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/salesforce/{secret}", s.base))
        .header("content-type", content_type)
        .header("soapaction", "\"\"")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn deliver(s: &Server, body: &str) -> (u16, String) {
    send(s, SECRET, "text/xml; charset=utf-8", body).await
}

async fn lead(s: &Server, id: &str) -> Value {
    s.lead(id, TOKEN).await
}

fn kinds(lead: &Value) -> Vec<String> {
    lead["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn acked(body: &str) -> bool {
    body.contains("<Ack>true</Ack>")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outbound_message_becomes_the_leads_timeline_and_is_acked_once_stored() {
    let s = Server::start(&root().join("policies/example.toml"), &temp_dir("sf-lead"), &env(ORG));
    let (status, body) = deliver(&s, &fixture("lead-notification.xml")).await;
    assert_eq!(status, 200, "{body}");
    assert!(acked(&body), "{body}");
    let l = lead(&s, LEAD).await;
    assert_eq!(kinds(&l), ["form", "assignment", "stage"], "{l}");
    assert_eq!(l["owner"]["owner"], "005000000000001AAA");
    assert_eq!(l["stage"], "sal");
    // Salesforce resends until it sees the Ack: the same message again changes nothing.
    let (status, body) = deliver(&s, &fixture("lead-notification.xml")).await;
    assert!(status == 200 && acked(&body), "{body}");
    assert_eq!(lead(&s, LEAD).await["timeline_total"], l["timeline_total"]);
    // A completed call logged as a Task about the lead is its first touch.
    let (status, body) = deliver(&s, &fixture("task-notification.xml")).await;
    assert!(status == 200 && acked(&body), "{body}");
    let l = lead(&s, LEAD).await;
    assert_eq!(kinds(&l), ["form", "assignment", "stage", "touch"], "{l}");
    // The open task (no CompletedDateTime) and the Account are acknowledged, not stored.
    assert_eq!(l["timeline_total"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn newest_first_and_a_queue_owner_give_one_timeline_in_time_order() {
    let s = Server::start(&root().join("policies/example.toml"), &temp_dir("sf-two"), &env(ORG));
    let (status, body) = deliver(&s, &fixture("two-notifications.xml")).await;
    assert!(status == 200 && acked(&body), "{body}");
    let l = lead(&s, "salesforce:00D000000000001AAA:00Q000000000002AAA").await;
    // The queue (00G…) holds the lead first: not an assignment. The rep's owner at 15:20 is.
    assert_eq!(kinds(&l), ["form", "assignment"], "{l}");
    assert_eq!(l["owner"]["owner"], "005000000000002AAA");
}

#[tokio::test(flavor = "multi_thread")]
async fn other_orgs_wrong_secrets_and_bad_envelopes_get_soap_faults_and_store_nothing() {
    let s = Server::start(
        &root().join("policies/example.toml"),
        &temp_dir("sf-refused"),
        &env("00D000000000009AAA"),
    );
    let message = fixture("lead-notification.xml");
    let fault = |body: &str, code: &str| body.contains(&format!("<faultcode>{code}</faultcode>")) && !acked(body);
    let (status, body) = deliver(&s, &message).await;
    assert!(status == 403 && fault(&body, "soapenv:Client"), "{status} {body}");
    assert!(body.contains("00D000000000001AAA"), "the fault names the org: {body}");
    let (status, body) = send(&s, "guessed-secret", "text/xml", &message).await;
    assert!(status == 401 && fault(&body, "soapenv:Client"), "{status} {body}");
    let (status, body) = send(&s, SECRET, "application/json", &message).await;
    assert!(status == 415 && fault(&body, "soapenv:Client"), "{status} {body}");
    let (status, body) = deliver(&s, "<soapenv:Envelope xmlns:soapenv=\"x\">").await;
    assert!(status == 400 && fault(&body, "soapenv:Client"), "{status} {body}");
    let r = reqwest::Client::new()
        .get(format!("{}/v1/leads/{LEAD}", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "nothing refused was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_fails_mid_message_gets_a_server_fault_never_an_ack() {
    let data = temp_dir("sf-fulldisk");
    // 1 MiB per file, as in the full-disk delivery test: the WAL fills within a few hundred
    // messages, each a lead with a wide Company field.
    let s = Server::start_on_full_disk(&root().join("policies/example.toml"), &data, &env(ORG), 1024);
    let wide = "Analytical Engines ".repeat(200);
    for i in 0..2000 {
        let (lead_id, notification) = (format!("00Q{i:015}"), format!("04l{i:015}"));
        let m = fixture("lead-notification.xml")
            .replace("00Q000000000001AAA", &lead_id)
            .replace("04l000000000001AAA", &notification)
            .replace("Analytical Engines &amp; Co", &wide);
        let (status, body) = deliver(&s, &m).await;
        if status == 200 {
            assert!(acked(&body), "{body}");
            continue;
        }
        assert_eq!(status, 500, "{body}");
        assert!(
            body.contains("<faultcode>soapenv:Server</faultcode>") && !acked(&body),
            "{body}"
        );
        // The message's events were written in one transaction: none of them is kept, so
        // Salesforce's resend is the first copy, not a half-stored one.
        let r = reqwest::Client::new()
            .get(format!("{}/v1/leads/salesforce:{ORG}:{lead_id}", s.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "message {i} was half stored");
        assert!(i > 0, "the first message already failed: {body}");
        return;
    }
    panic!("the disk never filled");
}
