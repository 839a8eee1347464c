#!/usr/bin/env bash
# A throwaway PostgreSQL 15 + PostGIS cluster for the tests: no system service, a temp dir, a
# free port on 127.0.0.1.
#   scripts/pg-cluster.sh start DIR   # initdb + pg_ctl start; prints the admin URL on stdout
#   scripts/pg-cluster.sh stop DIR    # pg_ctl stop and remove DIR
#   scripts/pg-cluster.sh pause DIR   # stop at once (as a crash would), keeping the data
#   scripts/pg-cluster.sh resume DIR  # start again on the same port
# Installs postgresql-15-postgis-3 (Debian) when PostGIS is missing.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bin=/usr/lib/postgresql/15/bin
say() { printf 'pg-cluster: %s\n' "$*" >&2; }

ensure_postgis() {
    if [[ -x $bin/initdb && -f /usr/share/postgresql/15/extension/postgis.control ]]; then
        return
    fi
    say "installing postgresql-15-postgis-3"
    if [[ ! -f /var/lib/apt/lists/lock || -z $(ls /var/lib/apt/lists/*Packages* 2>/dev/null | head -1) ]]; then
        apt-get update -q >&2
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15-postgis-3 >&2; then
        apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15-postgis-3 >&2
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
    ensure_postgis
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    port=$(free_port)
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    say "PostgreSQL 15 on 127.0.0.1:$port (data in $dir)"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
pause)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2
    ;;
resume)
    port=$(cat "$dir/port")
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    if [[ -d $dir/data ]]; then
        as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
*)
    say "unknown command $cmd"; exit 2 ;;
esac
