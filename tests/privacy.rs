//! Erasure of one person's data, black-box: `POST /v1/privacy/erasure` on the real server (admin
//! token only, errors in the documented shape, no email in any log line), and `leadclock forget`
//! on a stopped server's data dir.

mod support;

use serde_json::{json, Value};
use std::process::Command;
use support::{fast_policy, now_rfc3339, temp_dir, Server, BIN};

const SECRET: &str = "privacy-webhook-secret";
const READER: &str = "privacy-reader";
const ADMIN: &str = "privacy-admin";

/// Every stored event body, as SQLite holds it.
fn stored_bodies(data: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(data.join("leadclock.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT lead_id, body FROM events ORDER BY lead_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn bodies_of(data: &std::path::Path, lead: &str) -> String {
    stored_bodies(data)
        .into_iter()
        .filter(|(l, _)| l == lead)
        .map(|(_, b)| b)
        .collect::<Vec<_>>()
        .join("\n")
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A signed (v2) POST of `body` to `/v1/events/{kind}`.
    async fn event(&self, kind: &str, body: &Value) -> u16 {
        let path = format!("/v1/events/{kind}");
        let raw = body.to_string();
        let ts = chrono::Utc::now().timestamp();
        let sig = leadclock_app::auth::sign_v2(
            &leadclock_app::auth::Secret::new(SECRET),
            ts,
            "POST",
            &path,
            raw.as_bytes(),
        );
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("x-leadclock-timestamp", ts.to_string())
            .header("x-leadclock-signature", format!("v2={sig}"))
            .body(raw)
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }

    async fn erase(&self, token: Option<&str>, content_type: &str, body: &str) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/v1/privacy/erasure", self.base))
            .header("content-type", content_type)
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn lead(&self, id: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/v1/leads/{id}", self.base))
            .bearer_auth(READER)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

fn form(lead: &str, email: &str) -> Value {
    json!({"event_id": format!("{lead}-form"), "lead_id": lead, "occurred_at": now_rfc3339(-120),
           "lead_type": "content_mql",
           "contact": {"name": "Ada Lovelace", "email": email, "company": "Analytical Engines"}})
}

#[tokio::test]
async fn erasure_over_http_needs_an_admin_token_and_keeps_the_timeline() {
    let data = temp_dir("privacy-http");
    let env = [
        ("LEADCLOCK_WEBHOOK_SECRETS", SECRET),
        ("LEADCLOCK_READ_TOKENS", READER),
        ("LEADCLOCK_ADMIN_TOKENS", ADMIN),
    ];
    let s = Server::start(&fast_policy(), &data, &env);
    let c = Client {
        http: reqwest::Client::new(),
        base: s.base.clone(),
    };
    let forms: Vec<Value> = [
        ("E-1", "Ada@Example.com"),
        ("E-2", "ada@example.com"),
        ("E-3", "grace@example.com"),
    ]
    .iter()
    .map(|(lead, email)| form(lead, email))
    .collect();
    for (lead, form) in ["E-1", "E-2", "E-3"].into_iter().zip(&forms) {
        assert_eq!(c.event("form", form).await, 202);
        let touch =
            json!({"lead_id": lead, "occurred_at": now_rfc3339(-60), "channel": "call", "outcome": "connected"});
        assert_eq!(c.event("touch", &touch).await, 202);
    }
    let before = c.lead("E-1").await;
    let by_email = r#"{"email": "ADA@example.com"}"#;

    // Only an admin token erases: none, a read token and a wrong one are refused alike.
    for token in [None, Some(READER), Some("guess")] {
        let (st, v) = c.erase(token, "application/json", by_email).await;
        assert_eq!(
            (st, v["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{token:?}"
        );
    }
    assert!(
        bodies_of(&data, "E-1").contains("Ada@Example.com"),
        "nothing erased yet"
    );
    // Bad requests answer the documented error shape.
    let (st, v) = c.erase(Some(ADMIN), "text/plain", by_email).await;
    assert_eq!((st, v["error"]["code"].as_str()), (415, Some("unsupported_media_type")));
    for (body, field) in [
        (r#"{"email": "nobody"}"#, "email"),
        (r#"{"lead_id": "E-1", "email": "ada@example.com"}"#, "body"),
        ("[]", "body"),
    ] {
        let (st, v) = c.erase(Some(ADMIN), "application/json", body).await;
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{body}");
    }
    // An email no form names answers like one already erased: 200, nothing erased.
    let (st, v) = c
        .erase(Some(ADMIN), "application/json", r#"{"email": "nobody@example.com"}"#)
        .await;
    assert_eq!((st, v["leads"].as_array().map(Vec::len)), (200, Some(0)));
    let (st, v) = c
        .erase(Some(ADMIN), "application/json", r#"{"lead_id": "NO-SUCH"}"#)
        .await;
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("lead_not_found")));

    let (st, v) = c.erase(Some(ADMIN), "application/json", by_email).await;
    assert_eq!(st, 200, "{v}");
    let mut leads: Vec<&str> = v["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lead_id"].as_str().unwrap())
        .collect();
    leads.sort_unstable();
    assert_eq!(leads, ["E-1", "E-2"]);
    assert_eq!(v["events_erased"], 2);
    for lead in ["E-1", "E-2"] {
        let stored = bodies_of(&data, lead);
        assert!(
            !stored.to_lowercase().contains("ada") && !stored.contains("Analytical"),
            "{stored}"
        );
        assert!(stored.contains("erased_at"));
    }
    assert!(bodies_of(&data, "E-3").contains("grace@example.com"));
    let after = c.lead("E-1").await;
    for key in ["timeline", "cycles", "stage", "lead_type"] {
        assert_eq!(after[key], before[key], "{key}");
    }
    // The sender retrying the original form is answered as a duplicate, and brings nothing back.
    assert_eq!(c.event("form", &forms[0]).await, 200);
    assert!(!bodies_of(&data, "E-1").contains("Ada@Example.com"));
    // By lead id too.
    let (st, v) = c.erase(Some(ADMIN), "application/json", r#"{"lead_id": "E-3"}"#).await;
    assert_eq!((st, v["events_erased"].as_u64()), (200, Some(1)));
    let logs = s.logs().to_lowercase();
    assert!(!logs.contains("example.com") && !logs.contains(ADMIN), "{logs}");
}

#[tokio::test]
async fn forget_erases_from_a_stopped_servers_data_dir() {
    let data = temp_dir("privacy-cli");
    let mut s = Server::start(&fast_policy(), &data, &[]);
    let http = reqwest::Client::new();
    for (lead, email) in [("F-1", "fay@example.com"), ("F-2", "gus@example.com")] {
        let r = http
            .post(format!("{}/v1/events/form", s.base))
            .json(&form(lead, email))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    // While the server runs, the data dir is its own.
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("forget")
            .args([
                "--policy",
                fast_policy().to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let busy = run(&["--lead", "F-1"]);
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("/v1/privacy/erasure"));
    s.kill9();

    let out = run(&["--lead", "F-1", "--email", "GUS@example.com"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("lead F-1: 1 event(s) erased on 1 lead(s)"), "{text}");
    assert!(text.contains("email #1: 1 event(s) erased on 1 lead(s)"), "{text}");
    assert!(!text.contains("gus"), "the output never prints the email: {text}");
    assert!(!bodies_of(&data, "F-1").contains("fay@") && !bodies_of(&data, "F-2").contains("gus@"));

    // A lead id that names nothing says so and exits 2; an email that names nothing is said,
    // not an error; a bad subject stops before anything.
    let out = run(&["--lead", "NO-SUCH"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no stored lead matches"));
    let out = run(&["--email", "nobody@example.com"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("email #1: 0 event(s) erased on 0 lead(s)"));
    let out = run(&["--lead", "a b"]);
    assert!(!out.status.success());
    let out = run(&["--expired"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("retention: 0 event(s) erased"));
}
