#!/usr/bin/env bash
# The project's test command. First installs what a fresh machine lacks
# (scripts/setup.sh: PostgreSQL binaries and user, Node.js modules,
# Chromium, schemathesis; as root with apt-get, otherwise it stops and says
# what to run), then: every Rust test (unit, conformance against SQLite and
# a throwaway PostgreSQL cluster, integration over real ports), the contract
# fuzzing of the server's OpenAPI document (schemathesis), the web UI's
# component tests and its end-to-end tests in headless Chromium against the
# real chatcore-server. Prints each runner's counts.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup (installs only what is missing)"
./scripts/setup.sh

echo "== cargo test (workspace, all features)"
cargo test --workspace --all-features --no-fail-fast 2>&1

# The debug server built by cargo test above drives the fuzzing and the UI.
server_bin="$(pwd)/target/debug/chatcore-server"

echo "== contract fuzzing (schemathesis against /openapi.json)"
CHATCORE_SERVER_BIN="$server_bin" ./scripts/fuzz-contract.sh

echo "== web UI: component tests (vitest)"
cd examples/web
npm test

echo "== web UI: end-to-end tests (headless Chromium, chatcore-server)"
CHATCORE_SERVER_BIN="$server_bin" npm run e2e
