#!/usr/bin/env bash
# `make test`: everything the test suites need, then every suite.
#  1. Debian packages (JavaScriptCore, PostgreSQL, aiosmtpd, postfix's smtp-sink, Chromium) and a Python venv
#  2. a throwaway PostgreSQL cluster and the SMTP test servers, stopped again on exit
#  3. Swift tests (Swift Testing), storage conformance on SQLite and PostgreSQL
#  4. end-to-end tests (pytest) against real `usher` processes with real clients (auth0-python …)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

echo "==> dependencies"
./scripts/install-deps.sh test
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import auth0, pytest, requests" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
fi

work=$(mktemp -d /tmp/usher-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  [ -x tests/support/start_smtp_servers.sh ] && tests/support/start_smtp_servers.sh --stop "$work/smtp" >/dev/null 2>&1 || true
  ./scripts/start-postgres.sh --stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> services"
pg_port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export USHER_TEST_POSTGRES_URL=$(./scripts/start-postgres.sh "$work/pg" "$pg_port")
echo "PostgreSQL: $USHER_TEST_POSTGRES_URL"
if [ -x tests/support/start_smtp_servers.sh ]; then
  mkdir -p "$work/smtp"
  tests/support/start_smtp_servers.sh "$work/smtp"
  set -a; . "$work/smtp/env"; set +a
fi

echo "==> swift build"
swift build --build-tests

status=0
echo "==> swift test"
swift test --skip-build --disable-xctest 2>&1 | tee "$work/swift-test.log" || status=1

echo "==> end-to-end (pytest)"
export USHER_BINARY="$root/.build/debug/usher"
export USHER_TEST_ARTIFACTS="$root/artifacts"
mkdir -p "$USHER_TEST_ARTIFACTS"
.venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider || status=1

exit $status
