//! `leadclock import`, black-box: a generated 90-day HubSpot contacts export (the vendor's
//! column labels, 3,000 contacts, some bad rows) and a Salesforce Lead + LeadHistory + Task set
//! import as history (nothing delivered), report every bad row by line and column, and change
//! nothing on a second import; JSON lines give the same leads and metrics as posting the events
//! one by one to the server.

mod support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::{post, root, step_outcomes, temp_dir, Lcg, Server, BIN};

/// The example policy, with rules that type HubSpot contacts by their first conversion.
fn policy(dir: &Path) -> std::path::PathBuf {
    let example = std::fs::read_to_string(root().join("policies/example.toml")).unwrap();
    let hubspot_rules = r#"
[[classify]]
name = "hubspot demo form"
when = [{ field = "properties.first_conversion_event_name", matches = ["*demo*", "*pricing*"] }]
lead_type = "demo_request"

[[classify]]
name = "hubspot other conversion"
when = [{ field = "properties.first_conversion_event_name", present = true }]
lead_type = "content_mql"

[[classify]]
name = "salesforce web lead"
when = [{ field = "source", equals = "Web" }]
lead_type = "contact_form"
"#;
    // Rules are tried in order: these go first. Alice's Salesforce user id is in the directory.
    let example = example.replacen(
        "[directory.people.alice]\n",
        "[directory.people.alice]\ncrm_ids = [\"salesforce:005000000000000000\"]\n",
        1,
    );
    assert!(
        example.contains("crm_ids"),
        "the example policy has [directory.people.alice]"
    );
    let (head, tail) = example.split_once("[[classify]]").unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(&path, format!("{head}{}\n[[classify]]{tail}", hubspot_rules.trim())).unwrap();
    path
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&New_York).format("%Y-%m-%d %H:%M").to_string()
}

struct Export {
    csv: String,
    /// (line, column) of every bad row.
    bad: Vec<(u64, &'static str)>,
    mqls: u64,
}

/// 90 days of HubSpot contacts from 2026-08-03, each an MQL in business hours; most assigned
/// minutes later and engaged within hours; every 97th row broken one way or another.
fn hubspot_export(contacts: usize) -> Export {
    let mut rng = Lcg(90);
    let mut csv = String::from("\u{feff}\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Create Date\",\"Contact owner\",\"Owner Assigned Date\",\"Lifecycle Stage\",\"Lead Status\",\"Became a Marketing Qualified Lead Date\",\"Became a Sales Qualified Lead Date\",\"Date of first engagement\",\"Original Source\",\"First Conversion\"\n");
    let (mut bad, mut mqls) = (Vec::new(), 0);
    let start = NaiveDate::from_ymd_opt(2026, 8, 3).unwrap();
    for i in 0..contacts {
        let day = start + Duration::days((i * 90 / contacts) as i64);
        let at = New_York
            .from_local_datetime(
                &day.and_hms_opt(9 + rng.below(7) as u32, rng.below(60) as u32, 0)
                    .unwrap(),
            )
            .unwrap()
            .with_timezone(&Utc);
        let owner = ["Alice (SDR, East)", "Bob (SDR, East)", "Amelie (SDR, EMEA)"][i % 3];
        let assigned = at + Duration::minutes(rng.below(20) as i64);
        let engaged = assigned + Duration::minutes(1 + rng.below(300) as i64);
        let sql = (i % 5 == 0).then(|| local(engaged + Duration::days(1)));
        let conversion = ["Demo request", "Ebook download", "Pricing page form", "Webinar signup"][i % 4];
        let line = i as u64 + 2;
        let (mut id, mut mql) = ((1000 + i).to_string(), local(at));
        match i % 97 {
            13 => {
                mql = "13/08/2026 10:00".into();
                bad.push((line, "Became a Marketing Qualified Lead Date"));
            }
            41 => {
                id = String::new();
                bad.push((line, "Record ID"));
            }
            _ => mqls += 1,
        }
        csv.push_str(&format!(
            "\"{id}\",\"First{i}\",\"Last{i}\",\"lead{i}@example.com\",\"{}\",\"{owner}\",\"{}\",\"{}\",\"Connected\",\"{mql}\",\"{}\",\"{}\",\"Organic Search\",\"{conversion}\"\n",
            local(at),
            local(assigned),
            if sql.is_some() { "Sales Qualified Lead" } else { "Marketing Qualified Lead" },
            sql.unwrap_or_default(),
            local(engaged),
        ));
    }
    Export { csv, bad, mqls }
}

fn import(data: &Path, policy: &Path, extra: &[&str], files: &[&Path]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("import")
        .arg("--data")
        .arg(data)
        .arg("--policy")
        .arg(policy)
        .args(extra)
        .args(files)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn report(data: &Path, policy: &Path, from: &str, to: &str) -> Value {
    let out = Command::new(BIN)
        .args([
            "report", "--format", "json", "--by", "owner", "--from", from, "--to", to, "--data",
        ])
        .arg(data)
        .arg("--policy")
        .arg(policy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // What depends on when the report runs, not on the events.
    v.as_object_mut().unwrap().remove("generated_at");
    for open in v["open_slas"].as_array_mut().unwrap() {
        open.as_object_mut().unwrap().remove("seconds_left");
    }
    v
}

fn stored_new(text: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.contains(" imported, "))
        .unwrap_or_else(|| panic!("{text}"));
    line.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_90_day_hubspot_export_imports_as_history_and_again_changes_nothing() {
    let dir = temp_dir("import-hubspot");
    let policy = policy(&dir);
    let export = hubspot_export(3000);
    let file = dir.join("hubspot-contacts-export.csv");
    std::fs::write(&file, &export.csv).unwrap();
    let data = dir.join("data");
    let args = ["--account", "62515", "--tz", "America/New_York"];

    let (code, text) = import(&data, &policy, &args, &[&file]);
    assert_eq!(code, 2, "bad rows make the exit status 2:\n{text}");
    for (line, column) in &export.bad {
        let needle = format!("{}:{line} column \"{column}\"", file.display());
        assert!(text.contains(&needle), "{needle} not reported:\n{text}");
    }
    assert!(stored_new(&text) > 3 * export.mqls, "{text}");
    let seen = step_outcomes(&data);
    assert!(seen.keys().all(|k| k == "history"), "{seen:?}");
    assert!(seen.get("history").copied().unwrap_or(0) > 100, "{seen:?}");

    let r = report(&data, &policy, "2026-08-01", "2026-11-30");
    assert_eq!(
        r["overall"]["volume"]["mqls"], export.mqls,
        "{}",
        r["overall"]["volume"]
    );
    assert_eq!(r["unclassified"], 0);
    let demo = &r["overall"]["sla"]["by_lead_type"]["demo_request"];
    assert!(demo["assigned"].as_u64().unwrap() > 1000, "{demo}");
    // HubSpot's first engagement date is the first touch: every good row has one.
    assert_eq!(
        r["overall"]["response_rate"]["numerator"], export.mqls,
        "{}",
        r["overall"]["response_rate"]
    );
    assert!(r["overall"]["funnel"]["mql_to_sql"]["numerator"].as_u64().unwrap() > 500);
    assert!(
        r["groups"]["alice"]["volume"]["mqls"].as_u64().unwrap() > 900,
        "owners map to the directory: {}",
        r["groups"]
    );

    let (code, again) = import(&data, &policy, &args, &[&file]);
    assert_eq!(code, 2);
    assert_eq!(stored_new(&again), 0, "{again}");
    assert_eq!(report(&data, &policy, "2026-08-01", "2026-11-30"), r);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Salesforce Lead, LeadHistory and Task export of `leads` web leads, as Data Loader writes
/// them (upper-case API names, UTC instants); one Task row in 50 has a broken date.
fn salesforce_set(dir: &Path, leads: usize) -> (Vec<std::path::PathBuf>, u64, Vec<(u64, &'static str)>) {
    let mut rng = Lcg(7);
    let mut lead = String::from("\"ID\",\"EMAIL\",\"CREATEDDATE\",\"OWNERID\",\"STATUS\",\"LEADSOURCE\"\n");
    let mut history =
        String::from("\"ID\",\"LEADID\",\"CREATEDBYID\",\"CREATEDDATE\",\"FIELD\",\"OLDVALUE\",\"NEWVALUE\"\n");
    let mut task = String::from("\"ID\",\"WHOID\",\"OWNERID\",\"TASKSUBTYPE\",\"TYPE\",\"STATUS\",\"ISCLOSED\",\"CALLDISPOSITION\",\"COMPLETEDDATETIME\",\"CREATEDDATE\",\"ACTIVITYDATE\"\n");
    let (mut touched, mut bad) = (0, Vec::new());
    let iso = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
    for i in 0..leads {
        let id = format!("00Q{i:015}");
        let at = Utc.with_ymd_and_hms(2026, 9, 1, 14, 0, 0).unwrap() + Duration::hours((i * 24 * 60 / leads) as i64);
        let rep = format!("005{:015}", i % 4);
        lead.push_str(&format!(
            "\"{id}\",\"sf{i}@example.com\",\"{}\",\"{rep}\",\"Working - Contacted\",\"Web\"\n",
            iso(at)
        ));
        history.push_str(&format!(
            "\"017{i:015}\",\"{id}\",\"005000000000000009\",\"{}\",\"Owner\",\"00G000000000000001\",\"{rep}\"\n",
            iso(at + Duration::minutes(3))
        ));
        if i % 3 != 0 {
            let done = at + Duration::minutes(5 + rng.below(240) as i64);
            let broken = i % 50 == 1;
            let line = task.lines().count() as u64 + 1;
            if broken {
                bad.push((line, "CompletedDateTime"));
            } else {
                touched += 1;
            }
            let completed = if broken { "soon".to_owned() } else { iso(done) };
            history.push_str(&format!(
                "\"018{i:015}\",\"{id}\",\"{rep}\",\"{}\",\"Status\",\"Open - Not Contacted\",\"Working - Contacted\"\n",
                iso(done + Duration::minutes(1))
            ));
            task.push_str(&format!(
                "\"00T{i:015}\",\"{id}\",\"{rep}\",\"Call\",\"Call\",\"Completed\",\"true\",\"Connected\",\"{completed}\",\"{}\",\"2026-09-01\"\n",
                iso(done)
            ));
        }
    }
    let files: Vec<_> = [("Lead.csv", lead), ("LeadHistory.csv", history), ("Task.csv", task)]
        .into_iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    (files, touched, bad)
}

#[test]
fn a_salesforce_lead_history_and_task_set_imports_together() {
    let dir = temp_dir("import-salesforce");
    let policy = policy(&dir);
    let (files, touched, bad) = salesforce_set(&dir, 600);
    let paths: Vec<&Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    let data = dir.join("data");
    let args = ["--account", "00D000000000001AAA"];
    let (code, text) = import(&data, &policy, &args, &paths);
    assert_eq!(code, 2, "{text}");
    // Alice's Salesforce id is in her `crm_ids`; the other reps' are not: said, per owner.
    assert!(
        text.contains("owner \"005000000000000001\" is not in [directory.people]"),
        "{text}"
    );
    assert!(!text.contains("owner \"005000000000000000\""), "{text}");
    for (line, column) in &bad {
        let needle = format!("Task.csv:{line} column \"{column}\"");
        assert!(text.contains(&needle), "{needle} not reported:\n{text}");
    }
    let seen = step_outcomes(&data);
    assert!(seen.keys().all(|k| k == "history"), "{seen:?}");
    assert!(seen.get("history").copied().unwrap_or(0) > 100, "{seen:?}");

    let r = report(&data, &policy, "2026-09-01", "2026-11-15");
    let o = &r["overall"];
    assert_eq!(o["volume"]["mqls"], 600, "{}", o["volume"]);
    assert_eq!(o["response_rate"]["numerator"], touched, "{}", o["response_rate"]);
    // Status went to Working - Contacted (LeadHistory) for the 400 worked leads: accepted.
    assert_eq!(o["funnel"]["sal_acceptance"]["numerator"], 400, "{}", o["funnel"]);
    assert_eq!(r["overall"]["sla"]["by_lead_type"]["contact_form"]["assigned"], 600);
    // Every fourth lead is Alice's, matched by her CRM id.
    assert_eq!(r["groups"]["alice"]["volume"]["mqls"], 150, "{}", r["groups"]);
    // Each lead sat in a queue for 3 minutes: the Lead row's current owner is not its first.
    assert_eq!(
        o["systems_delay"]["timing"]["calendar"]["median"], 180.0,
        "{}",
        o["systems_delay"]
    );

    let (_, again) = import(&data, &policy, &args, &paths);
    assert_eq!(stored_new(&again), 0, "{again}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_import_to_a_running_stack_gives_the_same_metrics_as_a_local_one() {
    let dir = temp_dir("import-url");
    let policy = policy(&dir);
    let (files, _, bad) = salesforce_set(&dir, 300);
    let paths: Vec<&Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    let args = ["--account", "00D000000000001AAA"];
    let local = dir.join("local");
    let (code, _) = import(&local, &policy, &args, &paths);
    assert_eq!(code, 2);

    let remote = dir.join("remote");
    let secret = "import-url-secret";
    let mut server = Server::start(&policy, &remote, &[("LEADCLOCK_WEBHOOK_SECRETS", secret)]);
    let upload = |secret: &str| {
        let out = Command::new(BIN)
            .args(["import", "--policy"])
            .arg(&policy)
            .args(["--url", &server.base])
            .args(args)
            .args(&paths)
            .env("LEADCLOCK_WEBHOOK_SECRETS", secret)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, text) = upload(secret);
    // The bad Task rows are refused before anything is sent; the stack refuses nothing.
    assert_eq!(code, 2, "{text}");
    assert!(!bad.is_empty() && text.contains(", 0 refused by the stack"), "{text}");
    assert!(stored_new(&text) > 600, "{text}");
    let (_, again) = upload(secret);
    assert_eq!(stored_new(&again), 0, "{again}");
    let (code, wrong) = upload("not-the-secret");
    assert_eq!(code, 1, "{wrong}");
    assert!(wrong.contains("401"), "{wrong}");
    // Nothing was delivered, and the stack's metrics are the local import's.
    assert!(step_outcomes(&remote).keys().all(|k| k == "history"));
    server.kill9();
    assert_eq!(
        report(&remote, &policy, "2026-09-01", "2026-11-15"),
        report(&local, &policy, "2026-09-01", "2026-11-15")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// 80 leads of history as batch items.
fn items() -> Vec<Value> {
    let mut rng = Lcg(3);
    let mut out = Vec::new();
    let base = Utc.with_ymd_and_hms(2026, 11, 2, 14, 30, 0).unwrap();
    for i in 0..80 {
        let lead = format!("J-{i}");
        let at = base + Duration::hours((i / 8) as i64 * 24) + Duration::minutes(rng.below(180) as i64);
        let types = ["demo_request", "free_trial", "contact_form", "content_mql"];
        let owners = ["alice", "bob"];
        out.push(json!({"kind": "form", "lead_id": lead, "occurred_at": at.to_rfc3339(), "lead_type": types[i % 4], "region": "na"}));
        out.push(json!({"kind": "assignment", "lead_id": lead, "occurred_at": (at + Duration::minutes(rng.below(9) as i64)).to_rfc3339(), "owner": owners[i % 2]}));
        if i % 5 != 0 {
            out.push(json!({"kind": "touch", "lead_id": lead, "occurred_at": (at + Duration::minutes(10 + rng.below(200) as i64)).to_rfc3339(), "channel": "call"}));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn json_lines_give_the_same_leads_and_metrics_as_posting_one_by_one() {
    let dir = temp_dir("import-jsonl");
    let policy = root().join("policies/example.toml");
    let items = items();

    let posted = dir.join("posted");
    {
        let server = Server::start(&policy, &posted, &[]);
        let client = reqwest::Client::new();
        for item in &items {
            let mut body = item.clone();
            let kind = body.as_object_mut().unwrap().remove("kind").unwrap();
            let (status, reply) = post(&client, &server, kind.as_str().unwrap(), body).await;
            assert_eq!(status, 202, "{reply}");
        }
    }
    let file = dir.join("history.jsonl");
    let lines: Vec<String> = items.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let imported = dir.join("imported");
    let (code, text) = import(&imported, &policy, &[], &[&file]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(stored_new(&text), items.len() as u64, "{text}");

    let a = report(&posted, &policy, "2026-11-01", "2026-11-30");
    let b = report(&imported, &policy, "2026-11-01", "2026-11-30");
    assert_eq!(a["overall"]["volume"]["mqls"], 80);
    assert_eq!(a, b, "metrics differ between posting and importing");
    let _ = std::fs::remove_dir_all(&dir);
}
