#!/usr/bin/env bash
# Installs the Debian packages a task needs, only those missing (apt-get update runs at most once).
#   install-deps.sh build   what compiling Usher needs (JavaScriptCore headers for Actions)
#   install-deps.sh test    + PostgreSQL, SMTP test servers, Chromium + driver, python venv, zxcvbn (password list check)
#   install-deps.sh bench   + wrk, postfix tools, ruby-liquid, python3-venv (bench/reset's fastapi-users peer)
set -euo pipefail
profile="${1:-build}"
packages=(libjavascriptcoregtk-4.1-dev pkg-config)
case "$profile" in
  build) ;;
  test) packages+=(postgresql python3-aiosmtpd postfix chromium chromium-driver openssl curl python3-venv python3-zxcvbn) ;;
  bench) packages+=(postgresql python3-aiosmtpd postfix wrk ruby-liquid openssl curl python3-venv) ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
