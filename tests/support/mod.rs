//! What the black-box tests share: the real `leadclock serve` binary on a random port, its
//! data dir and output, and small HTTP helpers.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_leadclock");

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fast_policy() -> PathBuf {
    root().join("tests/fixtures/fast.toml")
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("leadclock-e2e-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub data: PathBuf,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(policy: &Path, data: &Path, env: &[(&str, &str)]) -> Server {
        Self::spawn(Command::new(BIN), policy, data, env)
    }

    /// As [`Server::start`], with every file the server writes capped at `kib` KiB (RLIMIT_FSIZE,
    /// SIGXFSZ ignored): writes past it fail as on a full disk.
    pub fn start_on_full_disk(policy: &Path, data: &Path, env: &[(&str, &str)], kib: u64) -> Server {
        let mut cmd = Command::new("bash");
        cmd.args(["-c", &format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""), BIN]);
        Self::spawn(cmd, policy, data, env)
    }

    fn spawn(mut cmd: Command, policy: &Path, data: &Path, env: &[(&str, &str)]) -> Server {
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--policy"])
            .arg(policy)
            .arg("--data")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("LEADCLOCK_SLACK_WEBHOOK_URL")
            .env_remove("LEADCLOCK_WEBHOOK_URL");
        if !env.iter().any(|(k, _)| *k == "LEADCLOCK_WEBHOOK_SECRETS") {
            cmd.arg("--insecure-no-auth");
        }
        cmd.env_remove("LEADCLOCK_WEBHOOK_SECRETS")
            .env_remove("LEADCLOCK_READ_TOKENS")
            .env_remove("LEADCLOCK_HUBSPOT_CLIENT_SECRETS")
            .env_remove("LEADCLOCK_ADMIN_TOKENS")
            .env_remove("LEADCLOCK_HUBSPOT_WORKFLOW_TOKENS")
            .env_remove("LEADCLOCK_SALESFORCE_PATH_SECRETS")
            .env_remove("LEADCLOCK_SALESFORCE_ORG_IDS")
            .env_remove("LEADCLOCK_HUBSPOT_WRITEBACK_TOKEN")
            .env_remove("LEADCLOCK_SALESFORCE_CLIENT_ID");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start leadclock");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        let sink = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("leadclock listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let err = child.stderr.take().unwrap();
        let esink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                esink.lock().unwrap().push(line);
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("server did not start: {:?}", stderr.lock().unwrap());
        });
        Server {
            child,
            base,
            data: data.to_owned(),
            stdout,
            stderr,
        }
    }

    pub fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    /// Every line of `escalations.jsonl`: one per step outcome.
    pub fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.data.join("escalations.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The delivered escalations among them.
    pub fn escalations(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == "leadclock.escalation")
            .collect()
    }

    /// `GET /v1/leads/{id}` with a read token: the lead, which must exist.
    pub async fn lead(&self, id: &str, token: &str) -> Value {
        let r = reqwest::Client::new()
            .get(format!("{}/v1/leads/{id}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{id}");
        r.json().await.unwrap()
    }

    pub fn logs(&self) -> String {
        let mut all = self.stdout.lock().unwrap().join("\n");
        all.push('\n');
        all.push_str(&self.stderr.lock().unwrap().join("\n"));
        all
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn now_rfc3339(offset_secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_secs)).to_rfc3339()
}

pub async fn post(client: &reqwest::Client, s: &Server, kind: &str, body: Value) -> (u16, Value) {
    let r = client
        .post(format!("{}/v1/events/{kind}", s.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// POSTs `body` as it is, labelled JSON (whatever it holds).
pub async fn post_raw(client: &reqwest::Client, s: &Server, kind: &str, body: Vec<u8>) -> (u16, Value) {
    let r = client
        .post(format!("{}/v1/events/{kind}", s.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn get_lead(client: &reqwest::Client, s: &Server, id: &str) -> (u16, Value) {
    let r = client.get(format!("{}/v1/leads/{id}", s.base)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

pub async fn wait_for<F: Fn() -> bool>(limit: Duration, f: F) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// How many step records of each status the store in `data` holds (read with SQLite itself).
pub fn step_outcomes(data: &Path) -> std::collections::BTreeMap<String, usize> {
    let conn = rusqlite::Connection::open(data.join("leadclock.db")).unwrap();
    let mut st = conn
        .prepare("SELECT status, COUNT(*) FROM steps GROUP BY status")
        .unwrap();
    st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, usize>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[path = "lcg.rs"]
mod lcg;
#[allow(unused_imports)] // not every test binary that includes the support module draws numbers
pub use lcg::Lcg;
