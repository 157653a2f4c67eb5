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
#   (f) what the Action adds to one login: bench/login/alternate.py logs in over 1 connection in blocks without and
#       with the binding, alternated (ALTERNATE_PAIRS_SLOW pairs of ALTERNATE_BLOCK_SLOW logins), and reports the median
#       of the per-pair p50 differences. Runs seconds apart drift by ±2 ms on this machine; neighbouring blocks do not.
#       Logins start their Actions while the password is verified, so at cost 10 the hash hides the execution;
#       (f) is repeated at --bcrypt-cost $SPLIT_COST, where the hash (≈1.5 ms) is too short to hide it.
#   (c) one Action execution by itself: bench/swift/.build/release/ActionsBench --iterations $ACTION_ITERATIONS, when built
#       (ACTIONS_BENCH=path to use another): its pool round trip back to back, then again with ACTION_PACE_MS of idle
#       time before each execution, as a worker sees between logins (memory gone cold costs 2-3x here)
#   (e) (a) again on a second usher at --bcrypt-cost $SPLIT_COST (default 4; 0 skips): the CPU difference per login is
#       Usher's own bcrypt work (2^cost rounds), so the hash and everything else are separated inside Usher itself
#   (d) the reference: one bcrypt verification at the same cost, pyca/bcrypt (PyPI, bench/login/.venv), 1 and 2
#       threads (pyca/bcrypt releases the GIL, so 2 threads = both cores)
# Then the shares: how much of a login is hashing, what the Action adds per login (target < 1 ms at p50), and
# everything else — HTTP, JSON, lookups, the login's write, two RS256 signatures — on top of the hash (target < 10 %).
# Each is given from CPU time (usher's and its Action workers' user+system time per login, from /proc, against the
# reference's CPU time per verification: meaningful even on a busy machine) and from wall-clock figures (p50 at one
# connection, logins/s at saturation against verifications/s on 2 threads: only meaningful on an idle machine).
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
SPLIT_COST=${SPLIT_COST:-4}
ALTERNATE_BLOCK_SLOW=${ALTERNATE_BLOCK_SLOW:-20}
ALTERNATE_PAIRS_SLOW=${ALTERNATE_PAIRS_SLOW:-40}
ALTERNATE_BLOCK_FAST=${ALTERNATE_BLOCK_FAST:-50}
ALTERNATE_PAIRS_FAST=${ALTERNATE_PAIRS_FAST:-30}
ACTION_PACE_MS=${ACTION_PACE_MS:-8}
ACTION_PACED_ITERATIONS=${ACTION_PACED_ITERATIONS:-1000}

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
  swift build -c release --package-path "$root/bench/swift" --product ActionsBench >/dev/null || echo "(ActionsBench did not build; (c) is skipped)"
  usher_bin="$root/.build/release/usher"
fi
[ -x "$usher_bin" ] || { echo "no usher binary at $usher_bin" >&2; exit 1; }
actions_bench="${ACTIONS_BENCH:-$root/bench/swift/.build/release/ActionsBench}"

work=$(mktemp -d /tmp/usher-bench-login.XXXXXX)
. "$root/bench/lib.sh"
reference_venv

cpu_ticks() { # CPU time (utime+stime, clock ticks) of usher and its child processes (the Actions workers)
  local total=0 pid
  for pid in "$usher_pid" $(pgrep -P "$usher_pid" 2>/dev/null || true); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}
clk_tck=$(getconf CLK_TCK)

results="$work/results"
: > "$results"
measure() { # measure SCENARIO CONNECTIONS
  local scenario=$1 conns=$2 threads=$THREADS
  [ "$conns" -lt "$threads" ] && threads=$conns
  local env=(BENCH_USERS="$USERS" BENCH_CLIENT_ID="$client_id" BENCH_CLIENT_SECRET="$client_secret")
  settle "$base/health"
  env "${env[@]}" wrk -t"$threads" -c"$conns" -d"$WARMUP" --timeout 30s -s "$here/login.lua" "$base/oauth/token" >/dev/null
  settle "$base/health"
  local out cpu_before cpu_after
  cpu_before=$(cpu_ticks)
  out=$(env "${env[@]}" wrk -t"$threads" -c"$conns" -d"$DURATION" --timeout 30s --latency -s "$here/login.lua" "$base/oauth/token")
  cpu_after=$(cpu_ticks)
  echo "$out" > "$work/$scenario-c$conns.wrk"
  local rps p50 p90 p99 non2xx errors requests cpu_ms
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')")
  p90=$(to_ms "$(echo "$out" | awk '$1=="90%" {print $2}')")
  p99=$(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')")
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  errors=$(echo "$out" | awk '/Socket errors/ {sub(/.*Socket errors: /, ""); print}')
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  # server CPU per login: robust to other load on the machine (wall-clock rates are not)
  cpu_ms=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$clk_tck" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? 1000 * t / hz / n : 0) }')
  echo "$scenario $conns $rps $p50 $p90 $p99 $cpu_ms ${non2xx:-0}" >> "$results"
  printf "%-26s %5s %10s %10s %10s %10s %10s %8s %s\n" "$scenario" "$conns" "$rps" "$p50" "$p90" "$p99" "$cpu_ms" "${non2xx:-0}" "${errors:+(socket errors: $errors)}"
}

echo "==> $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); bcrypt cost $BCRYPT_COST; $USERS users"
echo "    usher: $usher_bin ($build_note)"
echo "    wrk: $WARMUP warm-up then $DURATION per run, 1 connection and $CONNECTIONS connections ($THREADS threads)"

# ---- usher, seeded
start_usher() { # start_usher COST: serves on a new port (sets base, usher_pid, client_id, client_secret, mgmt_token)
  local cost=$1
  port=$(free_port)
  base="http://127.0.0.1:$port"
  USHER_BOOTSTRAP_CLIENT_ID=bench USHER_BOOTSTRAP_CLIENT_SECRET=bench-secret-0123456789 \
  USHER_MAIL_POLL_INTERVAL_MS=3600000 \
    "$usher_bin" serve --port "$port" --public-url "$base" --database "$work/usher-$cost.sqlite" --bcrypt-cost "$cost" \
    > "$work/usher-$cost.log" 2>&1 &
  usher_pid=$!
  pids+=("$usher_pid")
  wait_http "$base/health" "$work/usher-$cost.log"
  echo "==> seeding $USERS users through the Management API (each a cost-$cost hash; usher --bcrypt-cost $cost)"
  seed_started=$(date +%s)
  BASE="$base" USERS="$USERS" python3 - > "$work/seed-$cost" <<'PY'
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
  read -r client_id client_secret mgmt_token < "$work/seed-$cost"
  echo "    seeded in $(( $(date +%s) - seed_started )) s"

  # One login by hand first: a wrong setup would otherwise measure error answers.
  check=$(curl -s -o /dev/null -w '%{http_code}' "$base/oauth/token" -H 'Content-Type: application/json' -d "{\"grant_type\":\"http://auth0.com/oauth/grant-type/password-realm\",\"realm\":\"Username-Password-Authentication\",\"client_id\":\"$client_id\",\"client_secret\":\"$client_secret\",\"username\":\"user0@bench.example.com\",\"password\":\"Bench-0-password!\",\"scope\":\"openid profile email\"}")
  [ "$check" = 200 ] || { echo "a password-realm login answers $check; see the log" >&2; tail -20 "$work/usher-$cost.log" >&2; exit 1; }
}
bind_seed_action() { # bind_seed_action on|off: the invitation guide's post-login Action bound to post-login, or no binding
  BIND="$1" BASE="$base" TOKEN="$mgmt_token" python3 - <<'PY'
# Creates and deploys the invitation guide's post-login Action once (Auth0's Management API for Actions), then binds
# it (BIND=on) or clears the post-login bindings (BIND=off).
import json, os, time, urllib.request
base, token, bind = os.environ["BASE"], os.environ["TOKEN"], os.environ["BIND"] == "on"
def call(path, body=None, method="POST"):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
        return json.loads(text) if text else {}
if not bind:
    call("/api/v2/actions/triggers/post-login/bindings", {"bindings": []}, "PATCH")
    raise SystemExit
existing = [a for a in call("/api/v2/actions/actions", method="GET").get("actions", []) if a["name"] == "Clear needsInvitation"]
if existing:
    action = existing[0]
else:
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
print(action["id"])
PY
}
alternate() { # alternate LABEL BLOCK PAIRS: logins in alternating blocks without / with the Action (alternate.py), 1 connection
  local label=$1 out
  out=$(BASE="$base" TOKEN="$mgmt_token" ACTION_ID="$action_id" CLIENT_ID="$client_id" CLIENT_SECRET="$client_secret" USERS="$USERS" \
    BLOCK="$2" PAIRS="$3" python3 "$here/alternate.py")
  echo "$label $out" >> "$work/alternated"
  read -r pairs logins without with difference low high <<< "$out"
  printf "%-26s %6s pairs of %3s-login blocks   p50 without %7s ms   with %7s ms   difference (median of pairs) %+.2f ms (95 %% CI %+.2f to %+.2f)\n" \
    "$label" "$pairs" "$2" "$without" "$with" "$difference" "$low" "$high"
}

start_usher "$BCRYPT_COST"

echo
printf "%-26s %5s %10s %10s %10s %10s %10s %8s\n" "scenario" "conns" "logins/s" "p50 ms" "p90 ms" "p99 ms" "CPU ms" "non-2xx"
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
  action_id=$(bind_seed_action on)
  measure "(b) seed action bound" 1
  measure "(b) seed action bound" "$CONNECTIONS"
  # (f) what the Action adds to one login, measured where drift cannot pass for it: blocks of logins without and with
  # the binding, alternated within a fraction of a second to a few seconds (bench/login/alternate.py).
  alternate "(f) cost $BCRYPT_COST alternated" "$ALTERNATE_BLOCK_SLOW" "$ALTERNATE_PAIRS_SLOW"
fi
stop_pid "$usher_pid"

# ---- (e) the same logins on a server at --bcrypt-cost $SPLIT_COST: the CPU difference is Usher's own bcrypt work
# (cost c costs 2^c rounds), which separates the hash from everything else inside Usher itself.
if [ "$SPLIT_COST" != 0 ]; then
  start_usher "$SPLIT_COST"
  measure "(e) bcrypt cost $SPLIT_COST" "$CONNECTIONS"
  # (f) again where the hash is short: at cost $SPLIT_COST a login takes a few milliseconds and the hash (about 1.5 ms)
  # can no longer hide the Action, which runs while the password is verified.
  if [ -z "$action_note" ]; then
    action_id=$(bind_seed_action on)
    alternate "(f) cost $SPLIT_COST alternated" "$ALTERNATE_BLOCK_FAST" "$ALTERNATE_PAIRS_FAST"
  fi
  stop_pid "$usher_pid"
fi

# ---- (c) one Action execution by itself
action_p50_us=""
echo
if [ -x "$actions_bench" ]; then
  echo "==> (c) $actions_bench --iterations $ACTION_ITERATIONS"
  "$actions_bench" --iterations "$ACTION_ITERATIONS" --binary "$usher_bin" | tee "$work/actionsbench.txt"
  action_p50_us=$(awk '/pool round trip, 1 in flight/ { for (i = 1; i <= NF; i++) if ($i == "p50") { print $(i+1); exit } }' "$work/actionsbench.txt")
  # The same with the idle time a login leaves between two executions of one worker: what an execution costs cold.
  echo "==> (c) paced: $actions_bench --iterations $ACTION_PACED_ITERATIONS --pace-ms $ACTION_PACE_MS"
  "$actions_bench" --iterations "$ACTION_PACED_ITERATIONS" --pace-ms "$ACTION_PACE_MS" --binary "$usher_bin" \
    | grep -v "in flight  " | grep -v "throughput" | tee "$work/actionsbench-paced.txt"
  action_paced_p50_us=$(awk '/pool round trip, 1 in flight/ { for (i = 1; i <= NF; i++) if ($i == "p50") { print $(i+1); exit } }' "$work/actionsbench-paced.txt")
else
  echo "(c) skipped: no ActionsBench at $actions_bench (swift build -c release --package-path bench/swift --product ActionsBench)"
fi

# ---- (d) the bcrypt reference
echo
echo "==> (d) bcrypt reference: pyca/bcrypt $("$venv/bin/python" -c 'import bcrypt; print(bcrypt.__version__)'), cost $BCRYPT_COST, ${BCRYPT_SECONDS} s per measurement"
"$venv/bin/python" "$here/bcrypt_ref.py" "$BCRYPT_COST" "$BCRYPT_SECONDS" > "$work/bcrypt"
printf "%-26s %12s %18s %14s\n" "bcrypt verify" "verifies/s" "wall ms/verify" "CPU ms/verify"
while read -r threads rate ms cpu; do printf "%-26s %12s %18s %14s\n" "$threads thread(s)" "$rate" "$ms" "$cpu"; done < "$work/bcrypt"

# ---- shares
echo
echo "==> shares (cores: $(nproc))"
: >> "$work/alternated"
awk -v cores="$(nproc)" -v conns="$CONNECTIONS" -v cost="$BCRYPT_COST" -v splitcost="$SPLIT_COST" -v action_us="$action_p50_us" \
    -v action_paced_us="${action_paced_p50_us:-}" -v pace="$ACTION_PACE_MS" -v note="$action_note" '
  FILENAME ~ /bcrypt$/ { rate[$1] = $2; ms[$1] = $3; cpu[$1] = $4; next }
  FILENAME ~ /alternated$/ {
    # "(f) cost C alternated" then: pairs logins p50-without p50-with median-difference ci-low ci-high
    if (NF >= 7) { c = $3; apairs[c] = $(NF-6); awithout[c] = $(NF-4); awith[c] = $(NF-3); adiff[c] = $(NF-2); alow[c] = $(NF-1); ahigh[c] = $NF }
    next
  }
  {
    # scenario names contain spaces: the last seven fields are conns rps p50 p90 p99 cpu non2xx
    c = $(NF-6); key = substr($1, 2, 1) "-" (c == 1 ? "1" : "n")
    rps[key] = $(NF-5); p50[key] = $(NF-4); lcpu[key] = $(NF-1); bad[key] = $NF
  }
  function pct(x) { return sprintf("%+.1f %%", 100 * x) }
  END {
    hash1 = ms[1]; hashcpu = cpu[1]; hashrate = rate[2]
    print "CPU time (independent of other load on the machine):"
    if (lcpu["a-n"] > 0 && hashcpu > 0) {
      printf "  hashing share (reference hash):     bcrypt %.1f ms of %.1f ms server CPU per login = %.0f %%\n", hashcpu, lcpu["a-n"], 100 * hashcpu / lcpu["a-n"]
      over = lcpu["a-n"] / hashcpu - 1
      printf "  login minus the reference hash:     %.1f ms = %s on top of it (target < 10 %%) %s\n", lcpu["a-n"] - hashcpu, pct(over), (over < 0.10 ? "OK" : "ABOVE TARGET")
    }
    if (lcpu["e-n"] > 0 && lcpu["a-n"] > 0) {
      own = (lcpu["a-n"] - lcpu["e-n"]) / (1 - 2 ^ (splitcost - cost)); rest = lcpu["a-n"] - own
      printf "  Usher'"'"'s own bcrypt (cost %d vs %d):  %.1f ms per login (reference %.1f ms); everything else %.1f ms = %s on top of the hash (target < 10 %%) %s\n", cost, splitcost, own, hashcpu, rest, pct(rest / own), (rest / own < 0.10 ? "OK" : "ABOVE TARGET")
    }
    if (lcpu["b-n"] > 0 && lcpu["a-n"] > 0)
      printf "  what the Action adds per login:     %+.2f ms CPU (usher and its Action workers)\n", lcpu["b-n"] - lcpu["a-n"]
    print "wall clock:"
    if (p50["a-1"] > 0)
      printf "  one login alone (1 connection):     p50 %.1f ms, bcrypt %.1f ms of it = %.0f %% (%.1f ms, %s on top)\n", p50["a-1"], hash1, 100 * hash1 / p50["a-1"], p50["a-1"] - hash1, pct((p50["a-1"] - hash1) / hash1)
    if (rps["a-n"] > 0 && hashrate > 0)
      printf "  at saturation (%d connections):      %.1f logins/s vs %.1f bcrypt verifies/s on 2 threads = %.0f %% (%s on top)\n", conns, rps["a-n"], hashrate, 100 * rps["a-n"] / hashrate, pct(hashrate / rps["a-n"] - 1)
    if ("b-1" in p50)
      printf "  (b) minus (a), 1 connection:        p50 %+.2f ms (two runs minutes apart: drift of ±2 ms, see (f))\n", p50["b-1"] - p50["a-1"]
    if (cost in adiff) {
      d = adiff[cost]
      printf "  what the Action adds per login:     p50 %+.2f ms at bcrypt cost %d (95 %% CI %+.2f to %+.2f; median over %d alternated pairs of blocks; target < 1 ms) %s\n", d, cost, alow[cost], ahigh[cost], apairs[cost], (d < 1 ? "OK" : "ABOVE TARGET")
    } else if (note != "") {
      print "what the Action adds per login: not measured; " note
    }
    if (splitcost in adiff)
      printf "  the same at bcrypt cost %d:          p50 %+.2f ms (95 %% CI %+.2f to %+.2f): the 1.5 ms hash no longer hides the execution, and both cores are busy\n", splitcost, adiff[splitcost], alow[splitcost], ahigh[splitcost]
    if (action_us != "")
      printf "one Action execution by itself (ActionsBench pool round trip p50): %.3f ms back to back (target < 1 ms) %s", action_us / 1000, (action_us < 1000 ? "OK" : "ABOVE TARGET")
    if (action_paced_us != "")
      printf "; %.3f ms with %d ms idle before each, as between logins", action_paced_us / 1000, pace
    if (action_us != "") printf "\n"
    for (k in bad) if (bad[k] > 0) printf "WARNING: %s non-2xx answers in run %s: the figures do not measure logins\n", bad[k], k
  }' "$work/bcrypt" "$work/alternated" "$results"
