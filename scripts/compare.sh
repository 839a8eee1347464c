#!/usr/bin/env bash
# Every side-by-side comparison in one go: tessera against shapely/GEOS and PostGIS (locate,
# validate, memory and cold start, vector tiles) and over HTTP with wrk (locate against a route
# that does nothing, intake on SQLite and PostGIS, several processes on one PostGIS). Prints
# Markdown tables of figures and ratios measured in this run; writes target/compare/results.json
# and the log–log plot docs/benchmarks/scaling.png.
#
#   scripts/compare.sh                 # the full run (1,466 to 1,000,000 grids; ~15 minutes)
#   scripts/compare.sh --smoke         # small inputs, one run each: every path, answers checked
#   scripts/compare.sh --sizes 1466 100000 --no-http
#
# Installs what it needs when missing (Debian's wrk and PostGIS, the Python venv), starts and
# stops its own PostgreSQL cluster, and exits non-zero when an answer disagrees with a peer's.
set -euo pipefail
cd "$(dirname "$0")/.."

http=--http
plot=(--plot docs/benchmarks/scaling.png)
args=()
for a in "$@"; do
    case $a in
        --no-http) http= ;;
        --smoke) plot=(); args+=("$a") ;;
        --no-plot) plot=() ;;
        *) args+=("$a") ;;
    esac
done

cargo build --release --quiet --bins
if [[ -n $http ]] && ! command -v wrk >/dev/null; then
    echo "compare: installing wrk" >&2
    if [[ -z $(ls /var/lib/apt/lists/*Packages* 2>/dev/null | head -1) ]]; then
        apt-get update -q >&2
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2; }
fi
PY=$(scripts/pyenv.sh)
pgdir=$(mktemp -d /tmp/tessera-compare-pg.XXXXXX)
trap 'scripts/pg-cluster.sh stop "$pgdir"' EXIT
url=$(scripts/pg-cluster.sh start "$pgdir")
"$PY" scripts/compare.py --tessera target/release/tessera --pg "$url" $http \
    --json target/compare/results.json "${plot[@]}" "${args[@]}"
