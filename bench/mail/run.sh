#!/usr/bin/env bash
# SMTP delivery benchmark: UsherMail's pooled client vs postfix's smtp-source, same sink, same message.
#
#   bench/mail/run.sh                      # 10,000 messages, 4 parallel sessions
#   COUNT=20000 SESSIONS=8 ROUNDS=5 bench/mail/run.sh
#   USHER_PACKAGE_DIR=/path/to/package bench/mail/run.sh   # a package with the MailBench product
#
# Starts postfix's smtp-sink on a free loopback port (plain SMTP, PIPELINING, discards messages), builds
# MailBench in release mode, writes the rendered ~4 KB invitation to a file, then delivers COUNT
# messages with MailBench (SESSIONS senders over a pool of SESSIONS connections, rendering every message;
# then again with the message rendered once, which is what smtp-source does with -F)
# and with `smtp-source -s SESSIONS -d -F message` (connections kept open). Both run under
# /usr/bin/time -v for the peak RSS. Runs ROUNDS (default 3) alternating rounds, because a shared machine
# is noisy, and prints the median rates and their ratio. Needs postfix (smtp-sink,
# smtp-source): apt-get install -y postfix.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="${USHER_PACKAGE_DIR:-$(cd "$here/../swift" && pwd)}"
count="${COUNT:-10000}"
sessions="${SESSIONS:-4}"
per_connection="${MAX_PER_CONNECTION:-100}"

for tool in /usr/sbin/smtp-sink /usr/sbin/smtp-source /usr/bin/time /usr/bin/python3; do
    [ -x "$tool" ] || { echo "missing $tool (apt-get install -y postfix time python3)" >&2; exit 1; }
done

echo "== building MailBench (release) in $package"
swift build -c release --product MailBench --package-path "$package" 2>&1 | tail -1
bin="$(swift build -c release --product MailBench --package-path "$package" --show-bin-path)/MailBench"

work="$(mktemp -d /tmp/usher-mailbench.XXXXXX)"
chmod 755 "$work"
sink_pid=""
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
/usr/sbin/smtp-sink "${sink_user[@]}" "127.0.0.1:$port" 1024 >"$work/sink.log" 2>&1 &
sink_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

"$bin" --write-message "$work/message.eml" >/dev/null
size="$(wc -c <"$work/message.eml")"
echo "== smtp-sink on 127.0.0.1:$port; message $size bytes; $count messages; $sessions sessions"

now() { date +%s.%N; }
peak_rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

rounds="${ROUNDS:-3}"
usher_rates=(); pre_rates=(); source_rates=(); usher_rss=0; source_rss=0
for round in $(seq "$rounds"); do
    echo "== round $round/$rounds: UsherMail (MailBench)"
    /usr/bin/time -v "$bin" --port "$port" --count "$count" --senders "$sessions" --connections "$sessions" \
        --max-per-connection "$per_connection" 2>"$work/usher.time" | tee "$work/usher.out"
    usher_rates+=("$(sed -n 's/.* rate=\([0-9]*\) msg\/s.*/\1/p' "$work/usher.out")")
    rss="$(peak_rss "$work/usher.time")"; [ "$rss" -gt "$usher_rss" ] && usher_rss="$rss"

    echo "== round $round/$rounds: UsherMail, message rendered once (transport only, like smtp-source -F)"
    "$bin" --port "$port" --count "$count" --senders "$sessions" --connections "$sessions" \
        --max-per-connection "$per_connection" --pre-rendered | tee "$work/pre.out"
    pre_rates+=("$(sed -n 's/.* rate=\([0-9]*\) msg\/s.*/\1/p' "$work/pre.out")")

    echo "== round $round/$rounds: smtp-source (postfix reference)"
    start="$(now)"
    /usr/bin/time -v /usr/sbin/smtp-source -s "$sessions" -m "$count" -d -F "$work/message.eml" \
        -f noreply@usher.example -t zoe.martin@example.com -M mailbench.usher.example "127.0.0.1:$port" 2>"$work/source.time"
    end="$(now)"
    rate="$(awk -v c="$count" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", c / (e - s) }')"
    source_rates+=("$rate")
    rss="$(peak_rss "$work/source.time")"; [ "$rss" -gt "$source_rss" ] && source_rss="$rss"
    echo "smtp-source: messages=$count seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }') rate=$rate msg/s peak_rss_kb=$rss"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
usher_rate="$(median "${usher_rates[@]}")"
source_rate="$(median "${source_rates[@]}")"
pre_rate="$(median "${pre_rates[@]}")"

echo
echo "== result ($rounds rounds, median; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-14s %10s msg/s   peak RSS %8s KB   (rounds: %s)\n' "UsherMail" "$usher_rate" "$usher_rss" "${usher_rates[*]}"
printf '%-14s %10s msg/s                        (rounds: %s)\n' "  pre-rendered" "$pre_rate" "${pre_rates[*]}"
printf '%-14s %10s msg/s   peak RSS %8s KB   (rounds: %s)\n' "smtp-source" "$source_rate" "$source_rss" "${source_rates[*]}"
ratios=(); pre_ratios=()
for i in "${!usher_rates[@]}"; do
    ratios+=("$(awk -v u="${usher_rates[$i]}" -v s="${source_rates[$i]}" 'BEGIN { printf "%.2f", u / s }')")
    pre_ratios+=("$(awk -v u="${pre_rates[$i]}" -v s="${source_rates[$i]}" 'BEGIN { printf "%.2f", u / s }')")
done
median_real() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "per-round ratios: rendering ${ratios[*]}; transport only ${pre_ratios[*]}"
printf 'median ratio   %s of smtp-source, rendering every message (target >= 0.50)\n' "$(median_real "${ratios[@]}")"
printf 'median ratio   %s of smtp-source, transport only\n' "$(median_real "${pre_ratios[@]}")"

