#!/usr/bin/env python3
"""Per-event cost against a lead's history: one lead takes a form, an assignment, then touches
one after another up to EVENTS events, through the local server's JSON API (release build, a
fresh data dir, one keep-alive connection). Prints the POST latency p50/p95 of the first and last
WINDOW events and their ratio, then what the server answers past the per-lead cap. Printed,
never asserted. Standard library only."""

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def body(i, lead, base):
    at = (base + timedelta(seconds=i)).isoformat()
    if i == 0:
        return "form", {"event_id": f"{lead}-f", "lead_id": lead, "occurred_at": at, "lead_type": "demo_request"}
    if i == 1:
        return "assignment", {"event_id": f"{lead}-a", "lead_id": lead, "occurred_at": at, "owner": "alice"}
    return "touch", {"event_id": f"{lead}-t{i}", "lead_id": lead, "occurred_at": at, "channel": "email", "outcome": "sent"}


def post(conn, kind, doc):
    start = time.perf_counter()
    conn.request("POST", f"/v1/events/{kind}", json.dumps(doc), {"content-type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    return time.perf_counter() - start, resp.status, data


def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, round(p / 100 * len(xs)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--past-cap", action="store_true", help="keep posting until the server refuses one")
    args = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        log = open(os.path.join(data, "server.log"), "w")
        proc = subprocess.Popen(
            [args.bin, "serve", "--policy", args.policy, "--data", data, "--listen", f"127.0.0.1:{port}", "--insecure-no-auth"],
            stdout=log, stderr=log)
        try:
            wait_up(port, proc)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
            lat = []
            for i in range(args.events):
                kind, doc = body(i, "H-1", base)
                secs, status, data_ = post(conn, kind, doc)
                if status != 202:
                    raise SystemExit(f"event {i + 1}: {status} {data_[:300]!r}")
                lat.append(secs * 1000)
            w = min(args.window, len(lat) // 2)
            first, last = lat[:w], lat[-w:]
            print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
            print(f"one lead, {args.events} events through POST /v1/events/* (release, SQLite, one connection)")
            for label, xs in ((f"events 1-{w}", first), (f"events {args.events - w + 1}-{args.events}", last)):
                print(f"  {label:<20} p50 {statistics.median(xs):7.2f} ms   p95 {pct(xs, 95):7.2f} ms")
            print(f"  ratio of p50s (last / first): {statistics.median(last) / statistics.median(first):.2f}")
            if args.past_cap:
                i = args.events
                while True:
                    kind, doc = body(i, "H-1", base)
                    _, status, data_ = post(conn, kind, doc)
                    if status != 202:
                        print(f"  event {i + 1} answered {status}: {data_.decode()[:300]}")
                        break
                    i += 1
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
