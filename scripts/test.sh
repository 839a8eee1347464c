#!/usr/bin/env bash
# The one test command: formatting, lints, every Rust test, and the GEOS oracle.
# Installs what the tests need when it is missing (a Python venv with shapely for the oracle),
# and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }
started=$SECONDS

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --all-targets --quiet
cargo test --doc --quiet

step "release build"
cargo build --release --quiet --bins

step "GEOS oracle (shapely)"
PY=$(scripts/pyenv.sh)
"$PY" scripts/oracle.py --tessera target/release/tessera

step "all tests passed in $((SECONDS - started)) s"
