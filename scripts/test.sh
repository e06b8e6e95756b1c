#!/usr/bin/env bash
# The project's test command: every Rust test (unit, conformance against
# SQLite and a throwaway PostgreSQL cluster, integration over real ports),
# then the web UI's component tests and its end-to-end tests in headless
# Chromium against the real chatcore-server. Prints each runner's counts.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace, all features)"
cargo test --workspace --all-features --no-fail-fast 2>&1

echo "== web UI: component tests (vitest)"
cd examples/web
[ -d node_modules ] || npm ci --no-audit --no-fund
npm test

echo "== web UI: end-to-end tests (headless Chromium, chatcore-server)"
# The debug server built by cargo test above is enough to drive the UI.
CHATCORE_SERVER_BIN="$(cd ../.. && pwd)/target/debug/chatcore-server" npm run e2e
