"""The browser tests' parts: a real leadclock server on SQLite (the debug binary, the tests'
policy, read tokens of each scope, signed webhooks) and Debian's Chromium driven by Playwright.

Each test gets its own server and data directory, so the figures a test checks are the figures
of the leads it posted. Screenshots land in target/web-screenshots/ (the README's come from
there: `make web-screenshots`).
"""

import datetime as dt
import hashlib
import hmac
import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("LEADCLOCK_BIN", str(ROOT / "target" / "debug" / "leadclock"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = pathlib.Path(os.environ.get("WEB_SCREENSHOTS", ROOT / "target" / "web-screenshots"))
SECRET = "web-test-webhook-secret"
TOKENS = {
    "all": "web-all-token",
    "east": "web-east-token",
    "amelie": "web-amelie-token",
}
# Flags for a closed network: without them Chromium keeps reaching for Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base, data):
        self.base = base
        self.data = data

    def post(self, kind, body):
        """A webhook signed with leadclock v2, as a sender would send it; the status."""
        return self._signed(f"/v1/events/{kind}", body, 202)

    def batch(self, items):
        """Many events in one signed batch; every item must be accepted."""
        answers = self._signed("/v1/events/batch", items, 200)
        refused = [a for a in answers["results"] if a.get("error")]
        assert not refused and answers["rejected"] == 0, refused[:3]

    def _signed(self, path, body, want):
        raw = json.dumps(body).encode()
        ts = str(int(time.time()))
        mac = hmac.new(SECRET.encode(), f"{ts}\nPOST\n{path}\n".encode() + raw, hashlib.sha256)
        req = urllib.request.Request(
            self.base + path,
            data=raw,
            method="POST",
            headers={
                "content-type": "application/json",
                "x-leadclock-timestamp": ts,
                "x-leadclock-signature": "v2=" + mac.hexdigest(),
            },
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            assert r.status == want, text
            return json.loads(text)

    def get_json(self, path, token=TOKENS["all"]):
        req = urllib.request.Request(self.base + path, headers={"authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)


def seed_history(server, weeks=12):
    """A quarter of history, one batch: a lead about every other day with the response times,
    outcomes and rejection reasons a team has, so every page has something to draw."""
    owners = [("alice", "east"), ("bob", "east"), ("amelie", "emea")]
    answers = [2, 4, 9, 3, 25, 1, 70, 6, 2, None, 14, 3, 180]
    reasons = ["not our ICP", "student", "duplicate", "no budget"]
    items = []
    for i, days in enumerate(range(2, weeks * 7, 2)):
        lead, (owner, team) = f"H-{i:03d}", owners[i % 3]
        at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days, hours=i % 5)
        iso = lambda m: (at + dt.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lead_type = "demo_request" if i % 3 else "free_trial"
        items.append({"kind": "form", "lead_id": lead, "occurred_at": iso(0), "lead_type": lead_type,
                      "source": ["organic", "paid", "event"][i % 3]})
        items.append({"kind": "assignment", "lead_id": lead, "occurred_at": iso(1 + i % 4), "owner": owner, "team": team})
        answer = answers[i % len(answers)]
        if answer is not None:
            items.append({"kind": "touch", "lead_id": lead, "occurred_at": iso(2 + i % 4 + answer),
                          "channel": "call", "outcome": "connected"})
            if i % 4 == 1:
                items.append({"kind": "stage", "lead_id": lead, "occurred_at": iso(300), "stage": "rejected",
                              "reason": reasons[i % len(reasons)]})
            else:
                items.append({"kind": "stage", "lead_id": lead, "occurred_at": iso(240), "stage": "sal"})
                if answer < 10:
                    items.append({"kind": "stage", "lead_id": lead, "occurred_at": iso(2000), "stage": "sql"})
    server.batch(items)
    return items


def ago(minutes):
    t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def server():
    data = tempfile.mkdtemp(prefix="leadclock-web-")
    port = free_port()
    env = dict(os.environ)
    env.update(
        LEADCLOCK_WEBHOOK_SECRETS=SECRET,
        LEADCLOCK_READ_TOKENS=f"{TOKENS['all']},team:east={TOKENS['east']},person:amelie={TOKENS['amelie']}",
        RUST_LOG="warn",
    )
    log = open(os.path.join(data, "server.log"), "w")
    proc = subprocess.Popen(
        [BIN, "serve", "--policy", str(ROOT / "tests" / "web" / "policy.toml"), "--data", data,
         "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None:
                raise RuntimeError(open(os.path.join(data, "server.log")).read())
            time.sleep(0.05)
    yield Server(base, data)
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/New_York")
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    ctx.close()


def login(page, server, who="all"):
    page.goto(server.base + "/")
    assert page.url.endswith("/login")
    page.get_by_label("Read token").fill(TOKENS[who])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/now")


def shoot(page, name, full_page=True):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
