#!/usr/bin/env bash
# Password-reset request benchmark: Usher's `POST /dbconnections/change_password` against a Python peer doing
# the same job, fastapi-users' `POST /auth/forgot-password` (FastAPI + fastapi-users[sqlalchemy] + aiosqlite,
# uvicorn with PEER_WORKERS=2 workers, one per core), both on SQLite, both seeded with USERS users, measured in
# the same run on the same machine, one server at a time (the other is stopped, so each gets both cores).
#
#   bench/reset/run.sh                                   # builds usher (release), 10 s per measurement
#   USHER_BIN=.build/release/usher bench/reset/run.sh    # skip the build, use this binary
#   DURATION=20s CONNECTIONS=32 USERS=5000 bench/reset/run.sh
#
# For each server, two address sets, each a wrk run (THREADS threads, CONNECTIONS connections, --latency) whose
# Lua script (change_password.lua) rotates through USERS distinct addresses:
#   known    user<i>@bench.example.com — seeded users: Usher creates a ticket and queues the email (outbox row,
#            log event); fastapi-users makes its reset JWT and its on_after_forgot_password stores an outbox row;
#   unknown  nobody<i>@bench.example.com — no such user: both answer as for a known address and send nothing.
# Usher runs with USHER_CHANGE_PASSWORD_BURST=1000000000 (the per IP+email rate limit out of the way) and a
# courier poll interval of an hour, so the emails stay queued and neither side sends mail during the measurement;
# everything else is Usher's default (log level info, one line per request; bcrypt cost 10, which only the seeding pays).
# The peer is measured twice: as fastapi-users ships (its reset token carries a fingerprint of the password hash,
# hashed with the library's recommended Argon2 — expensive, and only for known addresses), and with
# PEER_FINGERPRINT=sha256 (the same flow without that Argon2 hash), to separate the library's cost from the stack's.
#
# Between runs the script waits until the server answers /health in under 50 ms five times in a row (queued
# work from the previous run has drained). Unknown addresses are measured first for the same reason.
#
# Prints: server, addresses, answers/s (wrk's requests/s, 429s included), done/s (requests whose work was done:
# for Usher, which answers first and works off a queue, the requests its worker processed from the start of the
# run until its queue was empty again, read from /metrics; for the peer, which works inside the request, its 2xx
# answers per second), p50, p90, p99, non-2xx responses; then usher/peer ratios of done/s (target >= 5) and of
# latency (lower is better for usher).
# Needs: wrk, curl, python3 with venv (scripts/install-deps.sh bench); the peer's packages go to bench/reset/.venv
# from bench/reset/requirements.txt (PyPI) on first use.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
USERS=${USERS:-1000}
PEER_WORKERS=${PEER_WORKERS:-2}

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh bench)" >&2; exit 1; }
done


work=$(mktemp -d /tmp/usher-bench-reset.XXXXXX)
. "$root/bench/lib.sh"
release_usher
reference_venv

results="$work/results"
: > "$results"

metric() { # metric METRICS_URL NAME → the sample's value (0 when absent)
  curl -sf "$1" | awk -v n="$2" '$1 == n { printf "%d", $2; found = 1 } END { if (!found) print 0 }'
}
drain() { # drain METRICS_URL: wait (up to 120 s) until Usher's reset queue is empty
  for _ in $(seq 1200); do [ "$(metric "$1" usher_password_reset_queue_depth)" = 0 ] && return 0; sleep 0.1; done
  echo "reset queue did not drain" >&2
}
now_ns() { date +%s%N; }

measure() { # measure SERVER ADDRESSES URL STYLE HEALTH_URL [CLIENT_ID] [METRICS_URL]
  local server=$1 kind=$2 url=$3 style=$4 health=$5 client_id=${6:-} metrics=${7:-}
  local env=(BENCH_STYLE="$style" BENCH_KIND="$kind" BENCH_USERS="$USERS" BENCH_CLIENT_ID="$client_id")
  settle "$health"
  env "${env[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout 10s -s "$here/change_password.lua" "$url" >/dev/null
  [ -n "$metrics" ] && drain "$metrics"
  settle "$health"
  local out before started finished processed
  [ -n "$metrics" ] && before=$(metric "$metrics" usher_password_reset_requests_processed_total)
  started=$(now_ns)
  out=$(env "${env[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s "$here/change_password.lua" "$url")
  echo "$out" > "$work/$server-$kind.wrk"
  local rps p50 p90 p99 non2xx errors done_rate total
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')")
  p90=$(to_ms "$(echo "$out" | awk '$1=="90%" {print $2}')")
  p99=$(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')")
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  errors=$(echo "$out" | awk '/Socket errors/ {sub(/.*Socket errors: /, ""); print}')
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  if [ -n "$metrics" ]; then
    # Usher answers before doing the work; what counts is how fast the work gets done: requests processed
    # (looked up, ticket + email + log written) from the start of the run until the queue is empty again.
    drain "$metrics"
    finished=$(now_ns)
    processed=$(( $(metric "$metrics" usher_password_reset_requests_processed_total) - before ))
    done_rate=$(awk -v n="$processed" -v a="$started" -v b="$finished" 'BEGIN { printf "%.2f", n / ((b - a) / 1e9) }')
  else
    # The peer does the work inside the request: its completed (2xx) requests per second.
    done_rate=$(awk -v r="$rps" -v t="$total" -v bad="${non2xx:-0}" 'BEGIN { printf "%.2f", (t > 0 ? r * (t - bad) / t : 0) }')
  fi
  echo "$server $kind $rps $p50 $p90 $p99 ${non2xx:-0} $done_rate" >> "$results"
  printf "%-22s %-8s %10s %10s %10s %10s %10s %8s %s\n" "$server" "$kind" "$rps" "$done_rate" "$p50" "$p90" "$p99" "${non2xx:-0}" "${errors:+(socket errors: $errors)}"
}

echo "==> $(nproc) cores; wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up); $USERS users per server"
echo "    usher: $usher_bin"
printf "%-22s %-8s %10s %10s %10s %10s %10s %8s\n" "server" "addresses" "answers/s" "done/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx"

# ---- Usher
port=$(free_port)
base="http://127.0.0.1:$port"
USHER_BOOTSTRAP_CLIENT_ID=bench USHER_BOOTSTRAP_CLIENT_SECRET=bench-secret-0123456789 \
USHER_CHANGE_PASSWORD_BURST=1000000000 USHER_MAIL_POLL_INTERVAL_MS=3600000 \
  "$usher_bin" serve --port "$port" --public-url "$base" --database "$work/usher.sqlite" \
  > "$work/usher.log" 2>&1 &
usher_pid=$!
pids+=("$usher_pid")
wait_http "$base/health" "$work/usher.log"
client_id=$(BASE="$base" USERS="$USERS" python3 - <<'PY'
# Seeds USERS users (user<i>@bench.example.com) and one application through the Management API.
import concurrent.futures, json, os, sys, urllib.request
base, users = os.environ["BASE"], int(os.environ["USERS"])
def call(path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
token = call("/oauth/token", {"grant_type": "client_credentials", "client_id": "bench",
                              "client_secret": "bench-secret-0123456789", "audience": base + "/api/v2/"})["access_token"]
app = call("/api/v2/clients", {"name": "Reset bench", "app_type": "regular_web",
                               "callbacks": ["https://app.example.com/callback"]}, token)
def create(i):
    call("/api/v2/users", {"connection": "Username-Password-Authentication", "email": f"user{i}@bench.example.com",
                           "password": f"Bench-{i}-password!", "email_verified": True}, token)
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(create, range(users)))
print(app["client_id"])
PY
)
# Unknown addresses first: a slow known-address run leaves queued work behind that would bleed into the next one.
measure usher unknown "$base/dbconnections/change_password" usher "$base/health" "$client_id" "$base/metrics"
measure usher known "$base/dbconnections/change_password" usher "$base/health" "$client_id" "$base/metrics"
stop_pid "$usher_pid"

# ---- fastapi-users peer (as shipped, then with the SHA-256 fingerprint)
for variant in default sha256; do
  peer_port=$(free_port)
  db="$work/peer-$variant.sqlite"
  (cd "$here" && PEER_DATABASE_URL="sqlite+aiosqlite:///$db" "$venv/bin/python" peer_fastapi_users.py seed "$USERS" >/dev/null)
  (cd "$here" && exec env PEER_DATABASE_URL="sqlite+aiosqlite:///$db" PEER_FINGERPRINT="$variant" \
     "$venv/bin/uvicorn" peer_fastapi_users:app --host 127.0.0.1 --port "$peer_port" --workers "$PEER_WORKERS" \
     --log-level warning --no-access-log) > "$work/peer-$variant.log" 2>&1 &
  peer_pid=$!
  pids+=("$peer_pid")
  wait_http "http://127.0.0.1:$peer_port/health" "$work/peer-$variant.log"
  name="fastapi-users"; [ "$variant" = sha256 ] && name="fastapi-users(sha256)"
  measure "$name" unknown "http://127.0.0.1:$peer_port/auth/forgot-password" peer "http://127.0.0.1:$peer_port/health"
  measure "$name" known "http://127.0.0.1:$peer_port/auth/forgot-password" peer "http://127.0.0.1:$peer_port/health"
  stop_pid "$peer_pid"
done

echo
echo "usher / peer (done/s: requests whose work was completed per second, >1 means usher is faster, target >= 5;"
echo "              p50, p99: <1 means usher answers sooner)"
printf "%-22s %-8s %10s %10s %10s\n" "peer" "addresses" "done/s" "p50" "p99"
awk '
  { key = $1 " " $2; done[key] = $8; p50[key] = $4; p99[key] = $6; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
  END {
    for (i = 0; i < n; i++) {
      peer = order[i]; if (peer == "usher") continue
      split("known unknown", kinds, " ")
      for (k = 1; k <= 2; k++) {
        u = "usher " kinds[k]; p = peer " " kinds[k]
        if (!(u in done) || !(p in done) || done[p] == 0 || p50[p] == 0 || p99[p] == 0) continue
        printf "%-22s %-8s %10.2f %10.2f %10.2f\n", peer, kinds[k], done[u] / done[p], p50[u] / p50[p], p99[u] / p99[p]
      }
    }
  }' "$results"
if awk '$1 == "usher" && $7 > 0 { bad = 1 } END { exit !bad }' "$results"; then
  echo
  echo "note: usher answered some requests 429 (its queue of $((10000)) accepted requests was full): answers/s counts them," \
    "done/s does not." >&2
fi
