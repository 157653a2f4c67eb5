#!/usr/bin/env bash
# Starts the SMTP servers UsherMail's integration tests talk to, on free loopback ports:
#   * tests/support/smtp_server.py (aiosmtpd): STARTTLS + AUTH PLAIN/LOGIN on one port, implicit TLS on
#     another, messages saved to a Maildir, fault injection by special recipients (see the script's doc);
#   * postfix's smtp-sink: plain SMTP (PIPELINING, no STARTTLS), one file per message.
# Waits until both accept connections, then writes DIR/env (source it with `set -a; . DIR/env; set +a`).
#
# usage: tests/support/start_smtp_servers.sh DIR          start, write DIR/env
#        tests/support/start_smtp_servers.sh --stop DIR   stop what DIR/*.pid names
# Needs: /usr/bin/python3 with python3-aiosmtpd, /usr/sbin/smtp-sink (postfix), openssl.
#   apt-get install -y python3-aiosmtpd postfix openssl
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

stop() {
    local dir="$1"
    for pidfile in "$dir"/*.pid; do
        [ -e "$pidfile" ] || continue
        local pid
        pid="$(cat "$pidfile")"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
}

if [ "${1:-}" = "--stop" ]; then
    [ -n "${2:-}" ] || { echo "usage: $0 --stop DIR" >&2; exit 2; }
    stop "$2"
    exit 0
fi
[ -n "${1:-}" ] || { echo "usage: $0 DIR | --stop DIR" >&2; exit 2; }

dir="$1"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

for tool in /usr/bin/python3 /usr/sbin/smtp-sink openssl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y python3-aiosmtpd postfix openssl)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "python3-aiosmtpd missing for /usr/bin/python3 (apt-get install -y python3-aiosmtpd)" >&2; exit 1; }

stop "$dir"   # a previous run in the same DIR

# Test certificate for "localhost" and 127.0.0.1 (the tests connect to 127.0.0.1 and verify it).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1

user="usher-test"
pass='p@ss w:rd/ü'   # needs percent-encoding in a URL on purpose

rm -rf "$dir/Maildir" "$dir/sink"
mkdir -p "$dir/Maildir/tmp" "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/sink"
chmod 777 "$dir/sink"
# smtp-sink drops to "nobody" as root: it must be able to reach DIR/sink (mktemp -d makes DIR 0700).
[ "$(id -u)" = 0 ] && chmod o+x "$dir"

rm -f "$dir/aiosmtpd.ports"
/usr/bin/python3 "$here/smtp_server.py" --host 127.0.0.1 --port-file "$dir/aiosmtpd.ports" \
    --maildir "$dir/Maildir" --tlscert "$dir/cert.pem" --tlskey "$dir/key.pem" \
    --user "$user" --password "$pass" --size-limit 1048576 \
    >"$dir/aiosmtpd.log" 2>&1 &
echo $! >"$dir/aiosmtpd.pid"

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

sink_port="$(free_port)"
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
# -d: one file per message (strftime template + a random suffix). Backlog 256.
/usr/sbin/smtp-sink "${sink_user[@]}" -d "$dir/sink/%Y%m%d%H%M%S." "127.0.0.1:$sink_port" 256 \
    >"$dir/sink.log" 2>&1 &
echo $! >"$dir/sink.pid"

wait_port() {   # wait_port PORT NAME
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "$2 did not start listening on 127.0.0.1:$1; log:" >&2
    cat "$dir/$2.log" >&2 || true
    stop "$dir"
    exit 1
}

for _ in $(seq 100); do [ -s "$dir/aiosmtpd.ports" ] && break; sleep 0.1; done
if [ ! -s "$dir/aiosmtpd.ports" ]; then
    echo "aiosmtpd did not start; log:" >&2; cat "$dir/aiosmtpd.log" >&2; stop "$dir"; exit 1
fi
read -r tls_port implicit_port <"$dir/aiosmtpd.ports"
wait_port "$tls_port" aiosmtpd
wait_port "$implicit_port" aiosmtpd
wait_port "$sink_port" sink

cat >"$dir/env" <<EOF
USHER_TEST_SMTP_HOST=127.0.0.1
USHER_TEST_SMTP_TLS_PORT=$tls_port
USHER_TEST_SMTP_IMPLICIT_TLS_PORT=$implicit_port
USHER_TEST_SMTP_TLS_MAILDIR=$dir/Maildir
USHER_TEST_SMTP_CA=$dir/cert.pem
USHER_TEST_SMTP_USER=$user
USHER_TEST_SMTP_PASS='$pass'
USHER_TEST_SMTP_SINK_PORT=$sink_port
USHER_TEST_SMTP_SINK_DIR=$dir/sink
USHER_TEST_SMTP_CHECKER=$here/check_message.py
EOF
echo "SMTP test servers up: STARTTLS 127.0.0.1:$tls_port, implicit TLS :$implicit_port, smtp-sink :$sink_port; env in $dir/env"
