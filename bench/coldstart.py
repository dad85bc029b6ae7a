#!/usr/bin/env python3
"""Cold-start benchmark of the Lambda functions against a local fake Lambda Runtime API.

Each run spawns one fresh process with AWS_LAMBDA_RUNTIME_API pointing at a loopback server
and times spawn -> its first `GET /2018-06-01/runtime/invocation/next`: everything the
function does at init (SDK configuration, policy parsing, clients), before it can take an event.
The same is measured for a hello-world `lambda_runtime` binary, the floor every function shares.

Runs are interleaved (one run of every binary per round) so that load from other processes on
a shared machine spreads over all binaries instead of skewing one. Results are printed, never
asserted: the exit status is non-zero only when a binary could not start at all.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FUNCTIONS = ["form-ingest", "assignment", "first-touch", "stage", "escalate", "read-api", "rollup", "slack-notify"]
HELLO = "hello-lambda"
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
INIT_ERROR_PATH = "/2018-06-01/runtime/init/error"
# A start that has not asked for an event by then has hung; it is reported as a failure.
START_TIMEOUT_S = 15.0


@dataclass
class Request:
    at_ns: int
    method: str
    path: str
    target: str  # X-Amz-Target, when an AWS SDK call reached us through AWS_ENDPOINT_URL
    body: bytes


@dataclass
class Run:
    """What the fake runtime saw from the one process currently starting."""

    requests: list[Request] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


class FakeRuntime:
    """Loopback HTTP server: holds `invocation/next` open, acknowledges `init/error`, and
    refuses (but records) anything else, e.g. an SSM call made at init."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.current = Run()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def begin(self) -> Run:
        with self.lock:
            self.current = Run()
            return self.current

    def _accept_loop(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            with self.lock:
                run = self.current
            threading.Thread(target=self._serve, args=(conn, run), daemon=True).start()

    def _serve(self, conn: socket.socket, run: Run) -> None:
        with conn:
            buf = b""
            while True:
                req, buf = _read_request(conn, buf)
                if req is None:
                    return
                run.requests.append(req)
                if req.path == NEXT_PATH:
                    run.done.set()
                    _drain(conn)  # held open until the process is killed
                    return
                if req.path == INIT_ERROR_PATH:
                    _reply(conn, 202, b'{"status":"OK"}', "application/json")
                    run.done.set()
                    continue
                # Non-retryable, so an SDK gives up at once instead of backing off.
                body = b'{"__type":"AccessDeniedException","message":"leadclock bench: no AWS here"}'
                _reply(conn, 400, body, "application/x-amz-json-1.1")


def _read_request(conn: socket.socket, buf: bytes) -> tuple[Request | None, bytes]:
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    at_ns = time.perf_counter_ns()
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None, buf
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0") or "0")
    while len(buf) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    body, buf = buf[:length], buf[length:]
    return Request(at_ns, parts[0], parts[1], headers.get("x-amz-target", ""), body), buf


def _drain(conn: socket.socket) -> None:
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def _reply(conn: socket.socket, status: int, body: bytes, ctype: str) -> None:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
    try:
        conn.sendall(head.encode() + body)
    except OSError:
        pass


def child_env(name: str, port: int, policy: Path, home: Path) -> dict[str, str]:
    """What Lambda and infra/template.yaml give a function, with every AWS endpoint on loopback
    so that a call made at init is counted here instead of leaving the machine."""
    local = f"http://127.0.0.1:{port}"
    fn = f"leadclock-bench-{name}"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),  # empty: no ~/.aws profile of whoever runs the bench
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": fn,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "LAMBDA_TASK_ROOT": str(home),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIABENCHONLY0000000",
        "AWS_SECRET_ACCESS_KEY": "bench-only-not-a-secret",
        "AWS_SESSION_TOKEN": "bench-only",
        "AWS_ENDPOINT_URL": local,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": local,
        "LEADCLOCK_POLICY_FILE": str(policy),
        "LEADCLOCK_LOG": "info",
        "TABLE_NAME": "leadclock-bench",
        "SCHEDULE_GROUP": "leadclock-bench",
        "ESCALATE_FUNCTION_ARN": "arn:aws:lambda:us-east-1:000000000000:function:leadclock-bench-escalate",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::000000000000:role/leadclock-bench-scheduler",
        "TIMER_DLQ_ARN": "arn:aws:sqs:us-east-1:000000000000:leadclock-bench-timer-dlq",
        "ESCALATION_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:leadclock-bench-escalations",
        "METRICS_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:leadclock-bench-metrics",
        "WEBHOOK_SECRETS_PARAMETER": "/leadclock/bench/webhook-secrets",
        "HUBSPOT_SECRETS_PARAMETER": "/leadclock/bench/hubspot-secrets",
        "READ_TOKENS_PARAMETER": "/leadclock/bench/read-tokens",
    }
    if name == "slack-notify":
        # As the template sets it: slack-notify reads this parameter from SSM at init.
        env["SLACK_WEBHOOK_PARAMETER"] = "/leadclock/bench/slack-webhook"
    return env


@dataclass
class Outcome:
    ms: float | None  # spawn -> first invocation/next; None when the start failed
    other: list[Request]  # requests that were not the runtime's own, made before `next`
    failure: str = ""


def start_once(binary: Path, env: dict[str, str], runtime: FakeRuntime, log: Path) -> Outcome:
    run = runtime.begin()
    with open(log, "wb") as out:
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen([str(binary)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=env["HOME"])
        deadline = time.monotonic() + START_TIMEOUT_S
        while not run.done.wait(0.005):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
        proc.kill()
        proc.wait()
    return judge(run, t0, proc.returncode, log)


def judge(run: Run, t0: int, rc: int, log: Path) -> Outcome:
    reqs = list(run.requests)
    nexts = [r for r in reqs if r.path == NEXT_PATH]
    errors = [r for r in reqs if r.path == INIT_ERROR_PATH]
    before = [r for r in reqs if r.path not in (NEXT_PATH, INIT_ERROR_PATH) and (not nexts or r.at_ns < nexts[0].at_ns)]
    if errors:
        return Outcome(None, before, "init/error: " + errors[0].body.decode("utf-8", "replace")[:300])
    if not nexts:
        tail = log.read_bytes()[-600:].decode("utf-8", "replace").strip()
        return Outcome(None, before, f"no invocation/next (exit status {rc}): {tail}")
    return Outcome((nexts[0].at_ns - t0) / 1e6, before)


def p90(xs: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def zip_size(binary: Path, policy: Path | None, work: Path) -> int:
    """Bytes of the zip `make build` would make from this binary: `bootstrap` (+ `policy.toml`),
    by the same `python -m zipfile -c`."""
    d = Path(tempfile.mkdtemp(dir=work))
    (d / "bootstrap").write_bytes(binary.read_bytes())
    names = ["bootstrap"]
    if policy is not None:
        (d / "policy.toml").write_bytes(policy.read_bytes())
        names.append("policy.toml")
    out = d / "function.zip"
    subprocess.run([sys.executable, "-m", "zipfile", "-c", str(out), *names], cwd=d, check=True)
    with zipfile.ZipFile(out) as z:
        if sorted(z.namelist()) != sorted(names):
            raise SystemExit(f"unexpected zip contents for {binary}: {z.namelist()}")
    return out.stat().st_size


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_info() -> list[str]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return [
        f"date:    {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, "
        f"{mem_kib / 1048576:.1f} GiB RAM, {platform.system()} {platform.release()} {platform.machine()}",
        f"load:    {loadavg()} (1/5/15 min) at start",
    ]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin-dir", type=Path, required=True, help="directory holding the release function binaries")
    p.add_argument("--hello", type=Path, required=True, help="the hello-world lambda_runtime binary")
    p.add_argument("--policy", type=Path, default=Path("policies/example.toml"))
    p.add_argument("--runs", type=int, default=15, help="measured starts per binary (at least 15)")
    p.add_argument("--functions", nargs="+", default=FUNCTIONS, choices=FUNCTIONS)
    args = p.parse_args()
    if args.runs < 15:
        p.error("--runs must be at least 15")
    return args


def binaries(args: argparse.Namespace) -> dict[str, Path]:
    found = {HELLO: args.hello.resolve()} | {f: (args.bin_dir / f).resolve() for f in args.functions}
    missing = [str(p) for p in found.values() if not os.access(p, os.X_OK)]
    if missing:
        raise SystemExit("missing binaries (build them first): " + ", ".join(missing))
    return found


def measure(bins: dict[str, Path], policy: Path, runs: int, work: Path) -> dict[str, list[Outcome]]:
    runtime = FakeRuntime()
    results: dict[str, list[Outcome]] = {name: [] for name in bins}
    failed: set[str] = set()
    log = work / "start.log"
    # Round 0 is a warm-up (binary into the page cache), not recorded.
    for rnd in range(runs + 1):
        for name, path in bins.items():
            if name in failed:
                continue
            outcome = start_once(path, child_env(name, runtime.port, policy, work), runtime, log)
            if outcome.ms is None:
                failed.add(name)
                results[name] = [outcome]
            elif rnd > 0:
                results[name].append(outcome)
        print(f"  round {rnd}/{runs} done", file=sys.stderr)
    return results


def report(bins: dict[str, Path], results: dict[str, list[Outcome]], policy: Path, work: Path) -> int:
    hello_ms = [o.ms for o in results[HELLO] if o.ms is not None]
    hello_median = statistics.median(hello_ms) if hello_ms else math.nan
    hello_zip = zip_size(bins[HELLO], None, work)
    print(f"{'binary':<14} {'n':>3} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'x hello':>8} "
          f"{'binary KiB':>11} {'zip KiB':>8} {'zip x hello':>11} {'init calls':>10}")
    failures = 0
    for name, outcomes in results.items():
        if outcomes and outcomes[0].ms is None:
            failures += 1
            print(f"{name:<14} FAILED: {outcomes[0].failure}")
            continue
        ms = [o.ms for o in outcomes if o.ms is not None]
        med = statistics.median(ms)
        zsize = hello_zip if name == HELLO else zip_size(bins[name], policy, work)
        calls = sorted({r.target or f"{r.method} {r.path}" for o in outcomes for r in o.other})
        ncalls = sum(len(o.other) for o in outcomes) / len(outcomes)
        print(f"{name:<14} {len(ms):>3} {med:>10.1f} {p90(ms):>8.1f} {min(ms):>8.1f} {med / hello_median:>8.2f} "
              f"{bins[name].stat().st_size / 1024:>11.0f} {zsize / 1024:>8.0f} {zsize / hello_zip:>11.2f} "
              f"{ncalls:>10.1f}" + (f"  ({', '.join(calls)})" if calls else ""))
    print(f"load:    {loadavg()} (1/5/15 min) at end")
    return failures


def main() -> int:
    args = parse_args()
    bins = binaries(args)
    policy = args.policy.resolve()
    print("\n".join(machine_info()))
    print(f"bin dir: {args.bin_dir.resolve()}   hello: {bins[HELLO]}   policy: {args.policy}")
    print(f"runs:    {args.runs} per binary, interleaved, after 1 unrecorded warm-up start each")
    with tempfile.TemporaryDirectory(prefix="leadclock-bench-") as tmp:
        work = Path(tmp)
        results = measure(bins, policy, args.runs, work)
        failures = report(bins, results, policy, work)
    print("init calls: requests other than the Runtime API made before the first invocation/next, per start "
          "(AWS endpoints point at the fake runtime, which refuses them)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
