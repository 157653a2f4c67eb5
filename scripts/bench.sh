#!/usr/bin/env bash
# `make bench`: every benchmark, release builds, each printing its figures beside a reference measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh bench
echo "==> HTTP: Usher users API vs a bare Hummingbird handler"
bench/http/run.sh
if [ -x bench/mail/run.sh ]; then echo; echo "==> Mail: SMTP client vs postfix smtp-source"; bench/mail/run.sh; fi
if [ -x bench/liquid/run.sh ]; then echo; echo "==> Liquid: UsherLiquid vs Ruby Liquid and python-liquid"; bench/liquid/run.sh; fi
if [ -x bench/reset/run.sh ]; then
  echo; echo "==> Password reset requests: Usher change_password vs fastapi-users forgot-password"
  swift build -c release --product usher >/dev/null
  USHER_BIN=.build/release/usher bench/reset/run.sh
fi
echo; echo "==> Actions: one post-login action execution"
swift build -c release --product usher >/dev/null && swift build -c release --package-path bench/swift --product ActionsBench >/dev/null
bench/swift/.build/release/ActionsBench --iterations 5000 --binary .build/release/usher
if [ -x bench/login/run.sh ]; then
  echo; echo "==> Logins: password-realm throughput (no Action, the seed Action), one Action, the bcrypt reference"
  USHER_BIN=.build/release/usher bench/login/run.sh
fi
