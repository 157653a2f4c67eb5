#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster (trust auth, own port and socket dir) and prints its URL.
#   start-postgres.sh DIR [PORT]     → writes DIR/url; stop with: start-postgres.sh --stop DIR
set -euo pipefail
if [ "${1:-}" = "--stop" ]; then
  dir="$2"; pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ -f "$dir/data/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  exit 0
fi
dir="$1"; port="${2:-55432}"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$dir/data"; chown -R postgres:postgres "$dir"
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
run "$pgbin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
run "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q \
  -c "CREATE ROLE usher LOGIN PASSWORD 'usher'" -c "CREATE DATABASE usher OWNER usher" >/dev/null
echo "postgres://usher:usher@127.0.0.1:$port/usher?sslmode=disable" > "$dir/url"
cat "$dir/url"
