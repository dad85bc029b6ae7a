//! `leadclock replay-hooks`, black-box: a HubSpot workflow webhook is kept as received; replayed
//! through the running server (`--url`, the admin token) with the same policy it changes
//! nothing; replayed on the stopped server's data dir with a policy whose classification was
//! fixed, the lead's form is corrected, and the restarted server shows the fixed lead type.

mod support;

use std::process::Command;
use support::{root, temp_dir, Server, BIN};

const TOKEN: &str = "read-token";
const ADMIN: &str = "admin-token";
const WORKFLOW_TOKEN: &str = "hs-workflow-token";

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("LEADCLOCK_WEBHOOK_SECRETS", "leadclock-secret"),
        ("LEADCLOCK_READ_TOKENS", TOKEN),
        ("LEADCLOCK_ADMIN_TOKENS", ADMIN),
        ("LEADCLOCK_HUBSPOT_WORKFLOW_TOKENS", WORKFLOW_TOKEN),
    ]
}

fn replay(args: &[&str]) -> (i32, String) {
    let now = chrono::Utc::now();
    let (from, to) = (
        (now - chrono::Duration::hours(1)).to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339(),
    );
    let out = Command::new(BIN)
        .args(["replay-hooks", "--from", &from, "--to", &to])
        .args(args)
        .env("LEADCLOCK_ADMIN_TOKEN", ADMIN)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_webhook_replayed_with_a_fixed_policy_corrects_its_lead() {
    let data = temp_dir("replay-hooks");
    let example = root().join("policies/example.toml");
    let s = Server::start(&example, &data, &env());
    let body = std::fs::read(root().join("crates/crm/tests/fixtures/hubspot/workflow-contact.json")).unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/hubspot/workflow?portal=62515", s.base))
        .bearer_auth(WORKFLOW_TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let before = s.lead("hubspot:62515:123", TOKEN).await;
    assert_ne!(before["lead_type"], "demo_request", "{before}");

    // On the running server, with the same policy: nothing changes.
    let (code, out) = replay(&["--url", &s.base]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 webhook(s) replayed: 1 event(s) unchanged, 0 added, 0 corrected"),
        "{out}"
    );
    // The data dir is the server's while it runs.
    let (code, out) = replay(&["--data", data.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    drop(s);

    let fixed = data.join("fixed.toml");
    let rule = "[[classify]]\nname = \"demo form (HubSpot)\"\nwhen = [{ field = \"properties.recent_conversion_event_name\", matches = \"*demo*\" }]\nlead_type = \"demo_request\"\n\n";
    let text = std::fs::read_to_string(&example).unwrap();
    std::fs::write(&fixed, text.replacen("[[classify]]", &format!("{rule}[[classify]]"), 1)).unwrap();
    let (code, out) = replay(&["--data", data.to_str().unwrap(), "--policy", fixed.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 webhook(s) replayed: 0 event(s) unchanged, 0 added, 1 corrected"),
        "{out}"
    );

    let s = Server::start(&fixed, &data, &env());
    let after = s.lead("hubspot:62515:123", TOKEN).await;
    assert_eq!(after["lead_type"], "demo_request", "{after}");
    assert_eq!(after["cycles"].as_array().unwrap().len(), 1, "{after}");
    let (code, out) = replay(&["--url", &s.base]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 event(s) unchanged, 0 added, 0 corrected"), "{out}");
}
