//! Black-box tests of the local server under hostile traffic and faults: slow and incomplete
//! requests, idle connections past the file-descriptor limit, SIGTERM with requests in flight,
//! two servers on one data dir, signatures replayed across routes. Each starts the real
//! `leadclock serve` binary and talks to it over raw TCP where the bytes matter.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_leadclock");

fn fast_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fast.toml")
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("leadclock-hostile-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running `leadclock serve`, killed when dropped.
struct Server {
    child: Child,
    /// `127.0.0.1:port`
    addr: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// `leadclock serve` on a random port; `--insecure-no-auth` unless a webhook secret is given.
fn serve_command(data: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    serve_args(&mut cmd, data, env);
    cmd
}

fn serve_args(cmd: &mut Command, data: &Path, env: &[(&str, &str)]) {
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(fast_policy())
        .arg("--data")
        .arg(data)
        .env_remove("LEADCLOCK_SLACK_WEBHOOK_URL")
        .env_remove("LEADCLOCK_WEBHOOK_URL")
        .env_remove("LEADCLOCK_WEBHOOK_SECRETS")
        .env_remove("LEADCLOCK_READ_TOKENS")
        .env_remove("LEADCLOCK_HUBSPOT_CLIENT_SECRETS")
        .env_remove("LEADCLOCK_ACCEPT_SIGNATURE_V1");
    if !env.iter().any(|(k, _)| *k == "LEADCLOCK_WEBHOOK_SECRETS") {
        cmd.arg("--insecure-no-auth");
    }
    cmd.envs(env.iter().copied());
}

impl Server {
    fn start(data: &Path, env: &[(&str, &str)]) -> Server {
        Server::spawn(serve_command(data, env))
    }

    fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start leadclock");
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("leadclock listening on http://") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("server did not start: {:?}", stderr.lock().unwrap());
        });
        Server { child, addr, stderr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn logs(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s
    }

    fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits up to `limit` for the process to exit.
    fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What came back on a raw connection: an HTTP answer, or the connection closed without one.
#[derive(Debug, PartialEq)]
enum Reply {
    Answer { status: u16, head: String, body: Value },
    Closed,
}

/// Reads one HTTP/1.1 answer (Content-Length framed), or notes the close.
fn read_reply(s: &mut TcpStream) -> Reply {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
                let body = serde_json::from_slice(&buf[end + 4..end + 4 + len]).unwrap_or(Value::Null);
                return Reply::Answer { status, head, body };
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return Reply::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn error_code(r: &Reply) -> (u16, Option<&str>) {
    match r {
        Reply::Answer { status, body, .. } => (*status, body["error"]["code"].as_str()),
        Reply::Closed => (0, None),
    }
}

fn form_body(lead: &str) -> String {
    json!({"lead_id": lead, "occurred_at": chrono::Utc::now().to_rfc3339(), "lead_type": "demo_request"}).to_string()
}

fn post_head(path: &str, len: usize) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n")
}

const QUICK: [(&str, &str); 4] = [
    ("LEADCLOCK_HEADER_TIMEOUT", "1s"),
    ("LEADCLOCK_BODY_TIMEOUT", "1s"),
    ("LEADCLOCK_IDLE_TIMEOUT", "1s"),
    ("LEADCLOCK_REQUEST_TIMEOUT", "3s"),
];

#[test]
fn a_body_shorter_than_its_content_length_answers_408_json_within_the_body_timeout() {
    let s = Server::start(&temp_dir("short-body"), &QUICK);
    let mut c = s.connect();
    let start = Instant::now();
    c.write_all(post_head("/v1/events/form", 100).as_bytes()).unwrap();
    c.write_all(br#"{"lead_id":"#).unwrap();
    let reply = read_reply(&mut c);
    let took = start.elapsed();
    assert_eq!(error_code(&reply), (408, Some("request_timeout")), "{reply:?}");
    let Reply::Answer { head, body, .. } = &reply else {
        unreachable!()
    };
    assert!(
        head.to_ascii_lowercase().contains("content-type: application/json"),
        "{head}"
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("1s"), "{body}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // The half-read connection is not reused.
    assert_eq!(read_reply(&mut c), Reply::Closed);
}

#[test]
fn a_body_sent_a_byte_at_a_time_is_cut_off_by_the_request_timeout() {
    let s = Server::start(&temp_dir("trickle"), &QUICK);
    let body = form_body("TRICKLE-1");
    let mut c = s.connect();
    let start = Instant::now();
    c.write_all(post_head("/v1/events/form", body.len()).as_bytes())
        .unwrap();
    // Each byte comes within the 1 s body timeout; the whole takes longer than the 3 s request one.
    for b in body.bytes().take(12) {
        if c.write_all(&[b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(400));
    }
    let reply = read_reply(&mut c);
    assert_eq!(error_code(&reply), (408, Some("request_timeout")), "{reply:?}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(8),
        "{took:?}"
    );
}

#[test]
fn headers_sent_slowly_and_idle_connections_are_closed() {
    let s = Server::start(&temp_dir("slow-head"), &QUICK);
    // A head sent a line every 300 ms: closed by the 1 s header timeout, with no answer.
    let mut slow = s.connect();
    let start = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(300));
        if slow.write_all(b"X-Pad: a\r\n").is_err() {
            break;
        }
    }
    assert_eq!(read_reply(&mut slow), Reply::Closed);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    // A connection that sends nothing, and a kept-alive one after its answer, close when idle.
    let mut idle = s.connect();
    let start = Instant::now();
    assert_eq!(read_reply(&mut idle), Reply::Closed);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    let mut kept = s.connect();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    assert!(matches!(read_reply(&mut kept), Reply::Answer { status: 200, .. }));
    let start = Instant::now();
    assert_eq!(read_reply(&mut kept), Reply::Closed);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
}

#[test]
fn a_fresh_healthz_is_answered_while_1100_idle_connections_exceed_the_fd_limit() {
    // This test holds 1,100 sockets itself.
    assert!(
        leadclock_local::serve::raise_fd_limit() > 1200,
        "the test needs 1,200 descriptors"
    );
    let data = temp_dir("fd-cap");
    let mut cmd = Command::new("sh");
    // `ulimit -n` lowers both limits in the child only; exec keeps the PID.
    cmd.args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\"", BIN]);
    serve_args(&mut cmd, &data, &[("LEADCLOCK_IDLE_TIMEOUT", "1s")]);
    let s = Server::spawn(cmd);
    // 1,100 clients connect and send nothing; those past the cap and the backlog wait in SYN
    // retries, so they connect from threads.
    let idle = Arc::new(Mutex::new(Vec::new()));
    let flood: Vec<_> = (0..10)
        .map(|_| {
            let (addr, idle) = (s.addr.clone(), idle.clone());
            std::thread::spawn(move || {
                for _ in 0..110 {
                    if let Ok(c) = TcpStream::connect(&addr) {
                        idle.lock().unwrap().push(c);
                    }
                }
            })
        })
        .collect();
    let flooding = Instant::now();
    while idle.lock().unwrap().len() < 800 && flooding.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(idle.lock().unwrap().len() >= 800, "the cap plus the backlog hold 800");
    let start = Instant::now();
    let mut c = s.connect();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let reply = read_reply(&mut c);
    assert!(matches!(reply, Reply::Answer { status: 200, .. }), "{reply:?}");
    assert!(start.elapsed() < Duration::from_secs(8), "{:?}", start.elapsed());
    for t in flood {
        t.join().unwrap();
    }
    assert_eq!(idle.lock().unwrap().len(), 1100, "every idle client got in, in turn");
    let logs = s.logs();
    assert!(
        logs.contains("max_connections=768") && logs.contains("fd_limit=1024"),
        "{logs}"
    );
    assert!(!logs.contains("Too many open files"), "{logs}");
}

#[test]
fn sigterm_lets_20_requests_in_flight_finish_then_exits_0() {
    let data = temp_dir("sigterm");
    let mut s = Server::start(&data, &[]);
    let bodies: Vec<String> = (0..20).map(|i| form_body(&format!("TERM-{i}"))).collect();
    // Each request is in flight: its head and half its body are sent when the signal comes.
    let mut conns: Vec<TcpStream> = bodies
        .iter()
        .map(|b| {
            let mut c = s.connect();
            c.write_all(post_head("/v1/events/form", b.len()).as_bytes()).unwrap();
            c.write_all(&b.as_bytes()[..b.len() / 2]).unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    s.sigterm();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        TcpStream::connect(&s.addr).is_err(),
        "a stopping server accepts no new connection"
    );
    for (c, b) in conns.iter_mut().zip(&bodies) {
        c.write_all(&b.as_bytes()[b.len() / 2..]).unwrap();
    }
    for c in &mut conns {
        let reply = read_reply(c);
        assert!(matches!(reply, Reply::Answer { status: 202, .. }), "{reply:?}");
    }
    let status = s.exit_within(Duration::from_secs(10)).expect("exited within 10 s");
    assert!(status.success(), "{status:?}: {}", s.logs());
    assert!(signalled.elapsed() < Duration::from_secs(10));
    // Every answered event is in the store.
    drop(s);
    let s = Server::start(&data, &[]);
    let stats = get_json(&s.url("/v1/stats"));
    assert_eq!(stats["events"], 20);
}

#[test]
fn a_second_server_on_the_same_data_dir_exits_at_once_naming_the_dir_and_the_first() {
    let data = temp_dir("lock");
    let first = Server::start(&data, &[]);
    let start = Instant::now();
    let out = serve_command(&data, &[]).output().unwrap();
    assert!(!out.status.success());
    assert!(start.elapsed() < Duration::from_secs(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&data.display().to_string()), "{err}");
    assert!(err.contains(&format!("pid {}", first.child.id())), "{err}");
    // The first is unharmed.
    let mut c = first.connect();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    assert!(matches!(read_reply(&mut c), Reply::Answer { status: 200, .. }));
}

/// GET `url` and its JSON body, from a test that is not async.
fn get_json(url: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

/// POSTs `raw` to `path` with leadclock signature headers.
async fn post_signed(s: &Server, path: &str, raw: &str, ts: i64, sig: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(s.url(path))
        .header("content-type", "application/json")
        .header("x-leadclock-timestamp", ts.to_string())
        .header("x-leadclock-signature", sig)
        .body(raw.to_owned())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn v2(raw: &str, ts: i64, path: &str) -> String {
    let secret = leadclock_app::auth::Secret::new("hook-secret");
    format!(
        "v2={}",
        leadclock_app::auth::sign_v2(&secret, ts, "POST", path, raw.as_bytes())
    )
}

fn v1(raw: &str, ts: i64) -> String {
    let secret = leadclock_app::auth::Secret::new("hook-secret");
    format!("v1={}", leadclock_app::auth::sign(&secret, ts, raw.as_bytes()))
}

const SIGNED: [(&str, &str); 1] = [("LEADCLOCK_WEBHOOK_SECRETS", "hook-secret")];

#[tokio::test]
async fn a_signed_touch_replayed_to_the_assignment_route_is_refused() {
    let s = Server::start(&temp_dir("replay"), &SIGNED);
    let now = chrono::Utc::now();
    let ts = now.timestamp();
    let form = form_body("R-1");
    assert_eq!(
        post_signed(&s, "/v1/events/form", &form, ts, v2(&form, ts, "/v1/events/form"))
            .await
            .0,
        202
    );
    let touch =
        json!({"lead_id": "R-1", "occurred_at": now.to_rfc3339(), "channel": "call", "owner": "mallory"}).to_string();
    let sig = v2(&touch, ts, "/v1/events/touch");
    let (st, v) = post_signed(&s, "/v1/events/assignment", &touch, ts, sig.clone()).await;
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("unauthorized")), "{v}");
    let (st, v) = post_signed(&s, "/v1/events/touch", &touch, ts, sig).await;
    assert_eq!(st, 202, "{v}");
    assert!(v["lead"]["owner"].is_null(), "the replay assigned nobody: {v}");
}

#[tokio::test]
async fn v1_signatures_are_refused_by_default_and_accepted_with_the_migration_setting() {
    let ts = chrono::Utc::now().timestamp();
    let refusing = Server::start(&temp_dir("v1-off"), &SIGNED);
    let form = form_body("V1-1");
    let (st, v) = post_signed(&refusing, "/v1/events/form", &form, ts, v1(&form, ts)).await;
    assert_eq!(
        (st, v["error"]["code"].as_str(), v["error"]["field"].as_str()),
        (401, Some("unauthorized"), Some("x-leadclock-signature"))
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("LEADCLOCK_ACCEPT_SIGNATURE_V1"),
        "{v}"
    );

    let env = [SIGNED[0], ("LEADCLOCK_ACCEPT_SIGNATURE_V1", "1")];
    let migrating = Server::start(&temp_dir("v1-on"), &env);
    for lead in ["V1-2", "V1-3"] {
        let form = form_body(lead);
        let (st, v) = post_signed(&migrating, "/v1/events/form", &form, ts, v1(&form, ts)).await;
        assert_eq!(st, 202, "{v}");
    }
    let forged = form_body("V1-4");
    let sig = format!(
        "v1={}",
        leadclock_app::auth::sign(&leadclock_app::auth::Secret::new("guess"), ts, forged.as_bytes())
    );
    assert_eq!(
        post_signed(&migrating, "/v1/events/form", &forged, ts, sig).await.0,
        401
    );
    assert_eq!(
        migrating.logs().matches("accepted a leadclock v1 signature").count(),
        1,
        "{}",
        migrating.logs()
    );
}

/// A lead with 1,100 events answers in pages: 200 entries by default, at most 1,000, each page
/// naming the cursor of the next; bad paging parameters are the documented 400.
#[tokio::test]
async fn a_lead_with_thousands_of_events_answers_its_timeline_in_pages() {
    let data = temp_dir("pages");
    let s = Server::start(&data, &[]);
    let c = reqwest::Client::new();
    let start = chrono::Utc::now() - chrono::Duration::hours(3);
    let mut items = vec![
        json!({"kind": "form", "lead_id": "PAGE-1", "occurred_at": start.to_rfc3339(),
                                "lead_type": "content_mql", "history": true}),
    ];
    items.extend((1..1100).map(|i| {
        let at = start + chrono::Duration::seconds(i);
        json!({"kind": "touch", "event_id": format!("t-{i:04}"), "lead_id": "PAGE-1",
               "occurred_at": at.to_rfc3339(), "channel": "email", "history": true})
    }));
    for chunk in items.chunks(500) {
        let r = c.post(s.url("/v1/events/batch")).json(&chunk).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let page = |query: String| {
        let url = s.url(&format!("/v1/leads/PAGE-1{query}"));
        let c = c.clone();
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, first) = page(String::new()).await;
    assert_eq!(st, 200);
    assert_eq!(first["timeline"].as_array().unwrap().len(), 200);
    assert_eq!(first["timeline_total"], 1100);
    // Walk every page of 400: each entry once, in order, and the last names no next page.
    let (mut seen, mut after, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let q = match &after {
            None => "?timeline_limit=400".to_owned(),
            Some(a) => format!("?timeline_limit=400&timeline_after={a}"),
        };
        let (st, v) = page(q).await;
        assert_eq!(st, 200, "{v}");
        pages += 1;
        seen.extend(
            v["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["event_id"].as_str().unwrap().to_owned()),
        );
        match v["timeline_next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 1100));
    assert!(seen.windows(2).all(|w| w[0] != w[1]));
    assert_eq!(seen[1], "t-0001");
    for (q, field) in [
        ("?timeline_limit=0", "timeline_limit"),
        ("?timeline_limit=1001", "timeline_limit"),
        ("?timeline_limit=many", "timeline_limit"),
        ("?timeline_after=no-such-event", "timeline_after"),
    ] {
        let (st, v) = page(q.to_owned()).await;
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{q}");
    }
}
