#!/usr/bin/env bash
# HTTP benchmark for the foundation issue: Usher's GET /api/v2/users/{id} and POST /api/v2/users against a bare
# Hummingbird handler returning a fixed JSON body, all release builds, driven by wrk on loopback in one run.
# Prints requests/s and p99 side by side with ratios. DURATION, CONNECTIONS, THREADS tune the load.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
usher_bin=${USHER_BIN:-}   # an already built usher (e.g. an older one to compare); else build it
[ -n "$usher_bin" ] || { swift build -c release --product usher >/dev/null; usher_bin=.build/release/usher; }
bare_bin=${BARE_BIN:-}
[ -n "$bare_bin" ] || { swift build -c release --package-path bench/swift --product BareHummingbirdBench >/dev/null; bare_bin=bench/swift/.build/release/BareHummingbirdBench; }
work=$(mktemp -d /tmp/usher-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

port=18180; bare_port=18181
USHER_BOOTSTRAP_CLIENT_ID=bench USHER_BOOTSTRAP_CLIENT_SECRET=bench-secret-0123456789 \
  "$usher_bin" serve --port $port --database "$work/usher.sqlite" > "$work/usher.log" 2>&1 &
pids+=($!)
"$bare_bin" $bare_port > "$work/bare.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && curl -sf http://127.0.0.1:$bare_port/api/v2/users/x >/dev/null && break; sleep 0.2; done

token=$(curl -sf http://127.0.0.1:$port/oauth/token -d grant_type=client_credentials -d client_id=bench \
  -d client_secret=bench-secret-0123456789 -d audience=http://127.0.0.1:$port/api/v2/ | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
user_id=$(curl -sf http://127.0.0.1:$port/api/v2/users -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"connection":"Username-Password-Authentication","email":"bench@example.com","app_metadata":{"needsInvitation":true}}' \
  | sed -E 's/.*"user_id":"([^"]+)".*/\1/')
encoded=${user_id//|/%7C}

run() { # name url [wrk args…] → "name rps p99"
  local name=$1 url=$2; shift 2
  local out; out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf "%-34s %12s %10s %s\n" "$name" "$rps" "$p99" "${non2xx:+(non-2xx: $non2xx)}"
  echo "$rps" > "$work/$name.rps"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores; release builds"
printf "%-34s %12s %10s\n" "endpoint" "requests/s" "p99"
# The bare handler gets the same request, bearer token included (it ignores it), so that the ratio is what Usher
# does with a request and not what parsing an 800-byte header costs.
run bare-fixed-json "http://127.0.0.1:$bare_port/api/v2/users/$encoded" -H "Authorization: Bearer $token"
run bare-no-auth-header "http://127.0.0.1:$bare_port/api/v2/users/$encoded"
run usher-get-user "http://127.0.0.1:$port/api/v2/users/$encoded" -H "Authorization: Bearer $token"
USHER_BENCH_TOKEN=$token USHER_BENCH_PREFIX="p$RANDOM" run usher-post-user "http://127.0.0.1:$port/api/v2/users" -s bench/http/post_user.lua
ratio() { awk -v a="$(cat "$work/$1.rps")" -v b="$(cat "$work/$2.rps")" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "GET user / bare handler:  $(ratio usher-get-user bare-fixed-json)   (target >= 0.50; same request)"
echo "GET user / bare handler, its request without the token header: $(ratio usher-get-user bare-no-auth-header)"
echo "POST user / bare handler: $(ratio usher-post-user bare-fixed-json)   (bounded by SQLite writes)"
