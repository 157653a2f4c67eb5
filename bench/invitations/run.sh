#!/usr/bin/env bash
# Invitation benchmark: COUNT invitations created through `POST /api/v2/invitations` in its list form (ROWS per
# request, CLIENTS clients at once) with every email delivered to postfix's smtp-sink, then listing pending
# invitations among LIST_TOTAL. One Usher (release, SQLite, default settings and log level; only the SMTP URL and
# the bootstrap credentials are given), measured in one run beside two references from the same run and server:
#   - bench/reset's known-address figure: `POST /dbconnections/change_password` for seeded users with wrk (its
#     Lua script), as done/s — requests whose ticket, email and log were written per second;
#   - `GET /health` p50, the floor any answer pays on this machine.
#
#   bench/invitations/run.sh                                  # builds usher (release)
#   USHER_BIN=.build/release/usher COUNT=2000 bench/invitations/run.sh
#
# Prints: invitations/s created (all API answers back) and delivered (until the outbox shows COUNT sent, which
# Usher records once smtp-sink said 250), Usher's peak RSS (VmHWM), the reset known-address done/s and the ratio;
# then, with LIST_TOTAL invitations in the table (the COUNT made above plus rows written straight into the SQLite
# file, which is what a list reads), `GET /api/v2/invitations?status=pending&per_page=50` p50/p99 (wrk) beside
# `GET /health`. The issue's target: under 20 ms p50 at 100,000.
# Needs: wrk, curl, python3, postfix (smtp-sink): scripts/install-deps.sh bench; apt-get install -y postfix.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
COUNT=${COUNT:-10000}
ROWS=${ROWS:-100}
CLIENTS=${CLIENTS:-4}
USERS=${USERS:-1000}
LIST_TOTAL=${LIST_TOTAL:-100000}
DURATION=${DURATION:-10s}

for tool in wrk curl python3 /usr/sbin/smtp-sink; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh bench; apt-get install -y postfix)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/usher-bench-invitations.XXXXXX)
chmod 755 "$work"
. "$root/bench/lib.sh"
release_usher

sink_port=$(free_port)
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
/usr/sbin/smtp-sink "${sink_user[@]}" "127.0.0.1:$sink_port" 1024 > "$work/sink.log" 2>&1 &
pids+=($!)

port=$(free_port)
base="http://127.0.0.1:$port"
USHER_BOOTSTRAP_CLIENT_ID=bench USHER_BOOTSTRAP_CLIENT_SECRET=bench-secret-0123456789 \
USHER_SMTP_URL="smtp://127.0.0.1:$sink_port?tls=off" \
  "$usher_bin" serve --port "$port" --public-url "$base" --database "$work/usher.sqlite" > "$work/usher.log" 2>&1 &
usher_pid=$!
pids+=("$usher_pid")
wait_http "$base/health" "$work/usher.log"
echo "==> $(nproc) cores; usher $usher_bin; smtp-sink on $sink_port; $COUNT invitations, $ROWS per request, $CLIENTS clients"

BASE="$base" COUNT="$COUNT" ROWS="$ROWS" CLIENTS="$CLIENTS" USERS="$USERS" python3 - > "$work/create.out" <<'PY'
# Seeds USERS reset users, then creates COUNT invitations and waits until every email is sent; prints key=value lines.
import concurrent.futures, json, os, time, urllib.request
base, count, rows, clients, users = (os.environ["BASE"], int(os.environ["COUNT"]), int(os.environ["ROWS"]),
                                     int(os.environ["CLIENTS"]), int(os.environ["USERS"]))
def call(path, body=None, token=None, method="POST"):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=headers, method=method), timeout=120) as r:
        return json.load(r)
token = call("/oauth/token", {"grant_type": "client_credentials", "client_id": "bench",
                              "client_secret": "bench-secret-0123456789", "audience": base + "/api/v2/"})["access_token"]
app = call("/api/v2/clients", {"name": "Invitation bench", "app_type": "regular_web",
                               "callbacks": ["https://app.example.com/callback"]}, token)
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda i: call("/api/v2/users", {"connection": "Username-Password-Authentication",
                                                   "email": f"user{i}@bench.example.com", "password": f"Bench-{i}-password!",
                                                   "email_verified": True}, token), range(users)))
batches = [[{"invitee": {"email": f"invitee{b * rows + i}@bench.example.com"}, "inviter": {"name": "Bench"}}
            for i in range(min(rows, count - b * rows))] for b in range((count + rows - 1) // rows)]
def post(batch):
    results = call("/api/v2/invitations", batch, token)
    return sum(1 for r in results if r["outcome"] == "created")
started = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(clients) as pool:
    created = sum(pool.map(post, batches))
answered = time.monotonic() - started
while True:
    sent = call("/api/v2/emails/outbox?status=sent&per_page=1&include_totals=true", token=token, method="GET")["total"]
    if sent >= count or time.monotonic() - started > 1800:
        break
    time.sleep(0.2)
delivered = time.monotonic() - started
print(f"created={created}\nsent={sent}\nanswered_s={answered:.2f}\ndelivered_s={delivered:.2f}")
print(f"client_id={app['client_id']}\ntoken={token}")
PY
value() { awk -F= -v k="$1" '$1 == k { print $2 }' "$work/create.out"; }
created=$(value created); sent=$(value sent)
create_rate=$(awk -v n="$created" -v t="$(value answered_s)" 'BEGIN { printf "%.1f", n / t }')
deliver_rate=$(awk -v n="$sent" -v t="$(value delivered_s)" 'BEGIN { printf "%.1f", n / t }')
peak_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$usher_pid/status")
[ "$created" = "$COUNT" ] && [ "$sent" -ge "$COUNT" ] || { echo "only $created created, $sent sent of $COUNT" >&2; exit 1; }

# The reset reference, known addresses, on the same server (its mail goes to the same sink).
metric() { curl -sf "$base/metrics" | awk -v n="$1" '$1 == n { printf "%d", $2; found = 1 } END { if (!found) print 0 }'; }
settle "$base/health"
before=$(metric usher_password_reset_requests_processed_total)
t0=$(date +%s%N)
BENCH_STYLE=usher BENCH_KIND=known BENCH_USERS="$USERS" BENCH_CLIENT_ID="$(value client_id)" \
  wrk -t2 -c16 -d"$DURATION" --timeout 10s -s "$root/bench/reset/change_password.lua" "$base/dbconnections/change_password" > "$work/reset.wrk"
for _ in $(seq 1200); do [ "$(metric usher_password_reset_queue_depth)" = 0 ] && break; sleep 0.1; done
t1=$(date +%s%N)
processed=$(( $(metric usher_password_reset_requests_processed_total) - before ))
reset_rate=$(awk -v n="$processed" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / ((b - a) / 1e9) }')
non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/reset.wrk")

printf "\n%-44s %12s\n" "measure" "value"
printf "%-44s %12s\n" "invitations created/s (API answers)" "$create_rate"
printf "%-44s %12s\n" "invitations delivered/s (to smtp-sink)" "$deliver_rate"
printf "%-44s %12s\n" "usher peak RSS (MB)" "$(awk -v k="$peak_kb" 'BEGIN { printf "%.0f", k / 1024 }')"
printf "%-44s %12s\n" "reference: change_password known done/s" "$reset_rate${non2xx:+ ($non2xx non-2xx)}"
printf "%-44s %12s\n" "ratio delivered invitations / reset done" "$(awk -v a="$deliver_rate" -v b="$reset_rate" 'BEGIN { printf "%.2f", a / b }')"

# Listing: fill the table to LIST_TOTAL rows straight in the file (pending, no email), then read it over HTTP.
DB="$work/usher.sqlite" EXTRA=$((LIST_TOTAL - COUNT)) python3 - <<'PY'
import os, sqlite3, time
extra = int(os.environ["EXTRA"])
db = sqlite3.connect(os.environ["DB"], timeout=60)
now = int(time.time() * 1000)
rows = [(f"uinv_seed{i:011d}", f"auth0|seed{i}", f"seeded{i}@bench.example.com", "Username-Password-Authentication", None, None,
         "Bench", "{}", "{}", "[]", 604800, True, None, None, "pending", now - i, now + 604800000, None, None, 0, None, None)
        for i in range(max(0, extra))]
db.executemany("INSERT INTO invitations (id, user_id, email, connection, connection_id, client_id, inviter_name, app_metadata,"
               " user_metadata, roles, ttl_sec, send_email, locale, result_url, status, created_at, expires_at, accepted_at,"
               " revoked_at, resend_count, ticket_id, outbox_id)"
               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
PY
token=$(value token)
list_url="$base/api/v2/invitations?status=pending&per_page=50"
curl -sf -o /dev/null -H "Authorization: Bearer $token" "$list_url"
cat > "$work/auth.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $token"
EOF
latency() { # latency URL [SCRIPT] -> "p50 p99" in ms
  local out
  out=$(wrk -t2 -c4 -d"$DURATION" --latency ${2:+-s "$2"} "$1")
  echo "$(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')") $(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')")"
}
read -r list_p50 list_p99 <<< "$(latency "$list_url" "$work/auth.lua")"
read -r health_p50 health_p99 <<< "$(latency "$base/health")"
printf "\n%-58s %10s %10s\n" "request ($LIST_TOTAL invitations)" "p50 ms" "p99 ms"
printf "%-58s %10s %10s\n" "GET /api/v2/invitations?status=pending&per_page=50" "$list_p50" "$list_p99"
printf "%-58s %10s %10s\n" "reference: GET /health" "$health_p50" "$health_p99"
