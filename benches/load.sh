#!/usr/bin/env bash
# The load benchmark in one command (see BENCHMARKS.md):
#   benches/load.sh            full run -> bench-results/load.json
#   benches/load.sh --smoke    a few seconds, small counts (CI) -> bench-results/load-smoke.json
# Builds the release chatcore-server and the bench binaries, installs wrk when
# missing, raises the open-file limit (10,000 WebSockets need ~20,000 fds on
# one machine) and runs `load` with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
  else
    echo "wrk is missing: apt-get install -y wrk" >&2; exit 2
  fi
fi

# Two builds: building the server on its own keeps its features exactly those of
# `cargo build --release --bin chatcore-server` (the benches enable test-only ones).
# LOAD_PROFILE=dev builds debug binaries: only for CI's smoke run, which checks
# that the benchmark still works, not how fast anything is.
profile="${LOAD_PROFILE:-release}"
cargo build --profile "$profile" -p chatcore-examples --bin chatcore-server
cargo build --profile "$profile" -p chatcore-benches --bins

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
out_dir=release
[ "$profile" = dev ] && out_dir=debug
exec "$target_dir/$out_dir/load" "$@"
