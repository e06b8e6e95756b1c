#!/usr/bin/env bash
# Fuzzes the HTTP contract from the server's own OpenAPI document with
# schemathesis: a chatcore-server on a fresh SQLite database and a free port,
# one registered user whose bearer token goes with every request, every
# operation with a bounded number of examples, every check on but the
# response-time limit (no 5xx, no response outside the documented schema,
# status codes and headers, schema-valid requests accepted and invalid ones
# rejected, 405 for unsupported methods, auth not ignored, ...). Exits
# non-zero on any failure.
#
# Usage: scripts/fuzz-contract.sh   (after scripts/setup.sh and a build)
#   CHATCORE_SERVER_BIN  server binary (default target/debug/chatcore-server)
#   FUZZ_MAX_EXAMPLES    examples per operation and phase (default 60)
#   FUZZ_SEED            schemathesis seed (default 20261201, so that CI runs are
#                        reproducible; set another to explore)
#   FUZZ_WORKERS         concurrent workers (default 2)
#   FUZZ_MAX_TIME        time budget of the run in seconds (default 180):
#                        fuzzing and stateful testing repeat until it is spent,
#                        and no phase runs past it (Hypothesis's search for
#                        inputs an operation accepts can otherwise run on for
#                        many minutes on a busy machine)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

server_bin="${CHATCORE_SERVER_BIN:-$root/target/debug/chatcore-server}"
st="${CHATCORE_PY_VENV:-$root/target/py-venv}/bin/st"
max_examples="${FUZZ_MAX_EXAMPLES:-60}"
max_time="${FUZZ_MAX_TIME:-180}"
seed="${FUZZ_SEED:-20261201}"

[ -x "$server_bin" ] || { echo "fuzz: no server binary at $server_bin (cargo build --bin chatcore-server)" >&2; exit 1; }
[ -x "$st" ] || { echo "fuzz: schemathesis is not installed (run scripts/setup.sh)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# Limits off: schemathesis sends far more than 30 messages or 10 bad logins a
# minute, and the limits have tests of their own.
(
  cd "$work"
  exec env DATABASE_URL="sqlite://$work/fuzz.db" ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" \
    CHATCORE_PROVIDERS=offline CHATCORE_OFFLINE_DELAY_MS=0 CHATCORE_MESSAGES_PER_MINUTE=0 \
    CHATCORE_LOGIN_LIMIT=0 CHATCORE_CONVERSATION_MESSAGES_PER_MINUTE=0 \
    CHATCORE_UPLOAD_DIR="$work/uploads" CHATCORE_WEB_DIR="$work/no-web" RUST_LOG=warn \
    "$server_bin"
) >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "fuzz: the server exited:" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

token=$(curl -fsS -X POST "$base/auth/register" -H 'Content-Type: application/json' \
  -d '{"email": "fuzz@example.com", "password": "fuzzing-password"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

echo "fuzz: schemathesis $("$st" --version | awk '{print $NF}') against $base/openapi.json, $max_examples examples per operation, seed $seed"
# Every check of schemathesis but the response-time limit: this machine is
# shared and noisy, and speed is measured by the benchmarks, not here.
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks+=,response_headers_conformance,response_schema_conformance
checks+=,negative_data_rejection,positive_data_acceptance,missing_required_header
checks+=,unsupported_method,allow_header_conformance,use_after_free
checks+=,ensure_resource_availability,ignored_auth,object_level_authorization

status=0
# From the scratch directory: schemathesis keeps its crash cache in the
# working directory.
(
  cd "$work"
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}" \
  "$st" --config-file "$root/scripts/schemathesis.toml" run "$base/openapi.json" \
    --checks "$checks" \
    --header "Authorization: Bearer $token" \
    --max-examples "$max_examples" \
    --max-time "$max_time" \
    --seed "$seed" \
    --generation-database none \
    --workers "${FUZZ_WORKERS:-2}" \
    --request-timeout 60 \
    --no-color \
    --report junit --report-dir "$work/report"
) || status=$?

if grep -E 'panicked' "$work/server.log" >/dev/null; then
  echo "fuzz: the server panicked:" >&2
  grep -E -A5 'panicked' "$work/server.log" | head -40 >&2
  status=1
fi
exit "$status"
