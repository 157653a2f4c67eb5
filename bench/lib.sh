# Shared plumbing for the bench scripts that start servers and drive them with wrk (bench/reset, bench/login).
# Source it after setting `here` (the script's folder) and `work` (a scratch folder, removed on exit).
#   reference_venv          the script's Python reference in $here/.venv from $here/requirements.txt (PyPI), kept
#                           until requirements.txt changes; sets `venv`
#   pids+=(PID)             processes stopped on exit (TERM, then KILL after 10 s)
#   free_port, wait_http URL LOG, to_ms WRK_LATENCY, settle HEALTH_URL, release_usher (sets usher_bin)

reference_venv() {
  venv="$here/.venv"
  local stamp="$venv/.requirements.sha256" want
  want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> reference venv: $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
  fi
}

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
wait_http() { # wait_http URL LOG: up to 60 s for URL to answer 2xx, else print LOG and exit
  for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "server at $1 did not come up; log:" >&2; cat "$2" >&2; exit 1
}
to_ms() { # wrk latency (e.g. 812.00us, 3.21ms, 1.20s) -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
settle() { # settle URL: wait (up to 60 s) until the server answers quickly (< 50 ms) five times in a row, so work
  # queued by a previous run (hashes still being computed after wrk left) does not bleed into the next one
  local fast=0 t
  for _ in $(seq 300); do
    t=$(curl -s -o /dev/null -w '%{time_total}' "$1" || echo 9)
    if awk -v t="$t" 'BEGIN { exit !(t < 0.05) }'; then fast=$((fast + 1)); else fast=0; fi
    [ "$fast" -ge 5 ] && return 0
    sleep 0.2
  done
}

release_usher() { # release_usher: sets usher_bin to $USHER_BIN, or builds Usher (release) in $root and uses that
  if [ -n "${USHER_BIN:-}" ]; then
    usher_bin="$USHER_BIN"
  else
    echo "==> swift build -c release --product usher"
    (cd "$root" && swift build -c release --product usher >/dev/null)
    usher_bin="$root/.build/release/usher"
  fi
  [ -x "$usher_bin" ] || { echo "no usher binary at $usher_bin" >&2; exit 1; }
}
