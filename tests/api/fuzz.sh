#!/usr/bin/env bash
# `make api-fuzz`: schemathesis against the local server, driven by docs/openapi.json as the
# server serves it (GET /openapi.json). Fails on any finding: a 5xx, a response the schema does
# not describe, or invalid input the API accepts. Per-operation settings: schemathesis.toml.
#
#   tests/api/fuzz.sh LEADCLOCK_BIN SCHEMATHESIS_BIN
set -euo pipefail

bin=${1:?leadclock binary}
st=${2:?schemathesis binary}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
max_examples=${API_FUZZ_EXAMPLES:-60}
max_time=${API_FUZZ_SECONDS:-50}
seed=${API_FUZZ_SEED:-16}

data=$(mktemp -d)
port=$("$here/../../.venv-schemathesis/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
  || python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

"$bin" serve --policy "$root/policies/example.toml" --data "$data" --listen "127.0.0.1:$port" --insecure-no-auth \
  >"$data/server.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

# Python, not curl: a fresh machine has Python 3 and may have no curl.
healthy() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$base/healthz" >/dev/null 2>&1; }
for _ in $(seq 1 100); do
  if healthy; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$data/server.log"; echo "api-fuzz: the server did not start" >&2; exit 1; fi
  sleep 0.1
done
healthy || { cat "$data/server.log"; echo "api-fuzz: the server never answered /healthz" >&2; exit 1; }

# The server runs with --insecure-no-auth so that generated bodies reach the parsers (the
# signature and token checks have their own tests: crates/app/src/auth.rs, tests/http_api.rs);
# so schemathesis does not generate the security headers, whose absence this server accepts.
# One worker: the machine has two cores and the server needs one.
start=$(date +%s)
rc=0
(cd "$here" && SCHEMATHESIS_HOOKS=hooks "$st" run "$base/openapi.json" \
  --max-examples "$max_examples" --max-time "$max_time" --seed "$seed" \
  --generation-with-security-parameters false \
  --workers 1 --generation-database none --no-color) || rc=$?
echo "api-fuzz: schemathesis finished in $(( $(date +%s) - start ))s (exit $rc)"
if grep -q "panicked" "$data/server.log"; then
  grep -n "panicked" "$data/server.log" >&2
  echo "api-fuzz: the server panicked" >&2
  rc=1
fi
exit "$rc"
