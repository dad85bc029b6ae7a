//! Black-box tests: start the real `leadclock serve` binary on a random port and drive its
//! HTTP API. SLAs are seconds long (tests/fixtures/fast.toml) and the clock is real.

mod support;

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::*;

fn steps_sent(s: &Server, lead: &str) -> Vec<(String, u64)> {
    s.escalations()
        .iter()
        .filter(|e| e["lead_id"] == lead)
        .map(|e| (e["clock"].as_str().unwrap().to_owned(), e["step"].as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn healthz_and_bad_input_get_clear_errors() {
    let data = temp_dir("errors");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    let r = c.get(format!("{}/healthz", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "ok", "dead_letters": 0})
    );

    // (route, body, status, code, field)
    type Case<'a> = (&'a str, Vec<u8>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("form", b"{not json".to_vec(), 400, "malformed_json", None),
        ("form", b"\xff\xfe".to_vec(), 400, "malformed_json", None),
        (
            "form",
            json!({"occurred_at": now_rfc3339(0), "lead_type": "demo_request"})
                .to_string()
                .into_bytes(),
            400,
            "missing_field",
            Some("lead_id"),
        ),
        (
            "form",
            json!({"lead_id": "L", "occurred_at": "2026-11-23T10:00:00", "lead_type": "demo_request"})
                .to_string()
                .into_bytes(),
            400,
            "invalid_field",
            Some("occurred_at"),
        ),
        (
            "form",
            json!({"lead_id": "L", "occurred_at": now_rfc3339(0), "lead_type": "yacht"})
                .to_string()
                .into_bytes(),
            422,
            "unknown_lead_type",
            Some("lead_type"),
        ),
        (
            "stage",
            json!({"lead_id": "L", "occurred_at": now_rfc3339(0), "stage": "mql"})
                .to_string()
                .into_bytes(),
            422,
            "unknown_stage",
            Some("stage"),
        ),
        (
            "assignment",
            json!({"lead_id": "L", "occurred_at": now_rfc3339(0), "owner": 7})
                .to_string()
                .into_bytes(),
            400,
            "invalid_field",
            Some("owner"),
        ),
        ("form", vec![b' '; 70_000], 413, "body_too_large", None),
        ("bogus", b"{}".to_vec(), 404, "not_found", None),
    ];
    for (kind, body, status, code, field) in cases {
        let (got, v) = post_raw(&c, &s, kind, body).await;
        assert_eq!(got, status, "{kind} {v}");
        assert_eq!(v["error"]["code"], code, "{v}");
        assert_eq!(v["error"]["field"].as_str(), field, "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // The JSON routes take JSON: no content type, or another one, is 415 before the body is read.
    let form = br#"{"lead_id":"L","occurred_at":"2026-11-23T15:00:00Z","lead_type":"demo_request"}"#;
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut req = c.post(format!("{}/v1/events/form", s.base)).body(form.to_vec());
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 415, "{content_type:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "unsupported_media_type", "{v}");
        assert_eq!(v["error"]["field"], "content-type", "{v}");
    }
    let (st, v) = get_lead(&c, &s, "never-seen").await;
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("lead_not_found")));
    // Nothing was stored by any of the refused requests.
    let (st, _) = get_lead(&c, &s, "L").await;
    assert_eq!(st, 404);
    // And the server is still up.
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn lifecycle_records_delays_and_duplicates_change_nothing() {
    let data = temp_dir("lifecycle");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    let t0 = chrono::Utc::now() - chrono::Duration::seconds(600);
    let at = |secs: i64| (t0 + chrono::Duration::seconds(secs)).to_rfc3339();
    let form = json!({"lead_id": "L-7", "occurred_at": at(0), "lead_type": "content_mql", "source": "organic",
                      "region": "na", "contact": {"name": "Ada Lovelace", "email": "ada@example.com", "company": "Analytical"}});
    let (st, v) = post(&c, &s, "form", form.clone()).await;
    assert_eq!(st, 202, "{v}");
    assert_eq!(v["duplicate"], false);
    let (st, v) = post(&c, &s, "form", form).await;
    assert_eq!((st, &v["duplicate"]), (200, &json!(true)));
    // A touch that arrives before its assignment (out of order).
    let (st, _) = post(
        &c,
        &s,
        "touch",
        json!({"event_id": "t-1", "lead_id": "L-7", "occurred_at": at(100), "channel": "call", "outcome": "connected"}),
    )
    .await;
    assert_eq!(st, 202);
    let (st, v) = post(
        &c,
        &s,
        "assignment",
        json!({"event_id": "a-1", "lead_id": "L-7", "occurred_at": at(40), "owner": "alice"}),
    )
    .await;
    assert_eq!(st, 202);
    let lead = &v["lead"];
    assert_eq!(lead["owner"]["owner"], "alice");
    assert!(lead.get("owner_unknown").is_none(), "alice is in the directory: {lead}");
    let (st, _) = post(
        &c,
        &s,
        "stage",
        json!({"event_id": "s-1", "lead_id": "L-7", "occurred_at": at(200), "stage": "sal"}),
    )
    .await;
    assert_eq!(st, 202);
    let (st, v) = post(
        &c,
        &s,
        "stage",
        json!({"event_id": "s-1", "lead_id": "L-7", "occurred_at": at(200), "stage": "sal"}),
    )
    .await;
    assert_eq!((st, &v["duplicate"]), (200, &json!(true)));

    let (st, lead) = get_lead(&c, &s, "L-7").await;
    assert_eq!(st, 200);
    assert_eq!(lead["stage"], "sal");
    let kinds: Vec<&str> = lead["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // The form arrived 10 minutes late, its 3 s assignment SLA long passed; its assignment
    // (40 s after it) followed within the settle window, so ops was not paged for a lead that
    // was already assigned. The step is still recorded, and the miss still counts.
    assert_eq!(kinds, vec!["form", "assignment", "touch", "stage"]);
    assert!(steps_sent(&s, "L-7").is_empty());
    let outcome = &lead["escalations"][0];
    assert_eq!(
        (&outcome["clock"], &outcome["step"], &outcome["status"]),
        (&json!("assignment"), &json!(1), &json!("cancelled"))
    );
    let cycle = &lead["cycles"][0];
    assert_eq!(cycle["delays"]["systems"]["seconds"], 40);
    assert_eq!(cycle["delays"]["human"]["seconds"], 60);
    assert_eq!(cycle["delays"]["speed_to_lead"]["seconds"], 100);
    let clocks = lead["clocks"].as_array().unwrap();
    assert_eq!(clocks[0]["clock"], "assignment");
    assert_eq!(clocks[1]["status"], "met");
    // Contact data is stored but never echoed in the lead view or logged.
    let text = lead.to_string();
    assert!(!text.contains("ada@example.com") && !text.contains("Lovelace"));
    assert!(!s.logs().contains("ada@example.com"));
}

#[tokio::test]
async fn escalation_ladder_fires_on_time_and_each_step_once() {
    let data = temp_dir("ladder");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-esc", "occurred_at": now_rfc3339(0), "lead_type": "demo_request"}),
    )
    .await;
    let (_, v) = post(
        &c,
        &s,
        "assignment",
        json!({"lead_id": "L-esc", "occurred_at": now_rfc3339(0), "owner": "alice"}),
    )
    .await;
    let steps = v["lead"]["clocks"][1]["steps"].as_array().unwrap().clone();
    assert_eq!(steps.len(), 3);
    // Owner at +2s, manager at +4s, exec at +6s.
    assert!(
        wait_for(Duration::from_secs(10), || steps_sent(&s, "L-esc").len() == 3).await,
        "{:?}",
        s.escalations()
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = steps_sent(&s, "L-esc");
    assert_eq!(
        sent,
        vec![("response".into(), 1), ("response".into(), 2), ("response".into(), 3)]
    );
    let (_, lead) = get_lead(&c, &s, "L-esc").await;
    let delivered: Vec<&Value> = lead["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["clock"] == "response")
        .collect();
    assert_eq!(delivered.len(), 3);
    for step in delivered {
        assert_eq!(step["status"], "delivered", "{step}");
        assert_eq!(step["deliveries"][0]["channel"], "jsonl");
        let due = chrono::DateTime::parse_from_rfc3339(step["due_at"].as_str().unwrap()).unwrap();
        let sent = chrono::DateTime::parse_from_rfc3339(step["at"].as_str().unwrap()).unwrap();
        let lag = (sent - due).num_milliseconds();
        assert!(
            (0..1000).contains(&lag),
            "step {} delivered {lag} ms after due",
            step["step"]
        );
    }
    let esc = s.escalations();
    let mgr = esc.iter().find(|e| e["step"] == 2).unwrap();
    let ids: Vec<&str> = mgr["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["alice", "maria"]);
    // Printed as one readable line each.
    assert_eq!(s.logs().matches("ESCALATION [").count(), 3);
}

#[tokio::test]
async fn a_touch_before_the_deadline_cancels_the_escalation() {
    let data = temp_dir("touch");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-ok", "occurred_at": now_rfc3339(0), "lead_type": "demo_request"}),
    )
    .await;
    post(
        &c,
        &s,
        "assignment",
        json!({"lead_id": "L-ok", "occurred_at": now_rfc3339(0), "owner": "alice"}),
    )
    .await;
    // A voicemail does not stop the clock…
    let (_, v) = post(
        &c,
        &s,
        "touch",
        json!({"lead_id": "L-ok", "occurred_at": now_rfc3339(0), "channel": "call", "outcome": "voicemail"}),
    )
    .await;
    assert_eq!(v["lead"]["clocks"][1]["status"], "running");
    // …a connected call does.
    let (_, v) = post(
        &c,
        &s,
        "touch",
        json!({"lead_id": "L-ok", "occurred_at": now_rfc3339(0), "channel": "call", "outcome": "connected"}),
    )
    .await;
    assert_eq!(v["lead"]["clocks"][1]["status"], "met");
    assert!(v["lead"]["next_escalation"].is_null());
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(steps_sent(&s, "L-ok").is_empty(), "{:?}", s.escalations());
}

#[tokio::test]
async fn a_pending_timer_survives_kill_9_and_fires_after_restart() {
    let data = temp_dir("restart");
    let mut s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-r", "occurred_at": now_rfc3339(0), "lead_type": "demo_request"}),
    )
    .await;
    post(
        &c,
        &s,
        "assignment",
        json!({"lead_id": "L-r", "occurred_at": now_rfc3339(0), "owner": "alice"}),
    )
    .await;
    // Another lead, accepted just before the crash, must not be lost either.
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-r2", "occurred_at": now_rfc3339(0), "lead_type": "content_mql"}),
    )
    .await;
    s.kill9();
    assert!(steps_sent(&s, "L-r").is_empty());
    // Down past the first two steps' due instants: they are overdue at restart and fire at once.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let s = Server::start(&fast_policy(), &data, &[]);
    assert!(
        wait_for(Duration::from_secs(2), || steps_sent(&s, "L-r").len() >= 2).await,
        "{:?}",
        s.escalations()
    );
    assert!(wait_for(Duration::from_secs(5), || steps_sent(&s, "L-r").len() == 3).await);
    let (st, lead) = get_lead(&c, &s, "L-r2").await;
    assert_eq!((st, lead["stage"].as_str()), (200, Some("mql")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(steps_sent(&s, "L-r").len(), 3, "no step twice");
}

#[tokio::test]
async fn concurrent_events_on_one_lead_are_all_kept() {
    let data = temp_dir("concurrent");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-c", "occurred_at": now_rfc3339(-60), "lead_type": "content_mql"}),
    )
    .await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let c = c.clone();
        let url = format!("{}/v1/events/touch", s.base);
        tasks.push(tokio::spawn(async move {
            let body = json!({"event_id": format!("t-{i}"), "lead_id": "L-c", "occurred_at": now_rfc3339(-50 + i), "channel": "email"});
            c.post(url).json(&body).send().await.unwrap().status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 202);
    }
    let (_, lead) = get_lead(&c, &s, "L-c").await;
    let kept = lead["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] != "escalated")
        .count();
    assert_eq!(kept, 51);
    assert_eq!(lead["cycles"][0]["touches"], 50);
}

#[tokio::test]
async fn slack_and_webhook_are_posted_and_a_failing_one_does_not_block_the_other() {
    use axum::routing::post as axpost;
    let received = Arc::new(Mutex::new(Vec::<Value>::new()));
    let failing_hits = Arc::new(Mutex::new(0u32));
    let r2 = received.clone();
    let f2 = failing_hits.clone();
    let app = axum::Router::new()
        .route(
            "/slack",
            axpost(move |axum::Json(v): axum::Json<Value>| {
                let r = r2.clone();
                async move {
                    r.lock().unwrap().push(v);
                    "ok"
                }
            }),
        )
        .route(
            "/broken",
            axpost(move || {
                let f = f2.clone();
                async move {
                    *f.lock().unwrap() += 1;
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let data = temp_dir("slack");
    let slack = format!("http://{hook}/slack");
    let broken = format!("http://{hook}/broken");
    let s = Server::start(
        &fast_policy(),
        &data,
        &[
            ("LEADCLOCK_SLACK_WEBHOOK_URL", &slack),
            ("LEADCLOCK_WEBHOOK_URL", &broken),
        ],
    );
    let c = reqwest::Client::new();
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-s", "occurred_at": now_rfc3339(0), "lead_type": "demo_request"}),
    )
    .await;
    post(
        &c,
        &s,
        "assignment",
        json!({"lead_id": "L-s", "occurred_at": now_rfc3339(0), "owner": "alice"}),
    )
    .await;
    assert!(wait_for(Duration::from_secs(5), || !received.lock().unwrap().is_empty()).await);
    let msg = received.lock().unwrap()[0].clone();
    let blocks = msg["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let fields: Vec<&str> = blocks[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    for label in ["*Lead*", "*Type*", "*Owner*", "*Age*", "*Deadline*", "*Step*"] {
        assert!(
            fields.iter().any(|f| f.starts_with(label)),
            "{label} missing in {fields:?}"
        );
    }
    assert!(blocks[2].to_string().contains("<@U0ALICE>"));
    // The broken webhook is retried.
    assert!(wait_for(Duration::from_secs(5), || *failing_hits.lock().unwrap() >= 2).await);
    // Webhook URLs are secrets: never in the logs.
    assert!(!s.logs().contains(&slack) && !s.logs().contains(&broken));
}

#[test]
fn a_bad_policy_never_starts_the_server() {
    let dir = temp_dir("badpolicy");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[calendars.x]\ntimezone = \"Mars/Olympus\"\nhours = { mon = [\"09:00-17:00\"] }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&bad)
        .arg("--data")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:2: calendars.x.timezone"), "{err}");
    assert!(err.contains("lead_types"), "{err}");
    let out = Command::new(BIN)
        .args(["policy", "check"])
        .arg(root().join("policies/example.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn calendar_commands_print_due_and_elapsed() {
    let policy = root().join("policies/example.toml");
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("calendar")
            .args(args)
            .arg("--policy")
            .arg(&policy)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    // Friday 16:30 New York + 1h of business time = Monday 09:30.
    assert_eq!(
        run(&[
            "due",
            "--calendar",
            "us_east",
            "--start",
            "2026-11-27T16:30:00-05:00",
            "--within",
            "1h"
        ]),
        "2026-11-30T09:30:00-05:00"
    );
    assert_eq!(
        run(&[
            "elapsed",
            "--calendar",
            "us_east",
            "--start",
            "2026-11-27T16:30:00-05:00",
            "--end",
            "2026-11-30T09:30:00-05:00"
        ]),
        "3600"
    );
    // A calendars-only file works too.
    let dir = temp_dir("cal");
    let only = dir.join("cals.toml");
    std::fs::write(
        &only,
        "[calendars.night]\ntimezone = \"UTC\"\nhours = { sat = [\"22:00-24:00\"] }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "calendar",
            "due",
            "--calendar",
            "night",
            "--start",
            "2026-11-21T23:00:00Z",
            "--within",
            "90m",
            "--policy",
        ])
        .arg(&only)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2026-11-28T22:30:00Z");
}

#[tokio::test]
async fn metrics_endpoint_serves_json_table_and_csv() {
    let data = temp_dir("metrics");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    for i in 0..3 {
        let lead = format!("M-{i}");
        post(
            &c,
            &s,
            "form",
            json!({"lead_id": lead, "occurred_at": now_rfc3339(-120), "lead_type": "content_mql", "source": "organic"}),
        )
        .await;
        post(
            &c,
            &s,
            "assignment",
            json!({"lead_id": lead, "occurred_at": now_rfc3339(-119), "owner": "alice"}),
        )
        .await;
        if i < 2 {
            post(
                &c,
                &s,
                "touch",
                json!({"lead_id": lead, "occurred_at": now_rfc3339(-60), "channel": "call"}),
            )
            .await;
        }
    }
    let get = |q: &'static str| {
        let c = c.clone();
        let url = format!("{}/v1/metrics{q}", s.base);
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (st, body) = get("?period=today&by=source").await;
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["overall"]["volume"]["mqls"], 3);
    assert_eq!(v["overall"]["response_rate"]["numerator"], 2);
    assert_eq!(
        v["overall"]["sla"]["overall"]["pending"], 1,
        "the untouched lead is still inside its 1h window"
    );
    assert_eq!(v["groups"]["organic"]["volume"]["mqls"], 3);
    assert_eq!(v["open_slas"].as_array().unwrap().len(), 1);
    let (st, table) = get("?period=today&format=table").await;
    assert_eq!(st, 200);
    assert!(table.contains("SLA") && table.contains("OPEN SLAS NOW (1"), "{table}");
    let (st, csv) = get("?period=today&format=csv").await;
    assert_eq!(st, 200);
    assert!(csv.starts_with("group,metric,value,band\noverall,mqls,3,"), "{csv}");
    for (q, field) in [
        ("?by=planet", "by"),
        ("?from=yesterday-ish", "from"),
        ("?period=fortnight", "period"),
        ("?format=xml", "format"),
    ] {
        let (st, body) = get(q).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{q}");
    }
}

/// A v2 signature for a POST of `body` to `/v1/events/form` (where `send` below posts).
fn signed(body: &Value, secret: &str, ts: i64) -> (String, String, String) {
    let raw = body.to_string();
    let secret = leadclock_app::auth::Secret::new(secret);
    let sig = leadclock_app::auth::sign_v2(&secret, ts, "POST", "/v1/events/form", raw.as_bytes());
    (raw, ts.to_string(), format!("v2={sig}"))
}

#[tokio::test]
async fn signatures_and_tokens_are_required_when_secrets_are_set() {
    let data = temp_dir("auth");
    let env = [
        ("LEADCLOCK_WEBHOOK_SECRETS", "old-secret,new-secret"),
        ("LEADCLOCK_READ_TOKENS", "reader"),
    ];
    let s = Server::start(&fast_policy(), &data, &env);
    assert!(!s.logs().contains("WARNING: --insecure-no-auth"));
    let c = reqwest::Client::new();
    let body = json!({"event_id": "e-1", "lead_id": "S-1", "occurred_at": now_rfc3339(0), "lead_type": "content_mql"});
    let now = chrono::Utc::now().timestamp();
    let send = |raw: String, ts: Option<String>, sig: Option<String>| {
        let mut req = c
            .post(format!("{}/v1/events/form", s.base))
            .header("content-type", "application/json")
            .body(raw);
        if let Some(ts) = ts {
            req = req.header("x-leadclock-timestamp", ts);
        }
        if let Some(sig) = sig {
            req = req.header("x-leadclock-signature", sig);
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (raw, ts, _) = signed(&body, "new-secret", now);
    let (st, v) = send(raw.clone(), None, None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("unauthorized")));
    let (_, _, forged) = signed(&body, "guess", now);
    assert_eq!(send(raw.clone(), Some(ts.clone()), Some(forged)).await.0, 401);
    let (raw_old, ts_old, sig_old) = signed(&body, "new-secret", now - 600);
    let (st, v) = send(raw_old, Some(ts_old), Some(sig_old)).await;
    assert_eq!(
        (st, v["error"]["code"].as_str(), v["error"]["field"].as_str()),
        (401, Some("stale_request"), Some("x-leadclock-timestamp"))
    );
    // Nothing refused was stored.
    let r = c
        .get(format!("{}/v1/leads/S-1", s.base))
        .bearer_auth("reader")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Both secrets of a rotation are accepted; a replay is a duplicate.
    for secret in ["old-secret", "new-secret"] {
        let (raw, ts, sig) = signed(&body, secret, now);
        let (st, _) = send(raw, Some(ts), Some(sig)).await;
        assert!(st == 202 || st == 200);
    }
    let r = c.get(format!("{}/v1/leads/S-1", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 401, "reads need the token");
    let r = c
        .get(format!("{}/v1/leads/S-1", s.base))
        .bearer_auth("reader")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["timeline"].as_array().unwrap().len(), 1);
    assert!(!s.logs().contains("new-secret") && !s.logs().contains("old-secret"));
}

#[test]
fn the_server_will_not_start_open_by_accident() {
    let dir = temp_dir("noauth");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(fast_policy())
        .arg("--data")
        .arg(&dir)
        .env_remove("LEADCLOCK_WEBHOOK_SECRETS")
        .env_remove("LEADCLOCK_HUBSPOT_CLIENT_SECRETS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-no-auth"));
}

#[tokio::test]
async fn a_batch_answers_each_item_in_order_and_reconciles_each_lead_once() {
    let data = temp_dir("batch");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    let t0 = now_rfc3339(-30);
    let items = json!([
        {"kind": "form", "event_id": "b-f1", "lead_id": "B-1", "occurred_at": t0, "lead_type": "content_mql"},
        {"kind": "assignment", "lead_id": "B-1", "occurred_at": t0, "owner": "alice"},
        {"kind": "touch", "lead_id": "B-1", "occurred_at": "yesterday", "channel": "call"},
        {"kind": "form", "event_id": "b-f1", "lead_id": "B-1", "occurred_at": t0, "lead_type": "content_mql"},
        {"kind": "form", "event_id": "b-f1", "lead_id": "B-1", "occurred_at": t0, "lead_type": "demo_request"},
        {"kind": "stage", "lead_id": "B-2", "occurred_at": t0, "stage": "sal", "history": true},
        {"kind": "carrier_pigeon", "lead_id": "B-3", "occurred_at": t0},
        {"lead_id": "B-3", "occurred_at": t0}
    ]);
    let r = c
        .post(format!("{}/v1/events/batch", s.base))
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let statuses: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    // New, new, bad time, repeat (same body), conflict (same id, other body), new (history), bad kind, no kind.
    assert_eq!(statuses, vec![202, 202, 400, 200, 409, 202, 400, 400]);
    assert_eq!(v["results"][2]["error"]["field"], "occurred_at");
    assert_eq!(v["results"][4]["error"]["code"], "event_id_conflict");
    assert_eq!(v["results"][6]["error"]["field"], "kind");
    assert_eq!(v["results"][7]["error"]["code"], "missing_field");
    assert_eq!(
        (v["accepted"].as_u64(), v["duplicates"].as_u64(), v["rejected"].as_u64()),
        (Some(3), Some(1), Some(4))
    );
    assert_eq!(v["leads"], 2, "each touched lead reconciled once");
    let (st, lead) = get_lead(&c, &s, "B-1").await;
    assert_eq!(st, 200);
    assert_eq!(
        lead["clocks"][1]["status"], "running",
        "the batch's assignment started the response clock"
    );
    // Over the item limit, and over the size limit, the whole batch is refused.
    let many: Vec<Value> = (0..501)
        .map(|i| json!({"kind": "touch", "lead_id": format!("M-{i}"), "occurred_at": t0, "channel": "call"}))
        .collect();
    let r = c
        .post(format!("{}/v1/events/batch", s.base))
        .json(&many)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["error"]["code"].as_str(), v["error"]["field"].as_str()),
        (Some("out_of_range"), Some("items"))
    );
    let big = vec![b' '; 1024 * 1024 + 10];
    let r = c
        .post(format!("{}/v1/events/batch", s.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn a_server_whose_stdout_is_closed_keeps_serving_and_delivering() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = temp_dir("closed-stdout");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--insecure-no-auth",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--policy",
        ])
        .arg(fast_policy())
        .arg("--data")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_remove("LEADCLOCK_SLACK_WEBHOOK_URL")
        .env_remove("LEADCLOCK_WEBHOOK_URL")
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away: every write to stdout now fails
    let base = format!("http://127.0.0.1:{port}");
    let c = reqwest::Client::new();
    let up = async {
        for _ in 0..200 {
            if c.get(format!("{base}/healthz")).send().await.is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(up.await, "the server died with its stdout closed");
    for (kind, body) in [
        (
            "form",
            json!({"lead_id": "L-so", "occurred_at": now_rfc3339(0), "lead_type": "demo_request"}),
        ),
        (
            "assignment",
            json!({"lead_id": "L-so", "occurred_at": now_rfc3339(0), "owner": "alice"}),
        ),
    ] {
        let r = c
            .post(format!("{base}/v1/events/{kind}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
    }
    // The owner step (2 s SLA) is printed to the closed stdout and written to escalations.jsonl.
    let jsonl = data.join("escalations.jsonl");
    let delivered = wait_for(Duration::from_secs(15), || {
        std::fs::read_to_string(&jsonl).is_ok_and(|t| t.contains("\"type\":\"leadclock.escalation\""))
    })
    .await;
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "the server exited");
    assert!(delivered, "no escalation reached escalations.jsonl");
}

#[tokio::test]
async fn a_webhook_failing_for_a_while_and_slack_saying_429_still_get_every_message() {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post as axpost;
    type Hits = Arc<Mutex<Vec<(Instant, u16)>>>;
    let (hook_hits, slack_hits): (Hits, Hits) = Default::default();
    let started = Instant::now();
    let (h, s2) = (hook_hits.clone(), slack_hits.clone());
    let app = axum::Router::new()
        .route(
            "/hook",
            axpost(move || {
                let h = h.clone();
                async move {
                    // 500 for the first 3 seconds, then 200.
                    let status = if started.elapsed() < Duration::from_secs(3) {
                        500
                    } else {
                        200
                    };
                    h.lock().unwrap().push((Instant::now(), status));
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        )
        .route(
            "/slack",
            axpost(move || {
                let s = s2.clone();
                async move {
                    let mut hits = s.lock().unwrap();
                    let first = hits.is_empty();
                    hits.push((Instant::now(), if first { 429 } else { 200 }));
                    let mut headers = HeaderMap::new();
                    if first {
                        headers.insert("retry-after", "2".parse().unwrap());
                        return (StatusCode::TOO_MANY_REQUESTS, headers, "rate_limited");
                    }
                    (StatusCode::OK, headers, "ok")
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (hook, slack) = (format!("http://{addr}/hook"), format!("http://{addr}/slack"));
    let data = temp_dir("retries");
    let s = Server::start(
        &fast_policy(),
        &data,
        &[
            ("LEADCLOCK_WEBHOOK_URL", &hook),
            ("LEADCLOCK_SLACK_WEBHOOK_URL", &slack),
        ],
    );
    let c = reqwest::Client::new();
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-r", "occurred_at": now_rfc3339(0), "lead_type": "free_trial"}),
    )
    .await;
    post(
        &c,
        &s,
        "assignment",
        json!({"lead_id": "L-r", "occurred_at": now_rfc3339(0), "owner": "alice"}),
    )
    .await;
    let ok = |hits: &Hits| hits.lock().unwrap().iter().filter(|(_, st)| *st == 200).count();
    assert!(
        wait_for(Duration::from_secs(30), || ok(&hook_hits) >= 1 && ok(&slack_hits) >= 1).await,
        "webhook {:?}, slack {:?}\n{}",
        hook_hits.lock().unwrap(),
        slack_hits.lock().unwrap(),
        s.logs()
    );
    let hook_log = hook_hits.lock().unwrap().clone();
    assert!(
        hook_log.iter().any(|(_, st)| *st == 500),
        "the webhook never failed: {hook_log:?}"
    );
    let slack_log = slack_hits.lock().unwrap().clone();
    assert_eq!(slack_log[0].1, 429);
    // Slack asked for 2 seconds: the retry waited at least that long.
    let waited = slack_log[1].0 - slack_log[0].0;
    assert!(waited >= Duration::from_millis(1900), "retried after {waited:?}");
    // One step, one message per channel once accepted: no second 200 for the owner step.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(ok(&hook_hits), 1, "{:?}", hook_hits.lock().unwrap());
    assert_eq!(ok(&slack_hits), 1, "{:?}", slack_hits.lock().unwrap());
}

#[tokio::test]
async fn a_webhook_that_refuses_for_good_is_dead_lettered_and_healthz_counts_it() {
    use axum::routing::post as axpost;
    let app = axum::Router::new().route("/gone", axpost(|| async { axum::http::StatusCode::GONE }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let gone = format!("http://{addr}/gone");
    let s = Server::start(&fast_policy(), &temp_dir("dead"), &[("LEADCLOCK_WEBHOOK_URL", &gone)]);
    let c = reqwest::Client::new();
    post(
        &c,
        &s,
        "form",
        json!({"lead_id": "L-d", "occurred_at": now_rfc3339(0), "lead_type": "free_trial"}),
    )
    .await;
    post(
        &c,
        &s,
        "assignment",
        json!({"lead_id": "L-d", "occurred_at": now_rfc3339(0), "owner": "alice"}),
    )
    .await;
    let url = format!("{}/healthz", s.base);
    let mut dead = 0;
    for _ in 0..100 {
        let h: Value = c.get(&url).send().await.unwrap().json().await.unwrap();
        dead = h["dead_letters"].as_u64().unwrap();
        if dead > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 410 is permanent: one attempt, then a dead letter; the JSON-lines sink still has the step.
    assert_eq!(dead, 1);
    assert_eq!(s.escalations().len(), 1);
    // The report says so too.
    let r: Value = c
        .get(format!("{}/v1/metrics?period=today", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["dead_letters"], 1, "{r}");
    let table = c
        .get(format!("{}/v1/metrics?period=today&format=table", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("DELIVERY   1 escalation message(s) dead-lettered"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_the_directory_does_not_know_is_clocked_and_flagged() {
    let data = temp_dir("unknown-owner");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    let form = json!({"lead_id": "L-u", "occurred_at": now_rfc3339(-60), "lead_type": "demo_request"});
    assert_eq!(post(&c, &s, "form", form).await.0, 202);
    let assign = json!({"lead_id": "L-u", "occurred_at": now_rfc3339(-30), "owner": "005000000000009AAA"});
    let (status, v) = post(&c, &s, "assignment", assign).await;
    assert_eq!(status, 202, "{v}");
    let lead = &v["lead"];
    assert_eq!(lead["owner_unknown"], true, "{lead}");
    let response = lead["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["clock"] == "response");
    // The fast policy's SLA is seconds: the clock runs (past its deadline, breached) all the same.
    let status = response.and_then(|k| k["status"].as_str());
    assert!(
        matches!(status, Some("running" | "breached")),
        "clocked all the same: {lead}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lead_at_its_event_cap_answers_422_and_still_takes_repeats_and_corrections() {
    let data = temp_dir("event-cap");
    let s = Server::start(&fast_policy(), &data, &[]);
    let c = reqwest::Client::new();
    let t0 = chrono::Utc::now() - chrono::Duration::days(2);
    let at = |i: i64| (t0 + chrono::Duration::seconds(i)).to_rfc3339();
    // 5,000 events in batches of 500: the form, then touches.
    for chunk in 0..10 {
        let items: Vec<Value> = (chunk * 500..(chunk + 1) * 500)
            .map(|i| match i {
                0 => json!({"kind": "form", "event_id": "cap-f", "lead_id": "CAP-1", "occurred_at": at(0), "lead_type": "content_mql"}),
                _ => json!({"kind": "touch", "event_id": format!("cap-t{i}"), "lead_id": "CAP-1", "occurred_at": at(i), "channel": "email", "outcome": "sent"}),
            })
            .collect();
        let r = c
            .post(format!("{}/v1/events/batch", s.base))
            .json(&items)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["accepted"], 500, "chunk {chunk}: {}", v["results"][0]);
    }
    let over = json!({"event_id": "cap-t5000", "lead_id": "CAP-1", "occurred_at": at(5000), "channel": "call"});
    let (status, body) = post(&c, &s, "touch", over).await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
        (422, Some("lead_event_limit"), Some("lead_id")),
        "{body}"
    );
    // A repeat of a stored event is still a duplicate, and a correction is still stored.
    let again =
        json!({"event_id": "cap-t1", "lead_id": "CAP-1", "occurred_at": at(1), "channel": "email", "outcome": "sent"});
    assert_eq!(post(&c, &s, "touch", again).await.0, 200);
    let void = json!({"lead_id": "CAP-1", "occurred_at": at(5001), "stage": "sal", "supersedes": "cap-t2"});
    let (status, body) = post(&c, &s, "stage", void).await;
    assert_eq!(status, 202, "a correction at the cap: {body}");
    // Another lead is not affected.
    let other = json!({"lead_id": "CAP-2", "occurred_at": at(0), "channel": "call"});
    assert_eq!(post(&c, &s, "touch", other).await.0, 202);
}
