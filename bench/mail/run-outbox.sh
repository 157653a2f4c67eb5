#!/usr/bin/env bash
# Outbox + courier benchmark: COUNT messages already in the outbox, delivered by `usher serve`'s courier to
# postfix's smtp-sink; beside it, smtp-source sending the same number of messages to the same sink.
#
#   bench/mail/run-outbox.sh                     # 10,000 messages, 3 rounds
#   COUNT=2000 ROUNDS=1 BUILD=debug bench/mail/run-outbox.sh
#   USHER_BIN=.build/release/usher bench/mail/run-outbox.sh   # skip the build
#   SMTP_QUERY='&pool=8' bench/mail/run-outbox.sh              # more SMTP connections (and courier slots)
#
# Each round: `usher migrate` a fresh SQLite file, insert COUNT queued rows straight into `outbox` (so only
# delivery is timed, not 10,000 HTTP calls), start `usher serve` under /usr/bin/time -v with USHER_SMTP_URL
# pointing at the sink, and time from start-up until no message is queued or sending (polling the database
# read-only every 0.1 s); then smtp-source sends COUNT messages of the same size over SESSIONS (4) connections,
# as many as the courier's SMTP pool. Rounds alternate the two because a shared machine is noisy; the script
# prints every round, the medians and the ratio of the medians (target >= 0.50), with usher's peak RSS.
# Needs postfix, python3, /usr/bin/time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(cd "$here/../.." && pwd)"
count="${COUNT:-10000}"
build="${BUILD:-release}"
sessions="${SESSIONS:-4}"
rounds="${ROUNDS:-3}"

for tool in /usr/sbin/smtp-sink /usr/sbin/smtp-source /usr/bin/time /usr/bin/python3; do
    [ -x "$tool" ] || { echo "missing $tool (apt-get install -y postfix time python3)" >&2; exit 1; }
done

if [ -n "${USHER_BIN:-}" ]; then
    bin="$USHER_BIN"   # an already built usher (skips the build)
else
    echo "== building usher ($build)"
    swift build -c "$build" --product usher --package-path "$package" 2>&1 | tail -1
    bin="$(swift build -c "$build" --product usher --package-path "$package" --show-bin-path)/usher"
fi

work="$(mktemp -d /tmp/usher-outboxbench.XXXXXX)"
chmod 755 "$work"
sink_pid=""; usher_pid=""
cleanup() {
    [ -n "$usher_pid" ] && kill "$usher_pid" 2>/dev/null || true
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
sink_port="$(free_port)"
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
/usr/sbin/smtp-sink "${sink_user[@]}" "127.0.0.1:$sink_port" 1024 >"$work/sink.log" 2>&1 &
sink_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$sink_port") 2>/dev/null && break; sleep 0.1; done
echo "== $count messages per round, $rounds rounds; smtp-sink on 127.0.0.1:$sink_port"

# usher_round N: prints "rate rss_kb cpu_s" and a human line on stderr.
usher_round() {
    local db="$work/usher-$1.sqlite"
    env -u USHER_SMTP_URL "$bin" migrate --database "$db" >/dev/null
    # A ~4 KB invitation-sized HTML body, like bench/mail/run.sh's message.
    /usr/bin/python3 - "$db" "$count" "$work/message.eml" <<'PY'
import sqlite3, sys, time
db, count, eml = sys.argv[1], int(sys.argv[2]), sys.argv[3]
html = "<html><body><h1>You are invited</h1>" + "<p>Ada Lovelace invited you to join Usher. Set your password with the link below.</p>" * 45 + "</body></html>"
text = "You are invited. Set your password with the link in this message.\n" * 30
now = int(time.time() * 1000)
con = sqlite3.connect(db)
con.executemany(
    "INSERT INTO outbox (id, recipient, sender, reply_to, subject, html, text_body, message_id, purpose, status, attempts, last_error,"
    " next_attempt_at, lease_owner, lease_expires_at, created_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [(f"msg_{i:08d}", f"user{i}@example.com", "noreply@usher.example", None, "You are invited to Usher", html, text,
      f"<bench{i}@usher.example>", "bench", "queued", 0, None, now, None, None, now, None) for i in range(count)])
con.commit()
with open(eml, "w") as f:
    f.write("From: noreply@usher.example\r\nTo: zoe.martin@example.com\r\nSubject: You are invited to Usher\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.replace("\n", "\r\n") + "\r\n")
PY
    local port start end
    port="$(free_port)"
    start="$(date +%s.%N)"
    env USHER_SMTP_URL="smtp://127.0.0.1:$sink_port?tls=off${SMTP_QUERY:-}" USHER_MAIL_POLL_INTERVAL_MS=50 USHER_LOG_LEVEL=warning \
        USHER_BOOTSTRAP_CLIENT_ID=bench-admin USHER_BOOTSTRAP_CLIENT_SECRET=bench-admin-secret-0123456789 \
        /usr/bin/time -v "$bin" serve --port "$port" --database "$db" >"${USHER_LOG:-$work/usher.log}" 2>"$work/usher.time" &
    usher_pid=$!
    local left
    while :; do
        left="$(/usr/bin/python3 -c "import sqlite3; c=sqlite3.connect('file:$db?mode=ro', uri=True, timeout=5); print(c.execute(\"SELECT COUNT(*) FROM outbox WHERE status IN ('queued','sending','failed')\").fetchone()[0])" 2>/dev/null || echo "$count")"
        [ "$left" = 0 ] && break
        kill -0 "$usher_pid" 2>/dev/null || { echo "usher exited:" >&2; cat "$work/usher.log" >&2; exit 1; }
        sleep 0.1
    done
    end="$(date +%s.%N)"
    # Stop usher itself (time's child) so /usr/bin/time reports its peak RSS.
    local child
    child="$(pgrep -P "$usher_pid" || true)"
    [ -n "$child" ] && kill -TERM "$child"
    wait "$usher_pid" || true; usher_pid=""
    local sent rss cpu rate
    sent="$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('$db').execute(\"SELECT COUNT(*) FROM outbox WHERE status='sent'\").fetchone()[0])")"
    rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/usher.time")"
    cpu="$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u + s}' "$work/usher.time")"
    rate="$(awk -v c="$sent" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", c / (e - s) }')"
    echo "  usher courier: sent=$sent/$count seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') (includes start-up) rate=$rate msg/s peak_rss_kb=$rss cpu_s=$cpu" >&2
    [ "$sent" = "$count" ] || { echo "usher did not send every message" >&2; exit 1; }
    rm -f "$db" "$db-wal" "$db-shm"
    echo "$rate $rss"
}

# source_round: prints the rate.
source_round() {
    local start end rate
    start="$(date +%s.%N)"
    /usr/bin/time -v /usr/sbin/smtp-source -s "$sessions" -m "$count" -d -F "$work/message.eml" \
        -f noreply@usher.example -t zoe.martin@example.com -M bench.usher.example "127.0.0.1:$sink_port" 2>"$work/source.time"
    end="$(date +%s.%N)"
    rate="$(awk -v c="$count" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", c / (e - s) }')"
    echo "  smtp-source:   messages=$count rate=$rate msg/s peak_rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/source.time")" >&2
    echo "$rate"
}

usher_rates=(); source_rates=(); ratios=(); peak_rss=0
for round in $(seq "$rounds"); do
    echo "round $round (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    # Not in a subshell: usher_pid must stay visible to the cleanup trap.
    usher_round "$round" >"$work/round.out"
    read -r rate rss <"$work/round.out"
    source_round >"$work/round.out"
    srate="$(cat "$work/round.out")"
    usher_rates+=("$rate"); source_rates+=("$srate")
    ratios+=("$(awk -v u="$rate" -v s="$srate" 'BEGIN { printf "%.2f", u / s }')")
    [ "$rss" -gt "$peak_rss" ] && peak_rss="$rss"
    echo "  ratio: ${ratios[-1]}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mu="$(median "${usher_rates[@]}")"; ms="$(median "${source_rates[@]}")"
echo
echo "usher courier  median $mu msg/s   (rounds: ${usher_rates[*]})   peak RSS $peak_rss KB"
echo "smtp-source    median $ms msg/s   (rounds: ${source_rates[*]})"
echo "ratio: $(awk -v u="$mu" -v s="$ms" 'BEGIN { printf "%.2f", u / s }') of smtp-source, medians (per round: ${ratios[*]}; target >= 0.50; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
