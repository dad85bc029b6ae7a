//! Delivery under crashes: the real server is killed with SIGKILL at random moments while
//! escalation steps fall due, and restarted on the same data dir, round after round. In the
//! end every step is in `escalations.jsonl` exactly once and reached a webhook receiver at
//! least once. `LEADCLOCK_KILL_LEADS` sets the size (three steps per lead; `make soak` runs a
//! long one).

mod support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

/// tests/fixtures/fast.toml (2 s SLA, steps 2 s apart) with a 1 s settle window, so a step a
/// crash left unwatched is decided within seconds.
fn crash_policy(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fast_policy()).unwrap() + "\n[delivery]\nsettle = \"1s\"\n";
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A webhook receiver: every idempotency key it was posted, with how many times.
async fn receiver() -> (String, Arc<Mutex<BTreeMap<String, u32>>>) {
    use axum::routing::post as axpost;
    let got: Arc<Mutex<BTreeMap<String, u32>>> = Default::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axpost(move |axum::Json(v): axum::Json<Value>| {
            let g = g.clone();
            async move {
                if let Some(k) = v["idempotency_key"].as_str() {
                    *g.lock().unwrap().entry(k.to_owned()).or_default() += 1;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

fn escalation_keys(s: &Server) -> Vec<String> {
    s.escalations()
        .iter()
        .filter_map(|e| e["idempotency_key"].as_str().map(str::to_owned))
        .collect()
}

/// Waits until every expected step is in `escalations.jsonl` and at the webhook; then checks
/// none is in the file twice. The message says how far it got.
async fn all_delivered_once(
    s: &Server,
    received: &Arc<Mutex<BTreeMap<String, u32>>>,
    expected: &BTreeSet<String>,
    limit: Duration,
) -> Result<(), String> {
    let all_in = wait_for(limit, || {
        let got: BTreeSet<String> = escalation_keys(s).into_iter().collect();
        let hooked: BTreeSet<String> = received.lock().unwrap().keys().cloned().collect();
        got.is_superset(expected) && hooked.is_superset(expected)
    })
    .await;
    let keys = escalation_keys(s);
    let unique: BTreeSet<&String> = keys.iter().collect();
    if !all_in {
        let missing: Vec<&String> = expected.iter().filter(|k| !unique.contains(k)).take(5).collect();
        return Err(format!(
            "{} of {} steps in escalations.jsonl (or not all at the webhook), first missing {missing:?}",
            unique.len(),
            expected.len()
        ));
    }
    if keys.len() != unique.len() {
        return Err("a step was written twice to escalations.jsonl".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_escalation_bursts_loses_and_repeats_nothing() {
    let leads: usize = std::env::var("LEADCLOCK_KILL_LEADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(340);
    let per_round = 40;
    let data = temp_dir("kill9");
    let policy = crash_policy(&data);
    let (hook, received) = receiver().await;
    let env = [("LEADCLOCK_WEBHOOK_URL", hook.as_str())];
    let c = reqwest::Client::new();
    let mut rng = Lcg(42);
    let mut kills = 0;
    let mut sent = 0;
    while sent < leads {
        let mut s = Server::start(&policy, &data, &env);
        let round = sent..(sent + per_round).min(leads);
        for i in round.clone() {
            let lead = format!("K-{i}");
            let t = now_rfc3339(0);
            let form = json!({"lead_id": lead, "occurred_at": t, "lead_type": "demo_request"});
            assert_eq!(post(&c, &s, "form", form).await.0, 202);
            let assign = json!({"lead_id": lead, "occurred_at": t, "owner": "alice"});
            assert_eq!(post(&c, &s, "assignment", assign).await.0, 202);
        }
        sent = round.end;
        // Somewhere in the burst: steps fall due 2, 4 and 6 s after each assignment.
        tokio::time::sleep(Duration::from_millis(rng.below(7000))).await;
        s.kill9();
        kills += 1;
    }
    // The last start delivers whatever the crashes left in the outbox or unarmed.
    let s = Server::start(&policy, &data, &env);
    let expected: BTreeSet<String> = (0..leads)
        .flat_map(|i| (1..=3).map(move |step| format!("K-{i}:1:response:{step}")))
        .collect();
    if let Err(why) = all_delivered_once(&s, &received, &expected, Duration::from_secs(90)).await {
        panic!("after {kills} kills: {why}");
    }
    let hooked = received.lock().unwrap().clone();
    let repeats = hooked.values().filter(|n| **n > 1).count();
    println!(
        "{kills} kills, {} steps: each once in escalations.jsonl, each posted to the webhook ({repeats} posted more than once, same key)",
        expected.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_events_and_every_claimed_step_is_delivered_once_space_returns() {
    let data = temp_dir("fulldisk");
    let policy = crash_policy(&data);
    let (hook, received) = receiver().await;
    let env = [("LEADCLOCK_WEBHOOK_URL", hook.as_str())];
    let c = reqwest::Client::new();
    // 1 MiB per file: the SQLite WAL (256 pages) fills mid-burst, then the step claims fail
    // too. It must stay under SQLite's autocheckpoint (1,000 pages, about 3.9 MiB): a WAL
    // that a checkpoint resets before it reaches the limit never fills (CI saw 4 MiB do so).
    let s = Server::start_on_full_disk(&policy, &data, &env, 1024);
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..400 {
        let lead = format!("D-{i}");
        let t = now_rfc3339(0);
        let (f, body) = post(
            &c,
            &s,
            "form",
            json!({"lead_id": lead, "occurred_at": t, "lead_type": "demo_request"}),
        )
        .await;
        let (a, _) = post(
            &c,
            &s,
            "assignment",
            json!({"lead_id": lead, "occurred_at": t, "owner": "alice"}),
        )
        .await;
        match (f, a) {
            (202, 202) => accepted.push(lead),
            (503 | 202, 503) => {
                refused += 1;
                if f == 503 {
                    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
                }
            }
            other => panic!("{lead}: {other:?}"),
        }
    }
    assert!(refused > 0, "the disk never filled: {} accepted", accepted.len());
    assert!(!accepted.is_empty(), "nothing was accepted before the disk filled");
    // Steps fall due while the disk is full; the server keeps running.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut s = s;
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "the server died on a full disk:\n{}",
        s.logs()
    );
    s.kill9();
    // Space returns: the same data dir, no limit.
    let s = Server::start(&policy, &data, &env);
    let expected: BTreeSet<String> = accepted
        .iter()
        .flat_map(|l| (1..=3).map(move |step| format!("{l}:1:response:{step}")))
        .collect();
    if let Err(why) = all_delivered_once(&s, &received, &expected, Duration::from_secs(60)).await {
        panic!("after space returned: {why}");
    }
    println!(
        "full disk: {} leads accepted, {refused} refused with 503; after space returned {} steps each once",
        accepted.len(),
        expected.len()
    );
}
