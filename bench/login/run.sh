#!/usr/bin/env bash
# Login benchmark: how fast Usher signs people in with a password, and how much of a login is the bcrypt hash.
#
#   bench/login/run.sh                                   # builds usher and ActionsBench (release), 10 s per run
#   USHER_BIN=.build/release/usher bench/login/run.sh    # skip the build, use this binary
#   DURATION=20s CONNECTIONS=16 USERS=1000 bench/login/run.sh
#
# One usher (SQLite, --bcrypt-cost $BCRYPT_COST, default 10 = the server's default) seeded through the Management API
# with USERS distinct users and one application allowed the password-realm grant. wrk (login.lua) POSTs Auth0's
# password-realm grant to /oauth/token as JSON, rotating through the users (every password right: brute-force
# counters only count failures). Each scenario is measured twice: 1 connection (latency of one login, no queueing)
# and CONNECTIONS connections (throughput with both cores busy).
#   (a) no Action bound
#   (b) the invitation guide's post-login Action bound (created, deployed and bound through the Management API);
#       skipped with a note while the server has no Actions API (POST /api/v2/actions/actions answers 404)
#   (c) one Action execution by itself: .build/release/ActionsBench --iterations $ACTION_ITERATIONS, when built
#       (ACTIONS_BENCH=path to use another); its pool round trip is what a login pays per Action
#   (d) the reference: one bcrypt verification at the same cost, pyca/bcrypt (PyPI, bench/login/.venv), 1 and 2
#       threads (pyca/bcrypt releases the GIL, so 2 threads = both cores)
# Then the shares: how much of a login is hashing, what the Action adds per login (target < 1 ms at p50), and
# everything else — HTTP, JSON, lookups, the login's write, two RS256 signatures — on top of the hash (target < 10 %).
#
# Needs: wrk, curl, python3 with venv (scripts/install-deps.sh bench).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
USERS=${USERS:-500}
BCRYPT_COST=${BCRYPT_COST:-10}
BCRYPT_SECONDS=${BCRYPT_SECONDS:-6}
ACTION_ITERATIONS=${ACTION_ITERATIONS:-5000}

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh bench)" >&2; exit 1; }
done

build_note="release build"
if [ -n "${USHER_BIN:-}" ]; then
  usher_bin="$USHER_BIN"
  build_note="USHER_BIN (not built here)"
else
  echo "==> swift build -c release --product usher / ActionsBench"
  swift build -c release --product usher >/dev/null
  swift build -c release --product ActionsBench >/dev/null || echo "(ActionsBench did not build; (c) is skipped)"
  usher_bin="$root/.build/release/usher"
fi
[ -x "$usher_bin" ] || { echo "no usher binary at $usher_bin" >&2; exit 1; }
actions_bench="${ACTIONS_BENCH:-$root/.build/release/ActionsBench}"

venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> reference venv: $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

work=$(mktemp -d /tmp/usher-bench-login.XXXXXX)
pids=()
stop_pid() { # stop_pid PID: TERM, wait, KILL
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() { for p in "${pids[@]}"; do stop_pid "$p"; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # wait_http URL LOG
  for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "server at $1 did not come up; log:" >&2; cat "$2" >&2; exit 1
}
to_ms() { # wrk latency (e.g. 812.00us, 3.21ms, 1.20s) -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
settle() { # settle URL: wait (up to 60 s) until the server answers /health quickly five times in a row
  local fast=0
  for _ in $(seq 300); do
    t=$(curl -s -o /dev/null -w '%{time_total}' "$1" || echo 9)
    if awk -v t="$t" 'BEGIN { exit !(t < 0.05) }'; then fast=$((fast + 1)); else fast=0; fi
    [ "$fast" -ge 5 ] && return 0
    sleep 0.2
  done
}

results="$work/results"
: > "$results"
measure() { # measure SCENARIO CONNECTIONS
  local scenario=$1 conns=$2 threads=$THREADS
  [ "$conns" -lt "$threads" ] && threads=$conns
  local env=(BENCH_USERS="$USERS" BENCH_CLIENT_ID="$client_id" BENCH_CLIENT_SECRET="$client_secret")
  settle "$base/health"
  env "${env[@]}" wrk -t"$threads" -c"$conns" -d"$WARMUP" --timeout 30s -s "$here/login.lua" "$base/oauth/token" >/dev/null
  settle "$base/health"
  local out
  out=$(env "${env[@]}" wrk -t"$threads" -c"$conns" -d"$DURATION" --timeout 30s --latency -s "$here/login.lua" "$base/oauth/token")
  echo "$out" > "$work/$scenario-c$conns.wrk"
  local rps p50 p90 p99 non2xx errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')")
  p90=$(to_ms "$(echo "$out" | awk '$1=="90%" {print $2}')")
  p99=$(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')")
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  errors=$(echo "$out" | awk '/Socket errors/ {sub(/.*Socket errors: /, ""); print}')
  echo "$scenario $conns $rps $p50 $p90 $p99 ${non2xx:-0}" >> "$results"
  printf "%-26s %5s %10s %10s %10s %10s %8s %s\n" "$scenario" "$conns" "$rps" "$p50" "$p90" "$p99" "${non2xx:-0}" "${errors:+(socket errors: $errors)}"
}

echo "==> $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); bcrypt cost $BCRYPT_COST; $USERS users"
echo "    usher: $usher_bin ($build_note)"
echo "    wrk: $WARMUP warm-up then $DURATION per run, 1 connection and $CONNECTIONS connections ($THREADS threads)"

# ---- usher, seeded
port=$(free_port)
base="http://127.0.0.1:$port"
USHER_BOOTSTRAP_CLIENT_ID=bench USHER_BOOTSTRAP_CLIENT_SECRET=bench-secret-0123456789 USHER_LOG_LEVEL=warning \
USHER_MAIL_POLL_INTERVAL_MS=3600000 \
  "$usher_bin" serve --port "$port" --public-url "$base" --database "$work/usher.sqlite" --bcrypt-cost "$BCRYPT_COST" \
  > "$work/usher.log" 2>&1 &
usher_pid=$!
pids+=("$usher_pid")
wait_http "$base/health" "$work/usher.log"
echo "==> seeding $USERS users through the Management API (each a cost-$BCRYPT_COST hash)"
seed_started=$(date +%s)
BASE="$base" USERS="$USERS" python3 - > "$work/seed" <<'PY'
# Seeds USERS users (user<i>@bench.example.com / Bench-<i>-password!) and one application with the password-realm grant.
import concurrent.futures, json, os, urllib.request, urllib.error
base, users = os.environ["BASE"], int(os.environ["USERS"])
def call(path, body, token=None, method="POST"):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)
token = call("/oauth/token", {"grant_type": "client_credentials", "client_id": "bench",
                              "client_secret": "bench-secret-0123456789", "audience": base + "/api/v2/"})["access_token"]
app = call("/api/v2/clients", {"name": "Login bench", "app_type": "regular_web", "callbacks": ["https://app.example.com/callback"],
                               "grant_types": ["authorization_code", "refresh_token", "password",
                                               "http://auth0.com/oauth/grant-type/password-realm"]}, token)
def create(i):
    call("/api/v2/users", {"connection": "Username-Password-Authentication", "email": f"user{i}@bench.example.com",
                           "password": f"Bench-{i}-password!", "email_verified": True,
                           "app_metadata": {"needsInvitation": False}}, token)
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    list(pool.map(create, range(users)))
print(app["client_id"], app["client_secret"], token)
PY
read -r client_id client_secret mgmt_token < "$work/seed"
echo "    seeded in $(( $(date +%s) - seed_started )) s"

# One login by hand first: a wrong setup would otherwise measure error answers.
check=$(curl -s -o /dev/null -w '%{http_code}' "$base/oauth/token" -H 'Content-Type: application/json' -d "{\"grant_type\":\"http://auth0.com/oauth/grant-type/password-realm\",\"realm\":\"Username-Password-Authentication\",\"client_id\":\"$client_id\",\"client_secret\":\"$client_secret\",\"username\":\"user0@bench.example.com\",\"password\":\"Bench-0-password!\",\"scope\":\"openid profile email\"}")
[ "$check" = 200 ] || { echo "a password-realm login answers $check; see $work/usher.log" >&2; tail -20 "$work/usher.log" >&2; exit 1; }

echo
printf "%-26s %5s %10s %10s %10s %10s %8s\n" "scenario" "conns" "logins/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx"
measure "(a) no action" 1
measure "(a) no action" "$CONNECTIONS"

# ---- (b) the seed Action bound
action_note=""
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/v2/actions/actions" -H "Authorization: Bearer $mgmt_token" \
  -H 'Content-Type: application/json' -d '{}')
if [ "$status" = 404 ]; then
  action_note="(b) skipped: this usher has no Actions Management API (POST /api/v2/actions/actions answers 404)"
  echo "$action_note"
else
  BASE="$base" TOKEN="$mgmt_token" python3 - <<'PY'
# Creates, deploys and binds the invitation guide's post-login Action (Auth0's Management API for Actions).
import json, os, time, urllib.request
base, token = os.environ["BASE"], os.environ["TOKEN"]
def call(path, body=None, method="POST"):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
        return json.loads(text) if text else {}
code = """exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.needsInvitation) {
    api.user.setAppMetadata("needsInvitation", false);
  }
};
"""
action = call("/api/v2/actions/actions", {"name": "Clear needsInvitation", "code": code, "runtime": "node22",
                                          "supported_triggers": [{"id": "post-login", "version": "v3"}]})
for _ in range(300):
    if call(f"/api/v2/actions/actions/{action['id']}", method="GET").get("status") in (None, "built"):
        break
    time.sleep(0.2)
call(f"/api/v2/actions/actions/{action['id']}/deploy")
call("/api/v2/actions/triggers/post-login/bindings",
     {"bindings": [{"ref": {"type": "action_id", "value": action["id"]}, "display_name": "Clear needsInvitation"}]}, "PATCH")
PY
  measure "(b) seed action bound" 1
  measure "(b) seed action bound" "$CONNECTIONS"
fi
stop_pid "$usher_pid"

# ---- (c) one Action execution by itself
action_p50_us=""
echo
if [ -x "$actions_bench" ]; then
  echo "==> (c) $actions_bench --iterations $ACTION_ITERATIONS"
  "$actions_bench" --iterations "$ACTION_ITERATIONS" --binary "$usher_bin" | tee "$work/actionsbench.txt"
  action_p50_us=$(awk '/pool round trip, 1 in flight/ { for (i = 1; i <= NF; i++) if ($i == "p50") { print $(i+1); exit } }' "$work/actionsbench.txt")
else
  echo "(c) skipped: no ActionsBench at $actions_bench (swift build -c release --product ActionsBench)"
fi

# ---- (d) the bcrypt reference
echo
echo "==> (d) bcrypt reference: pyca/bcrypt $("$venv/bin/python" -c 'import bcrypt; print(bcrypt.__version__)'), cost $BCRYPT_COST, ${BCRYPT_SECONDS} s per measurement"
"$venv/bin/python" "$here/bcrypt_ref.py" "$BCRYPT_COST" "$BCRYPT_SECONDS" > "$work/bcrypt"
printf "%-26s %12s %16s\n" "bcrypt verify" "verifies/s" "ms/verify/thread"
while read -r threads rate ms; do printf "%-26s %12s %16s\n" "$threads thread(s)" "$rate" "$ms"; done < "$work/bcrypt"

# ---- shares
echo
echo "==> shares (cores: $(nproc))"
awk -v cores="$(nproc)" -v conns="$CONNECTIONS" -v action_us="$action_p50_us" -v note="$action_note" '
  FILENAME ~ /bcrypt$/ { rate[$1] = $2; ms[$1] = $3; next }
  {
    # scenario names contain spaces: the last six fields are conns rps p50 p90 p99 non2xx
    c = $(NF-5); key = ($0 ~ /^\(a\)/ ? "a" : "b") "-" (c == 1 ? "1" : "n")
    rps[key] = $(NF-4); p50[key] = $(NF-3); bad[key] = $NF
  }
  END {
    hash1 = ms[1]; hashrate = rate[2]
    if ("a-1" in p50 && p50["a-1"] > 0)
      printf "hashing share of one login (1 connection):   bcrypt %.1f ms of p50 %.1f ms = %.0f %%\n", hash1, p50["a-1"], 100 * hash1 / p50["a-1"]
    if ("a-n" in rps && rps["a-n"] > 0 && hashrate > 0) {
      printf "hashing share at saturation (%d connections): %.1f logins/s vs %.1f bcrypt verifies/s on 2 threads = %.0f %%\n", conns, rps["a-n"], hashrate, 100 * rps["a-n"] / hashrate
      over = 100 * (hashrate / rps["a-n"] - 1)
      printf "everything else on top of the hash:          %+.1f %% per login (target < 10 %%) %s\n", over, (over < 10 ? "OK" : "ABOVE TARGET")
    }
    if ("a-1" in p50 && hash1 > 0)
      printf "  (latency view: p50 %.1f ms - bcrypt %.1f ms = %.1f ms, %+.1f %% on top of the hash)\n", p50["a-1"], hash1, p50["a-1"] - hash1, 100 * (p50["a-1"] - hash1) / hash1
    if ("b-1" in p50) {
      d = p50["b-1"] - p50["a-1"]
      printf "what the Action adds per login (p50, 1 conn): %+.2f ms (target < 1 ms) %s\n", d, (d < 1 ? "OK" : "ABOVE TARGET")
      if (rps["b-n"] > 0 && rps["a-n"] > 0)
        printf "  (throughput view: %.2f core-ms per login: %d cores x (1/%.1f - 1/%.1f))\n", 1000 * cores * (1 / rps["b-n"] - 1 / rps["a-n"]), cores, rps["b-n"], rps["a-n"]
    } else if (note != "") {
      print "what the Action adds per login:               not measured; " note
    }
    if (action_us != "")
      printf "one Action execution by itself (ActionsBench pool round trip p50): %.3f ms (target < 1 ms) %s\n", action_us / 1000, (action_us < 1000 ? "OK" : "ABOVE TARGET")
    for (k in bad) if (bad[k] > 0) printf "WARNING: %s non-2xx answers in run %s: the figures do not measure logins\n", bad[k], k
  }' "$work/bcrypt" "$results"
