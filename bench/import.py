#!/usr/bin/env python3
"""`leadclock import` speed: LEADS leads (4 events each: form, assignment, touch, stage) as
JSON lines into a fresh data dir, beside SQLite's raw commit rate on the same machine in the
same run (the same number of rows of the same size, 500 per transaction, WAL with
synchronous=FULL, as the store writes). Printed, never asserted. Standard library only."""

import argparse
import json
import os
import platform
import random
import sqlite3
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone


def generate(path, leads):
    random.seed(1)
    base = datetime(2026, 8, 3, 13, 0, tzinfo=timezone.utc)
    types = ["demo_request", "free_trial", "contact_form", "content_mql"]
    rows = []
    with open(path, "w") as f:
        for i in range(leads):
            at = base + timedelta(minutes=i * 90 * 24 * 60 // leads)
            lead = f"S-{i}"
            items = [
                {"kind": "form", "lead_id": lead, "occurred_at": at.isoformat(), "lead_type": types[i % 4], "region": "na"},
                {"kind": "assignment", "lead_id": lead, "occurred_at": (at + timedelta(minutes=random.randint(0, 20))).isoformat(),
                 "owner": ["alice", "bob"][i % 2]},
                {"kind": "touch", "lead_id": lead, "occurred_at": (at + timedelta(minutes=random.randint(21, 300))).isoformat(),
                 "channel": "call", "outcome": "connected"},
                {"kind": "stage", "lead_id": lead, "occurred_at": (at + timedelta(minutes=400)).isoformat(), "stage": "sal"},
            ]
            for item in items:
                line = json.dumps(item)
                f.write(line + "\n")
                rows.append((lead, line))
    return rows


def raw_sqlite(dir_, rows):
    """SQLite alone: the rows inserted 500 per transaction, WAL, synchronous=FULL."""
    conn = sqlite3.connect(os.path.join(dir_, "raw.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE events (lead_id TEXT, n INTEGER, body TEXT, PRIMARY KEY (lead_id, n)) WITHOUT ROWID")
    start = time.monotonic()
    for i in range(0, len(rows), 500):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?)", [(lead, i + k, body) for k, (lead, body) in enumerate(rows[i:i + 500])])
        conn.execute("COMMIT")
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--leads", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "history.jsonl")
        rows = generate(path, args.leads)
        start = time.monotonic()
        run = subprocess.run([args.bin, "import", "--data", os.path.join(d, "data"), "--policy", args.policy, path],
                             capture_output=True, text=True)
        took = time.monotonic() - start
        if run.returncode != 0:
            raise SystemExit(f"import failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
        raw = raw_sqlite(d, rows)
        cpus = os.cpu_count()
        print(f"date:    {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
        print(f"machine: {cpus} CPUs, {platform.processor() or platform.machine()}, {platform.system()} {platform.release()}")
        print(f"load:    {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min) at end")
        print(f"leadclock import: {args.leads} leads, {len(rows)} events in {took:.1f} s "
              f"({args.leads / took:,.0f} leads/s, {len(rows) / took:,.0f} events/s)")
        print(f"SQLite raw commit rate, same rows, 500 per transaction: {raw:.1f} s ({len(rows) / raw:,.0f} rows/s)")
        print(f"ratio: import takes {took / raw:.1f}x SQLite's raw insert time "
              f"(the rest is parsing, folding, step planning and each lead's summary)")
        print(run.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
