#!/usr/bin/env python3
"""A 30-day report's cost as the store grows: for each size, LEADS leads (4 events each: form,
assignment, touch, stage) spread over 90 days are imported into a fresh data dir, then
`leadclock report` runs over the last 30 days (which reads the 60 days it compares), and its
wall time and peak RSS are measured, beside the same binary's report over an empty day (the RSS
a report costs without leads). `--baseline-bin` does the same with an older build (its own
import: an older build does not open a newer store), side by side. Printed, never asserted.
Standard library only."""

import argparse
import json
import os
import platform
import random
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone

BASE = datetime(2026, 8, 3, 13, 0, tzinfo=timezone.utc)
DAYS = 90


def generate(path, leads):
    random.seed(1)
    types = ["demo_request", "free_trial", "contact_form", "content_mql"]
    with open(path, "w") as f:
        for i in range(leads):
            at = BASE + timedelta(minutes=i * DAYS * 24 * 60 // leads)
            lead = f"R-{i}"
            items = [
                {"kind": "form", "lead_id": lead, "occurred_at": at.isoformat(), "lead_type": types[i % 4],
                 "region": ["na", "emea"][i % 2], "source": ["organic", "paid", "event"][i % 3]},
                {"kind": "assignment", "lead_id": lead, "occurred_at": (at + timedelta(minutes=random.randint(0, 20))).isoformat(),
                 "owner": ["alice", "bob"][i % 2]},
                {"kind": "touch", "lead_id": lead, "occurred_at": (at + timedelta(minutes=random.randint(21, 300))).isoformat(),
                 "channel": "call", "outcome": "connected"},
                {"kind": "stage", "lead_id": lead, "occurred_at": (at + timedelta(minutes=400)).isoformat(), "stage": "sal"},
            ]
            for item in items:
                f.write(json.dumps(item) + "\n")


def timed(cmd):
    """Runs `cmd`; its seconds."""
    start = time.monotonic()
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    return time.monotonic() - start


def measured_rss(cmd):
    """Runs `cmd` (output discarded); its seconds and peak RSS in MiB, from wait4 (this child
    alone, not every child so far as RUSAGE_CHILDREN would say)."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execv(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    took = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status})")
    return took, usage.ru_maxrss / 1024


def report_cmd(binary, data, policy, start, end):
    return [binary, "report", "--data", data, "--policy", policy, "--from", start.strftime("%Y-%m-%d"),
            "--to", end.strftime("%Y-%m-%d"), "--format", "json"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--baseline-bin", help="an older build, measured on the same data")
    ap.add_argument("--policy", required=True)
    ap.add_argument("--leads", default="50000", help="comma-separated sizes")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"date:    {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, {platform.system()} {platform.release()}")
    end = BASE + timedelta(days=DAYS)
    start = end - timedelta(days=30)
    for leads in [int(x) for x in args.leads.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "history.jsonl")
            generate(path, leads)
            print(f"{leads:>9,} leads ({leads * 4:,} events over {DAYS} days)")
            builds = [("this build", args.bin)] + ([("baseline", args.baseline_bin)] if args.baseline_bin else [])
            for name, binary in builds:
                data = os.path.join(d, f"data-{name.replace(' ', '-')}")
                took = timed([binary, "import", "--data", data, "--policy", args.policy, path])
                size = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data))
                print(f"  {name:<10} import: {took:.0f} s, data dir {size / 2**20:,.0f} MiB")
                _, empty_rss = measured_rss(report_cmd(binary, data, args.policy, BASE - timedelta(days=400), BASE - timedelta(days=399)))
                runs = [measured_rss(report_cmd(binary, data, args.policy, start, end)) for _ in range(args.runs)]
                secs = sorted(r[0] for r in runs)
                rss = max(r[1] for r in runs)
                print(f"  {name:<10} 30-day report: median {secs[len(secs) // 2]:.2f} s (min {secs[0]:.2f}, max {secs[-1]:.2f}),"
                      f" peak RSS {rss:.0f} MiB ({rss - empty_rss:+.0f} MiB over an empty day's {empty_rss:.0f} MiB)")


if __name__ == "__main__":
    main()
