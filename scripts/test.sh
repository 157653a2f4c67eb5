#!/usr/bin/env bash
# `make test`: everything the test suites need, then every suite.
#  1. Debian packages (JavaScriptCore, PostgreSQL, aiosmtpd, postfix's smtp-sink, Chromium + chromedriver) and a
#     Python venv (.venv, from tests/e2e/requirements.txt: pytest, requests, auth0-python, selenium, schemathesis)
#  2. a throwaway PostgreSQL cluster and the SMTP test servers, stopped again on exit
#  3. Swift tests (Swift Testing), storage conformance on SQLite and PostgreSQL
#  4. end-to-end tests (pytest) against real `usher` processes with real clients (auth0-python, headless Chromium
#     via Selenium, schemathesis with Auth0's OpenAPI documents); screenshots land in tests/artifacts/
#     (USHER_TEST_ARTIFACTS)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

echo "==> dependencies"
./scripts/install-deps.sh test
# (Re)install the venv when tests/e2e/requirements.txt changes (e.g. selenium for the browser tests).
want_requirements=$(sha256sum tests/e2e/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want_requirements" ] \
   || ! .venv/bin/python -c "import auth0, pytest, requests, selenium, authlib, schemathesis" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
  echo "$want_requirements" > .venv/.requirements.sha256
fi

work=$(mktemp -d /tmp/usher-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  [ -x tests/support/start_smtp_servers.sh ] && tests/support/start_smtp_servers.sh --stop "$work/smtp" >/dev/null 2>&1 || true
  ./scripts/start-postgres.sh --stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> checks"
# The code format is the checked-in .swift-format's (`swift format format -i -r Sources Tests bench/swift/Sources` fixes it).
swift format lint --strict -r Sources Tests bench/swift/Sources
# The built-in password list is exactly what its generator makes from Debian's python3-zxcvbn.
/usr/bin/python3 scripts/generate-password-dictionary.py --check

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
# Screenshots of the browser tests (tests/e2e/test_browser.py) and other artifacts; kept after the run.
export USHER_TEST_ARTIFACTS="${USHER_TEST_ARTIFACTS:-$root/tests/artifacts}"
mkdir -p "$USHER_TEST_ARTIFACTS"
# The Actions API is part of this build: tests that need it must run, never skip.
export USHER_TEST_REQUIRE_ACTIONS=1
echo "artifacts (screenshots): $USHER_TEST_ARTIFACTS"
.venv/bin/python -m pytest tests/e2e -q -rs -p no:cacheprovider || status=1

exit $status
