#!/usr/bin/env bash
# The one test command: formatting, lints, every Rust test (integration tests against a real
# SQLite file and a real PostgreSQL + PostGIS server), the GEOS oracle, an Open311 client, the
# pages in a real browser, and the benchmark comparisons once on small inputs (answers checked,
# no timing judged).
# Installs what the tests need when it is missing (Debian's postgresql-15-postgis-3 and chromium;
# the pages' npm packages from web/package-lock.json; a Python venv with shapely and the Open311
# client; wrk for the HTTP comparisons), starts and stops its own throwaway PostgreSQL clusters (also
# on failure), and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }
started=$SECONDS

# One full build, not a cache for the next: incremental artefacts would double the disk it needs.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

step "the repository stands alone"
# Nothing tracked may read or name the material folder beside the clone: a user's clone has
# nothing there. The pattern is assembled so that this file does not name it either.
beside='shared'
if git grep -n -I -e "\.\./${beside}" -- .; then
    echo "error: the tracked files above refer to a folder beside the clone; the repository must stand alone" >&2
    exit 1
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "throwaway PostgreSQL 15 + PostGIS cluster"
pgdir=$(mktemp -d /tmp/tessera-pg.XXXXXX)
trap 'scripts/pg-cluster.sh stop "$pgdir"' EXIT
TESSERA_TEST_DATABASE_URL=$(scripts/pg-cluster.sh start "$pgdir")
export TESSERA_TEST_DATABASE_URL TESSERA_REQUIRE_POSTGRES=1

step "cargo test (integration tests against SQLite and PostGIS)"
cargo test --all-targets --quiet
cargo test --doc --quiet

step "release build"
cargo build --release --quiet --bins

step "GEOS oracle (shapely)"
PY=$(scripts/pyenv.sh)
"$PY" scripts/oracle.py --tessera target/release/tessera

step "Open311 GeoReport v2 with a client library (georeport)"
"$PY" scripts/open311_client_test.py --tessera target/release/tessera

step "pages in a real browser (Debian chromium, playwright-core)"
scripts/browser-test.sh target/release/tessera

step "benchmark comparisons on small inputs (scripts/compare.sh --smoke: every path, answers checked)"
scripts/compare.sh --smoke --no-plot > target/compare-smoke.md

step "all tests passed in $((SECONDS - started)) s"
