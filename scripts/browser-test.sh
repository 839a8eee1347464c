#!/usr/bin/env bash
# The pages in a real browser: installs Debian's chromium and fonts-noto-cjk when missing (apt-get update first when
# the package lists are empty), starts the release `tessera serve` on a fresh SQLite folder and a
# free port, runs web/tests/browser.mjs (playwright-core from web/package-lock.json) against it,
# and stops the server (also on failure). Screenshots go to target/screenshots/.
#
#   scripts/browser-test.sh [TESSERA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/tessera}
say() { printf 'browser-test: %s\n' "$*" >&2; }

# Chromium, and a CJK font so that Chinese text renders in screenshots.
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
    say "installing chromium and fonts-noto-cjk"
    if [[ -z $(ls /var/lib/apt/lists/*Packages* 2>/dev/null | head -1) ]]; then
        apt-get update -q >&2
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >&2; then
        apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >&2
    fi
fi
if [[ ! -d web/node_modules/playwright-core ]]; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

data=$(mktemp -d /tmp/tessera-browser.XXXXXX)
out="$data/serve.out"
RUST_LOG=warn "$bin" serve --bind 127.0.0.1:0 --data-dir "$data" >"$out" 2>"$data/serve.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 300); do
    grep -q 'http://' "$out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$data/serve.err" >&2; exit 1; }
    sleep 0.2
done
url=$(head -1 "$out" | grep -o 'http://[0-9.:]*')
say "server at $url"
TESSERA_DEMO_ACCOUNTS="$out" node web/tests/browser.mjs "$url" target/screenshots
