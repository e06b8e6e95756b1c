#!/usr/bin/env bash
# The project's test command: every Rust test (unit, conformance against
# SQLite and a throwaway PostgreSQL cluster, integration), then the web UI's
# tests when the UI is present. Prints each runner's pass/fail counts.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace, all features)"
cargo test --workspace --all-features --no-fail-fast 2>&1

if [ -f examples/web/package.json ]; then
  echo "== web UI: component tests"
  (cd examples/web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm test)
  if [ -f examples/web/e2e/run.mjs ] || grep -q '"e2e"' examples/web/package.json; then
    echo "== web UI: end-to-end tests in headless Chromium"
    cargo build --release --bin chatcore-server
    (cd examples/web && npm run build && npm run e2e)
  fi
fi
