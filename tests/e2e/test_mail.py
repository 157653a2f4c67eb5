"""End-to-end mail: a real `usher serve` delivers through the courier to a real SMTP server (aiosmtpd with
STARTTLS + AUTH and fault injection, see tests/support/smtp_server.py), including faults: the SMTP server
down at enqueue time, 451 deferrals, 550 rejections, and `kill -9` of usher in the middle of a send.

Courier timings are shortened through USHER_MAIL_POLL_INTERVAL_MS, USHER_MAIL_BACKOFF_BASE_MS and
USHER_MAIL_LEASE_MS so the faults resolve in seconds.
"""
import email
import email.policy
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

from conftest import ADMIN_ID, ADMIN_SECRET, BACKENDS, BINARY, ROOT, free_port, postgres_database, start_usher
from reset_support import wait_until

SMTP_SCRIPT = ROOT / "tests" / "support" / "start_smtp_servers.sh"
FAST = {"USHER_MAIL_POLL_INTERVAL_MS": "100", "USHER_MAIL_BACKOFF_BASE_MS": "300", "USHER_MAIL_LEASE_MS": "3000"}

pytestmark = pytest.mark.skipif(
    not (Path("/usr/sbin/smtp-sink").exists() and subprocess.run(
        ["/usr/bin/python3", "-c", "import aiosmtpd"], capture_output=True).returncode == 0),
    reason="needs python3-aiosmtpd and postfix's smtp-sink (apt-get install -y python3-aiosmtpd postfix)")


@pytest.fixture(scope="module")
def smtp():
    """The SMTP test servers, started once for this module in their own directory."""
    directory = tempfile.mkdtemp(prefix="usher-e2e-smtp-")
    subprocess.run([str(SMTP_SCRIPT), directory], check=True, capture_output=True)
    env = {}
    for line in Path(directory, "env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value.strip("'")
    yield env
    subprocess.run([str(SMTP_SCRIPT), "--stop", directory], capture_output=True)
    shutil.rmtree(directory, ignore_errors=True)


def smtp_url(env, port=None):
    user = urllib.parse.quote(env["USHER_TEST_SMTP_USER"], safe="")
    password = urllib.parse.quote(env["USHER_TEST_SMTP_PASS"], safe="")
    port = port or env["USHER_TEST_SMTP_TLS_PORT"]
    query = urllib.parse.urlencode({"tls": "starttls", "ca_file": env["USHER_TEST_SMTP_CA"], "connect_timeout": "2"})
    return f"smtp://{user}:{password}@127.0.0.1:{port}?{query}"


def token(usher):
    r = usher.session().post(usher.base_url + "/oauth/token", data={
        "grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET, "audience": usher.audience})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def send_test(usher, headers, to):
    r = usher.session().post(usher.base_url + "/api/v2/emails/provider/test", json={"to": to}, headers=headers)
    assert r.status_code == 202, r.text
    return r.json()


def delivered(maildir, recipient):
    """Parsed messages in the Maildir whose envelope recipient is `recipient`."""
    found = []
    for path in Path(maildir, "new").glob("*"):
        raw = path.read_bytes()
        if f"<{recipient}>".encode() in raw.split(b"\r\n\r\n", 1)[0] or f"<{recipient}>".encode() in raw.split(b"\n\n", 1)[0]:
            found.append(email.message_from_bytes(raw, policy=email.policy.default))
    return found


def outbox(usher, headers, message_id):
    r = usher.session().get(usher.base_url + f"/api/v2/emails/outbox/{message_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def start(tmp_path, env, **kwargs):
    return start_usher(tmp_path, tls=False, extra_env={**FAST, "USHER_SMTP_URL": smtp_url(env)} | kwargs.pop("extra", {}), **kwargs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_test_email_is_delivered_with_both_parts(smtp, tmp_path, backend):
    usher = start(tmp_path, smtp, database=postgres_database() if backend == "postgres" else None)
    try:
        headers = token(usher)
        to = f"ada-{uuid.uuid4().hex[:8]}@example.com"
        queued = send_test(usher, headers, to)
        messages = wait_until(lambda: delivered(smtp["USHER_TEST_SMTP_TLS_MAILDIR"], to), what="delivery")
        wait_until(lambda: outbox(usher, headers, queued["id"])["status"] == "sent", what="status sent")
        time.sleep(0.5)
        assert len(delivered(smtp["USHER_TEST_SMTP_TLS_MAILDIR"], to)) == 1
        message = messages[0]
        assert message["Subject"] == "Usher test email ✓ Grüße"
        assert message["Message-ID"] == queued["message_id"]
        assert message["X-Usher-TLS"] == "yes"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Grüße ✓" in text and "<h1>Usher test email</h1>" in html
        # The log never shows the SMTP password.
        assert smtp["USHER_TEST_SMTP_PASS"] not in usher.log()
        assert urllib.parse.quote(smtp["USHER_TEST_SMTP_PASS"], safe="") not in usher.log()
    finally:
        usher.stop()


def test_provider_api_never_returns_the_password(smtp, tmp_path):
    usher = start_usher(tmp_path, tls=False, extra_env=FAST)
    try:
        headers = token(usher)
        base = usher.base_url + "/api/v2/emails/provider"
        body = {"name": "smtp", "default_from_address": "no-reply@example.com", "credentials": {
            "smtp_host": "127.0.0.1", "smtp_port": int(smtp["USHER_TEST_SMTP_TLS_PORT"]), "smtp_user": "u", "smtp_pass": "top-secret-pass"}}
        r = usher.session().post(base, json=body, headers=headers)
        assert r.status_code == 201, r.text
        assert "top-secret-pass" not in r.text
        assert usher.session().post(base, json=body, headers=headers).json()["message"] == "Email provider is already configured."
        assert usher.session().get(base, headers=headers).json() == {"name": "smtp", "enabled": True}
        full = usher.session().get(base, params={"fields": "credentials,default_from_address,settings"}, headers=headers).json()
        assert full["credentials"] == {"smtp_host": "127.0.0.1", "smtp_port": int(smtp["USHER_TEST_SMTP_TLS_PORT"]), "smtp_user": "u"}
        assert usher.session().delete(base, headers=headers).status_code == 204
        assert usher.session().patch(base, json={"enabled": False}, headers=headers).json()["message"] == "Email provider has not been configured."
        # With no provider, development mode keeps mail in the development mailbox.
        to = f"dev-{uuid.uuid4().hex[:8]}@example.com"
        send_test(usher, headers, to)
        wait_until(lambda: to in usher.session().get(usher.base_url + "/dev/mail").text, what="dev mailbox")
        assert "top-secret-pass" not in usher.log()
    finally:
        usher.stop()


def test_production_without_provider_is_refused(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
    env.update(USHER_ENVIRONMENT="production", USHER_BOOTSTRAP_CLIENT_ID=ADMIN_ID, USHER_BOOTSTRAP_CLIENT_SECRET=ADMIN_SECRET)
    result = subprocess.run([BINARY, "serve", "--port", str(port), "--database", str(tmp_path / "p.sqlite")],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "no email provider is configured" in (result.stdout + result.stderr)


def test_server_down_when_queued_then_delivered_once(smtp, tmp_path):
    port = free_port()
    usher = start_usher(tmp_path, tls=False, extra_env={**FAST, "USHER_SMTP_URL": smtp_url(smtp, port)})
    maildir = tmp_path / "late-maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    server = None
    try:
        headers = token(usher)
        to = f"late-{uuid.uuid4().hex[:8]}@example.com"
        queued = send_test(usher, headers, to)
        wait_until(lambda: outbox(usher, headers, queued["id"])["status"] == "failed", what="first failure")
        assert "connect" in (outbox(usher, headers, queued["id"])["last_error"] or "").lower()
        server = subprocess.Popen(
            ["/usr/bin/python3", str(ROOT / "tests" / "support" / "smtp_server.py"), "--port", str(port),
             "--port-file", str(tmp_path / "ports"), "--maildir", str(maildir), "--tlscert", smtp["USHER_TEST_SMTP_CA"],
             "--tlskey", str(Path(smtp["USHER_TEST_SMTP_CA"]).with_name("key.pem")),
             "--user", smtp["USHER_TEST_SMTP_USER"], "--password", smtp["USHER_TEST_SMTP_PASS"]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: delivered(maildir, to), timeout=60, what="delivery after the server started")
        wait_until(lambda: outbox(usher, headers, queued["id"])["status"] == "sent", what="status sent")
        time.sleep(1)
        assert len(delivered(maildir, to)) == 1
    finally:
        usher.stop()
        if server:
            server.terminate()
            server.wait(timeout=10)


def test_deferred_then_delivered_once_after_retry(smtp, tmp_path):
    usher = start(tmp_path, smtp)
    try:
        headers = token(usher)
        to = f"defer-1-{uuid.uuid4().hex[:10]}@example.com"
        queued = send_test(usher, headers, to)
        wait_until(lambda: delivered(smtp["USHER_TEST_SMTP_TLS_MAILDIR"], to), what="delivery after 451")
        final = wait_until(lambda: (m := outbox(usher, headers, queued["id"]))["status"] == "sent" and m, what="sent")
        assert final["attempts"] == 2
        time.sleep(0.5)
        assert len(delivered(smtp["USHER_TEST_SMTP_TLS_MAILDIR"], to)) == 1
    finally:
        usher.stop()


def test_rejected_recipient_is_abandoned_with_the_reason(smtp, tmp_path):
    usher = start(tmp_path, smtp)
    try:
        headers = token(usher)
        queued = send_test(usher, headers, "reject@example.com")
        wait_until(lambda: outbox(usher, headers, queued["id"])["status"] == "abandoned", what="abandoned")
        r = usher.session().get(usher.base_url + "/api/v2/emails/outbox", params={"status": "abandoned"}, headers=headers)
        assert r.status_code == 200
        [message] = [m for m in r.json() if m["id"] == queued["id"]]
        assert "550" in message["last_error"] and message["attempts"] == 1
        # An operator can put it back in the queue (it fails again here, as the address is still refused).
        retried = usher.session().post(usher.base_url + f"/api/v2/emails/outbox/{queued['id']}/retry", headers=headers)
        assert retried.status_code == 200 and retried.json()["status"] == "queued"
    finally:
        usher.stop()


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_mid_send_loses_nothing(smtp, tmp_path, backend):
    database = postgres_database() if backend == "postgres" else None
    usher = start(tmp_path, smtp, database=database)
    restarted = None
    try:
        headers = token(usher)
        recipients = [f"slow-1500-{uuid.uuid4().hex[:10]}@example.com" for _ in range(6)]
        ids = [send_test(usher, headers, to)["id"] for to in recipients]
        wait_until(lambda: any(outbox(usher, headers, i)["status"] == "sending" for i in ids), what="a send in progress")
        usher.process.send_signal(signal.SIGKILL)
        usher.process.wait()
        restarted = start(tmp_path, smtp, database=database)
        headers = token(restarted)
        wait_until(lambda: all(outbox(restarted, headers, i)["status"] == "sent" for i in ids), timeout=60, what="every message sent")
        maildir = smtp["USHER_TEST_SMTP_TLS_MAILDIR"]
        for to in recipients:
            copies = delivered(maildir, to)
            # At-least-once: a message cut off mid-DATA may arrive twice, always with the same Message-ID.
            assert len(copies) >= 1, to
            assert len({c["Message-ID"] for c in copies}) == 1
    finally:
        usher.stop()
        if restarted:
            restarted.stop()


def _post_json(base, path, body, token=None):
    """A bare urllib POST (thread-safe, no session state): the burst below runs in 16 threads."""
    import json
    import urllib.request
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read().decode()


def _metric(usher, name):
    for line in usher.session().get(usher.base_url + "/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_with_2000_accepted_password_changes_loses_none(smtp, tmp_path, backend):
    """Every change_password request answered "we've just sent you an email" is in the database before the
    answer: SIGKILL with the requests still queued (in the reset worker and in the outbox), restart, and every
    one of them arrives at the SMTP server, with one Message-ID per recipient and at most 16 re-sent copies (the
    courier's bound on accepted but unmarked sends).
    What the killed instance held (its leased requests, its claimed mail) is taken over after one lease."""
    import concurrent.futures
    count = 2000
    database = postgres_database() if backend == "postgres" else None
    # Leases shortened from their 30 s defaults to keep the test short; it waits for them after the restart.
    env = {"USHER_MAIL_POLL_INTERVAL_MS": "100", "USHER_MAIL_LEASE_MS": "5000", "USHER_INTAKE_LEASE_SECONDS": "5",
           "USHER_SMTP_URL": f"smtp://127.0.0.1:{smtp['USHER_TEST_SMTP_SINK_PORT']}?tls=off"}
    sink = Path(smtp["USHER_TEST_SMTP_SINK_DIR"])  # postfix's smtp-sink: one file per message received
    usher = start_usher(tmp_path, tls=False, database=database, extra_env=env)
    restarted = None
    try:
        bearer = token(usher)["Authorization"].removeprefix("Bearer ")
        domain = uuid.uuid4().hex[:8] + ".example.com"
        addresses = [f"user{i}@{domain}" for i in range(count)]

        def create(address):
            return _post_json(usher.base_url, "/api/v2/users", {
                "connection": "Username-Password-Authentication", "email": address, "email_verified": True,
                "password": "Kill-9-" + uuid.uuid4().hex}, bearer)[0]

        def change_password(address):
            return _post_json(usher.base_url, "/dbconnections/change_password", {
                "email": address, "connection": "Username-Password-Authentication"})

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert set(pool.map(create, addresses)) == {201}
        # A reset template slow enough to render (an idle 4,000-step loop) that the reset worker falls behind the
        # requests: the kill must find most of them accepted and not yet processed, or it proves nothing.
        status, body = _post_json(usher.base_url, "/api/v2/email-templates", {
            "template": "reset_email", "enabled": True, "syntax": "liquid", "from": "no-reply@example.com",
            "subject": "Reset your password",
            "body": '{% for i in (1..4000) %}{% endfor %}<p><a href="{{ url }}">Choose a new password</a></p>'}, bearer)
        assert status in (200, 201), body
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(change_password, addresses))
        assert all(status == 200 and "sent you an email" in body for status, body in answers), answers[:3]
        processed = _metric(usher, "usher_password_reset_requests_processed_total")
        usher.process.send_signal(signal.SIGKILL)
        usher.process.wait()
        # The kill has to hit requests still waiting for the reset worker, or the test proves nothing about intake.
        assert processed < count * 0.9, f"the worker had processed {processed:.0f} of {count} before the kill"

        restarted = start_usher(tmp_path, tls=False, database=database, extra_env=env)

        parsed: dict[Path, tuple[str, str]] = {}  # each sink file is parsed once: re-parsing 2,000 per poll is slow

        def copies_by_recipient():
            for path in sink.glob("*"):
                if path not in parsed:
                    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                    if message["Message-ID"] is not None:  # smtp-sink may still be writing the file
                        parsed[path] = (str(message["X-Rcpt-Args"]).strip("<>"), str(message["Message-ID"]))
            found: dict[str, list[str]] = {}
            for to, message_id in parsed.values():
                if to.endswith("@" + domain):
                    found.setdefault(to, []).append(message_id)
            return found

        # Waits for every recipient, not for a file count: re-sent copies (at-least-once) would pad a count early.
        deadline = time.time() + 150
        while time.time() < deadline and not set(copies_by_recipient()) >= set(addresses):
            time.sleep(0.5)
        time.sleep(1)  # a late duplicate would show here; a missing recipient fails the set comparison below
        copies = copies_by_recipient()
        assert set(copies) == set(addresses)
        assert all(len(set(ids)) == 1 for ids in copies.values()), "a request produced two different emails"
        resent = sum(len(ids) - 1 for ids in copies.values())
        # The courier holds at most 16 accepted-but-unmarked messages (`unrecordedLimit`): all a kill can re-send.
        assert resent <= 16, f"{resent} re-sent copies"
        assert "Processing accepted requests left by a stopped worker" in restarted.log()
    finally:
        usher.stop()
        if restarted:
            restarted.stop()
