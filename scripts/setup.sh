#!/usr/bin/env bash
# Installs what the test command needs and a fresh Debian machine may lack,
# and nothing that is already there:
#   - PostgreSQL server binaries (initdb, postgres) for the throwaway test
#     clusters, and the `postgres` system user they run as when we are root;
#   - Node.js >= 20.19 with npm, and the web UI's node modules (npm ci);
#   - Debian's Chromium for the UI's end-to-end tests;
#   - a Python virtual environment with the pinned schemathesis
#     (scripts/schemathesis-requirements.txt) for the contract fuzzing;
#   - with --bench: wrk, for the load benchmark.
# As root, system packages are installed with apt-get. As another user, it
# stops at once and prints the exact command to run as root.
# Usage: scripts/setup.sh [--bench]
set -euo pipefail
cd "$(dirname "$0")/.."

bench=false
for arg in "$@"; do
  case "$arg" in
    --bench) bench=true ;;
    *) echo "setup: unknown argument $arg (usage: scripts/setup.sh [--bench])" >&2; exit 2 ;;
  esac
done

# The virtual environment schemathesis runs from (under target/, so it is
# ignored by git and goes away with `cargo clean`).
venv="${CHATCORE_PY_VENV:-target/py-venv}"
requirements=scripts/schemathesis-requirements.txt

is_root() { [ "$(id -u)" = 0 ]; }

have_initdb() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

# Node.js 20.19 or newer (Vite 8 needs it).
node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}

venv_ok() {
  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' >/dev/null 2>&1
}

packages=()
have_initdb || packages+=(postgresql)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
[ -x /usr/bin/chromium ] || packages+=(chromium)
command -v python3 >/dev/null 2>&1 || packages+=(python3)
if command -v python3 >/dev/null 2>&1 && ! venv_ok; then packages+=(python3-venv); fi
if $bench && ! command -v wrk >/dev/null 2>&1; then packages+=(wrk); fi

if [ ${#packages[@]} -gt 0 ]; then
  if ! is_root; then
    echo "setup: missing system packages: ${packages[*]}" >&2
    echo "setup: run this as root, then run the tests again:" >&2
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${packages[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  # Debian's nodejs package of other sources may come without npm.
  if ! command -v npm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
fi

if ! node_ok; then
  echo "setup: Node.js >= 20.19 with npm is needed (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "setup: install Node.js 20 (e.g. from https://deb.nodesource.com) and run the tests again." >&2
  exit 1
fi

# PostgreSQL refuses to run as root: as root, the tests start it as `postgres`.
if is_root && ! id postgres >/dev/null 2>&1; then
  echo "setup: adding the postgres system user"
  useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi

# The web UI's node modules, when missing or older than the lock file.
web=examples/web
if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci in $web"
  (cd "$web" && npm ci --no-audit --no-fund)
fi

# schemathesis, pinned, in its own virtual environment.
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/st" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "setup: installing schemathesis into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

echo "setup: ready (postgresql, node $(node --version), chromium, schemathesis $("$venv/bin/st" --version 2>/dev/null | awk '{print $NF}'))"
