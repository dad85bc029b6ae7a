//! Outreach and Salesloft on the local server, black-box: the shared notes' signed vectors (O1,
//! L1) and the documented or composed resources (`crates/crm/tests/fixtures/`, sources in its
//! SOURCES.md). A touch for a person nobody knows yet is held, and lands on the lead once the
//! person event or the lead's form makes it known; a resend changes nothing; a wrong signature
//! or an unconfigured tool is refused.

mod support;

use leadclock_crm::signature::hex_hmac;
use leadclock_crm::SigningSecret;
use serde_json::Value;
use support::{root, temp_dir, Server};

const OUTREACH: &str = "outreach-webhook-secret";
const SALESLOFT: &str = "salesloft-callback-token";
const SF_SECRET: &str = "sf-path-secret-0123456789";
const ORG: &str = "00D000000000001AAA";
const TOKEN: &str = "read-token";
const LEAD: &str = "salesforce:00D000000000001AAA:00Q000000000001AAA";

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(root().join("crates/crm/tests/fixtures").join(dir).join(name)).unwrap()
}

fn server(tag: &str, salesloft: bool) -> Server {
    server_for_org(tag, salesloft, ORG)
}

fn server_for_org(tag: &str, salesloft: bool, org: &str) -> Server {
    let mut env = vec![
        ("LEADCLOCK_WEBHOOK_SECRETS", "leadclock-secret"),
        ("LEADCLOCK_READ_TOKENS", TOKEN),
        ("LEADCLOCK_SALESFORCE_PATH_SECRETS", SF_SECRET),
        ("LEADCLOCK_SALESFORCE_ORG_IDS", org),
        ("LEADCLOCK_OUTREACH_SECRETS", OUTREACH),
    ];
    if salesloft {
        env.push(("LEADCLOCK_SALESLOFT_TOKENS", SALESLOFT));
    }
    // The fixtures are from 2024: the example policy's 90-day contact retention would erase
    // the lead's email (and with it what the tools learned) as soon as it is stored.
    let dir = temp_dir(tag);
    let example = std::fs::read_to_string(root().join("policies/example.toml")).unwrap();
    let policy = dir.with_extension("toml");
    std::fs::write(
        &policy,
        example.replace("contact_retention = \"90days\"", "contact_retention = \"off\""),
    )
    .unwrap();
    Server::start(&policy, &dir, &env)
}

async fn outreach(s: &Server, body: &[u8], sig: Option<String>) -> (u16, Value) {
    let sig = sig.unwrap_or_else(|| hex_hmac::<sha2::Sha256>(&SigningSecret::new(OUTREACH), body));
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/outreach", s.base))
        .header("content-type", "application/vnd.api+json")
        .header("outreach-webhook-signature", sig)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn salesloft(s: &Server, event: &str, body: &[u8]) -> (u16, Value) {
    let sig = hex_hmac::<sha1::Sha1>(&SigningSecret::new(SALESLOFT), body);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/salesloft", s.base))
        .header("content-type", "application/json")
        .header("x-salesloft-event", event)
        .header("x-salesloft-signature", sig)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn salesforce_lead(s: &Server) {
    salesforce_message(s, fixture("salesforce", "lead-notification.xml")).await;
}

/// Posts an Outbound Message and expects it acknowledged.
async fn salesforce_message(s: &Server, body: impl Into<reqwest::Body>) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/salesforce/{SF_SECRET}", s.base))
        .header("content-type", "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Ack>true</Ack>"));
}

fn touches(lead: &Value) -> Vec<(String, String)> {
    lead["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "touch")
        .map(|e| {
            (
                e["event_id"].as_str().unwrap_or("").to_owned(),
                e["occurred_at"].to_string(),
            )
        })
        .collect()
}

fn counts(v: &Value) -> (u64, u64) {
    (v["stored"].as_u64().unwrap_or(99), v["held"].as_u64().unwrap_or(99))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outreach_touch_is_held_until_its_prospect_is_known_then_lands_once() {
    let s = server("tools-outreach", false);
    // O1, with the vector's own signature: prospect 42 is nobody yet, so the touch is held.
    let o1 = fixture("outreach", "mailing-delivered.json");
    let sig = "a030a0ec00ac2b9b1cfb13954a5d58d5715101dd3e83065f34071d8def560bd9".to_owned();
    let (status, body) = outreach(&s, &o1, Some(sig)).await;
    assert_eq!((status, counts(&body)), (200, (0, 1)), "{body}");
    salesforce_lead(&s).await;
    assert!(touches(&s.lead(LEAD, TOKEN).await).is_empty());
    // The prospect's emails name the lead's contact: the held touch lands on it.
    let (status, body) = outreach(&s, &fixture("outreach", "prospect-updated.json"), None).await;
    assert_eq!((status, counts(&body)), (200, (1, 0)), "{body}");
    assert_eq!(body["people_identified"], 1);
    let lead = s.lead(LEAD, TOKEN).await;
    let t = touches(&lead);
    assert_eq!(t.len(), 1, "{lead}");
    assert_eq!(t[0].0, "outreach:mailing:5001:delivered");
    // A resend finds the same lead and stores nothing new.
    let (status, body) = outreach(&s, &o1, None).await;
    assert_eq!((status, counts(&body)), (200, (0, 0)), "{body}");
    assert_eq!(touches(&s.lead(LEAD, TOKEN).await).len(), 1);
    // An event without SLA meaning: 200 with its reason.
    let (status, body) = outreach(&s, &fixture("outreach", "install-created.json"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["skipped"].as_array().map(Vec::len), Some(1), "{body}");
    // A wrong signature, and Salesloft with no token configured, are refused.
    let (status, body) = outreach(&s, &o1, Some("00".repeat(32))).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (401, Some("outreach-webhook-signature")),
        "{body}"
    );
    let (status, body) = salesloft(&s, "call_created", &fixture("salesloft", "call-created.json")).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (401, Some("LEADCLOCK_SALESLOFT_TOKENS")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_salesloft_touch_ahead_of_its_lead_lands_when_the_leads_form_arrives() {
    let s = server("tools-salesloft", true);
    // A sent email to ada@example.com before any lead has that contact: held.
    let (status, body) = salesloft(&s, "email_updated", &fixture("salesloft", "email-updated-sent.json")).await;
    assert_eq!((status, counts(&body)), (200, (0, 1)), "{body}");
    // The Salesforce Lead (Email ada@example.com) arrives: the held email is its touch.
    salesforce_lead(&s).await;
    assert_eq!(touches(&s.lead(LEAD, TOKEN).await).len(), 1);
    // Person 4242 is now known by that email: L1's call goes straight to the lead.
    let (status, body) = salesloft(&s, "call_created", &fixture("salesloft", "call-created.json")).await;
    assert_eq!((status, counts(&body)), (200, (1, 0)), "{body}");
    let ids: Vec<String> = touches(&s.lead(LEAD, TOKEN).await).into_iter().map(|t| t.0).collect();
    assert!(ids.contains(&"salesloft:call:777".to_owned()), "{ids:?}");
    // No event header: a clear 400.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/salesloft", s.base))
        .header("content-type", "application/json")
        .header(
            "x-salesloft-signature",
            hex_hmac::<sha1::Sha1>(&SigningSecret::new(SALESLOFT), b"{\"id\":1}"),
        )
        .body("{\"id\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_joins_its_salesforce_lead_by_crm_id_whichever_form_the_ids_are_written_in() {
    // The org configured by its 15-character id, the person's crm_id too, and an email no lead
    // has: only the CRM id can join them (the lead is keyed by the message's 18-character ids).
    let s = server_for_org("tools-crm-id", true, "00D000000000001");
    // The fixture's ids end in AAA whatever their case; real ones carry their checksum.
    let (org, lead) = ("00D000000000001EAA", "00Q000000000001EAA");
    let message = String::from_utf8(fixture("salesforce", "lead-notification.xml"))
        .unwrap()
        .replace("00D000000000001AAA", org)
        .replace("00Q000000000001AAA", lead);
    salesforce_message(&s, message).await;
    let person = String::from_utf8(fixture("salesloft", "person-updated.json"))
        .unwrap()
        .replace("Ada@Example.com", "someone.else@example.org")
        .replace("00Q000000000001AAA", "00Q000000000001");
    let (status, body) = salesloft(&s, "person_updated", person.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = salesloft(&s, "call_created", &fixture("salesloft", "call-created.json")).await;
    assert_eq!((status, counts(&body)), (200, (1, 0)), "{body}");
    let key = format!("salesforce:{org}:{lead}");
    let ids: Vec<String> = touches(&s.lead(&key, TOKEN).await).into_iter().map(|t| t.0).collect();
    assert!(ids.contains(&"salesloft:call:777".to_owned()), "{ids:?}");
}
