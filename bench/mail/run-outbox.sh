#!/usr/bin/env bash
# Outbox + courier benchmark: COUNT messages already in the outbox, delivered by `usher serve`'s courier to
# postfix's smtp-sink; beside it, smtp-source sending the same number of messages to the same sink.
#
#   bench/mail/run-outbox.sh                     # 10,000 messages, 3 rounds
#   COUNT=2000 ROUNDS=1 BUILD=debug bench/mail/run-outbox.sh
#   USHER_BIN=.build/release/usher bench/mail/run-outbox.sh   # skip the build
#   SMTP_QUERY='&pool=8' bench/mail/run-outbox.sh              # more SMTP connections (and courier slots)
#
# Each round: `usher migrate` a fresh SQLite file, insert COUNT queued rows straight into the outbox (so only
# delivery is timed, not 10,000 HTTP calls), start `usher serve` under /usr/bin/time -v with USHER_SMTP_URL
# pointing at the sink. What is timed: from the courier's first claim committing (the first row leaving `queued`)
# until no message is queued, sending or failed (the last one recorded sent), both seen by one read-only watcher
# polling the database every 5 ms. Start-up before the first claim (migration check, keys, the Actions worker
# pool, ...) is printed separately, with the rate including it. Then smtp-source sends COUNT messages of the same
# shape and size (multipart text + quoted-printable HTML, ~6.6 KB) over SESSIONS (4) connections kept open, as
# many as the courier's SMTP pool. Rounds alternate the two because a shared machine is noisy; the script prints
# every round, the medians and the ratio of the medians (target >= 0.50), with usher's peak RSS and CPU time.
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
    # A ~4 KB invitation-sized HTML body and a ~2 KB text body.
    /usr/bin/python3 - "$db" "$count" "$work/message.eml" <<'PY'
import sqlite3, sys, time
db, count, eml = sys.argv[1], int(sys.argv[2]), sys.argv[3]
html = "<html><body><h1>You are invited</h1>" + "<p>Ada Lovelace invited you to join Usher. Set your password with the link below.</p>" * 45 + "</body></html>"
text = "You are invited. Set your password with the link in this message.\n" * 30
now = int(time.time() * 1000)
con = sqlite3.connect(db)
ids = [f"msg_{i:08d}" for i in range(count)]
meta = [(ids[i], f"user{i}@example.com", "noreply@usher.example", None, "You are invited to Usher", f"<bench{i}@usher.example>",
         "bench", "queued", 0, None, now, None, None, now, None) for i in range(count)]
columns = "id, recipient, sender, reply_to, subject, message_id, purpose, status, attempts, last_error, next_attempt_at, lease_owner, lease_expires_at, created_at, sent_at"
if con.execute("SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'html'").fetchone()[0]:
    # Before migration 6 (an older usher, for A/B runs) the bodies were outbox columns.
    con.executemany(f"INSERT INTO outbox ({columns}, html, text_body) VALUES ({', '.join('?' * 17)})", [m + (html, text) for m in meta])
else:
    con.executemany(f"INSERT INTO outbox ({columns}) VALUES ({', '.join('?' * 15)})", meta)
    con.executemany("INSERT INTO outbox_body (outbox_id, html, text_body) VALUES (?, ?, ?)", [(i, html, text) for i in ids])
con.commit()
# smtp-source's message has the shape and size of usher's: multipart/alternative, the text part as is and the
# HTML (one line longer than SMTP allows) quoted-printable, with Date and Message-ID (about 6.6 KB). It used to be
# the HTML alone (about 4 KB), a third less to send than what the courier sends.
from email import policy
from email.message import EmailMessage
message = EmailMessage(policy=policy.SMTP)
message["From"], message["To"], message["Subject"] = "noreply@usher.example", "zoe.martin@example.com", "You are invited to Usher"
message["Date"], message["Message-ID"] = "Wed, 25 Nov 2026 06:00:00 +0000", "<bench@usher.example>"
message.set_content(text, cte="7bit")
message.add_alternative(html, subtype="html", cte="quoted-printable")
with open(eml, "wb") as f:
    f.write(message.as_bytes())
PY
    local port start
    port="$(free_port)"
    start="$(date +%s.%N)"
    env USHER_SMTP_URL="smtp://127.0.0.1:$sink_port?tls=off${SMTP_QUERY:-}" USHER_MAIL_POLL_INTERVAL_MS=50 USHER_LOG_LEVEL=warning \
        USHER_BOOTSTRAP_CLIENT_ID=bench-admin USHER_BOOTSTRAP_CLIENT_SECRET=bench-admin-secret-0123456789 \
        /usr/bin/time -v "$bin" serve --port "$port" --database "$db" >"${USHER_LOG:-$work/usher.log}" 2>"$work/usher.time" &
    usher_pid=$!
    # One long-lived watcher (not a python3 start-up per poll, which cost the machine CPU while usher ran): every
    # 5 ms one indexed read-only EXISTS query. It prints when it first saw a claimed row (the courier's first claim
    # committed) and when it first saw no queued, sending or failed row (the last message recorded sent).
    if ! /usr/bin/python3 - "$db" "$usher_pid" >"$work/watch.out" <<'PY'
import os, sqlite3, sys, time
db, pid = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
claimed = "SELECT EXISTS(SELECT 1 FROM outbox WHERE status IN ('sending', 'sent', 'failed', 'abandoned'))"
left = "SELECT EXISTS(SELECT 1 FROM outbox WHERE status IN ('queued', 'sending', 'failed'))"
if con.execute(claimed).fetchone()[0]:
    sys.exit("the courier claimed before the watcher started: cannot time it")
first = None
while True:
    now = time.time()
    if first is None and con.execute(claimed).fetchone()[0]:
        first = now
    if first is not None and not con.execute(left).fetchone()[0]:
        print(f"{first:.6f} {time.time():.6f}")
        break
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("usher exited")
    time.sleep(0.005)
PY
    then
        echo "usher exited or could not be timed:" >&2; cat "$work/usher.log" >&2; exit 1
    fi
    local claim end
    read -r claim end <"$work/watch.out"
    # Stop usher itself (time's child) so /usr/bin/time reports its peak RSS.
    local child
    child="$(pgrep -P "$usher_pid" || true)"
    [ -n "$child" ] && kill -TERM "$child"
    wait "$usher_pid" || true; usher_pid=""
    local sent rss cpu rate startup overall
    sent="$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('$db').execute(\"SELECT COUNT(*) FROM outbox WHERE status='sent'\").fetchone()[0])")"
    rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/usher.time")"
    cpu="$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u + s}' "$work/usher.time")"
    rate="$(awk -v c="$sent" -v s="$claim" -v e="$end" 'BEGIN { printf "%.0f", c / (e - s) }')"
    overall="$(awk -v c="$sent" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", c / (e - s) }')"
    startup="$(awk -v s="$start" -v c="$claim" 'BEGIN { printf "%.2f", c - s }')"
    echo "  usher courier: sent=$sent/$count seconds=$(awk -v s="$claim" -v e="$end" 'BEGIN { printf "%.2f", e - s }') (first claim to last recorded sent)" \
        "rate=$rate msg/s; start-up before the first claim ${startup} s; with start-up $overall msg/s; peak_rss_kb=$rss cpu_s=$cpu (whole process)" >&2
    [ "$sent" = "$count" ] || { echo "usher did not send every message" >&2; exit 1; }
    rm -f "$db" "$db-wal" "$db-shm"
    echo "$rate $rss $overall $startup"
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

usher_rates=(); source_rates=(); ratios=(); overall_rates=(); startups=(); peak_rss=0
for round in $(seq "$rounds"); do
    echo "round $round (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    # Not in a subshell: usher_pid must stay visible to the cleanup trap.
    usher_round "$round" >"$work/round.out"
    read -r rate rss overall startup <"$work/round.out"
    source_round >"$work/round.out"
    srate="$(cat "$work/round.out")"
    usher_rates+=("$rate"); source_rates+=("$srate"); overall_rates+=("$overall"); startups+=("$startup")
    ratios+=("$(awk -v u="$rate" -v s="$srate" 'BEGIN { printf "%.2f", u / s }')")
    [ "$rss" -gt "$peak_rss" ] && peak_rss="$rss"
    echo "  ratio: ${ratios[-1]}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mu="$(median "${usher_rates[@]}")"; ms="$(median "${source_rates[@]}")"; mo="$(median "${overall_rates[@]}")"
echo
echo "usher courier  median $mu msg/s   (rounds: ${usher_rates[*]})   peak RSS $peak_rss KB   [timed from the courier's first claim]"
echo "  with start-up median $mo msg/s (rounds: ${overall_rates[*]}); start-up before the first claim, s: ${startups[*]}"
echo "smtp-source    median $ms msg/s   (rounds: ${source_rates[*]})"
echo "ratio: $(awk -v u="$mu" -v s="$ms" 'BEGIN { printf "%.2f", u / s }') of smtp-source, medians (per round: ${ratios[*]}; target >= 0.50;" \
    "with usher's start-up: $(awk -v u="$mo" -v s="$ms" 'BEGIN { printf "%.2f", u / s }'); load average: $(cut -d' ' -f1-3 /proc/loadavg))"
