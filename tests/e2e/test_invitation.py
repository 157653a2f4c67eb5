"""Auth0's guide "Implement User Invitations for Application Sign-Up using Password Reset Emails", step by step,
with the real auth0-python SDK against a real `usher serve` (TLS) delivering through its courier to the real
aiosmtpd test server; then the hosted reset page driven over HTTP as a browser would (cookies, CSRF field).

Every test runs on SQLite, and on PostgreSQL when USHER_TEST_POSTGRES_URL is set. The tenant setup (token,
SMTP provider, application, reset_email template) lives in reset_support.start_tenant.
"""
import json
import os
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest
import requests
from auth0.authentication.exceptions import Auth0Error, RateLimitError
from auth0.management.core.api_error import ApiError

import conftest
from conftest import BACKENDS
from reset_support import (APP_NAME, CHANGE_PASSWORD_TEXT, CONNECTION, INVITE_TITLE, MAIL_FROM, RESET_TITLE,
                           USED_TITLE, delivered, html_part, links, needs_smtp, open_link, parse_page, smtp, start_tenant,
                           strong_password, submit_new_password, text_part, wait_for_mail, wait_until)

pytestmark = needs_smtp
__all__ = ["smtp"]  # the module-scoped SMTP fixture, imported for pytest

LINK_PATTERN = r"^{base}/lo/reset\?ticket=([A-Za-z0-9._~%-]+)#type={kind}$"


@pytest.fixture(params=BACKENDS)
def tenant(request, smtp, tmp_path, monkeypatch):
    t = start_tenant(tmp_path / "usher", smtp, backend=request.param, monkeypatch=monkeypatch)
    yield t
    t.stop()


def request_reset(tenant, email_address) -> str:
    """The Authentication API call of the guide: POST /dbconnections/change_password through the SDK."""
    return tenant.auth().change_password(email=email_address, connection=CONNECTION)


def the_link(tenant, message, kind) -> tuple[str, str]:
    """The one link of the email: `<base>/lo/reset?ticket=<token>#type=<kind>`; returns (link, ticket)."""
    import re
    found = [l for l in links(html_part(message)) if "/lo/reset" in l]
    assert len(found) == 1, found
    m = re.match(LINK_PATTERN.format(base=re.escape(tenant.base), kind=kind), found[0])
    assert m, f"unexpected link {found[0]!r}"
    return found[0], urllib.parse.unquote(m.group(1))


def assert_redirect_to_result(tenant, response, email_address=None):
    assert response.status_code == 302, (response.status_code, response.text[:2000])
    location = response.headers["Location"]
    parts = urllib.parse.urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == tenant.result_url, location
    query = urllib.parse.parse_qs(parts.query)
    assert query["success"] == ["true"], location
    assert query.get("message"), location
    if email_address is None:
        assert "email" not in query, location
    else:
        assert query["email"] == [email_address], location
    return query


def test_guide_invitation_journey(tenant):
    # Setup went through the SDK (start_tenant): the template is stored as written.
    stored = tenant.sdk.email_templates.get("reset_email")
    assert stored.template == "reset_email"
    assert stored.enabled is True and stored.syntax == "liquid"
    assert stored.result_url == tenant.result_url and stored.url_lifetime_in_seconds == 432000
    assert stored.include_email_in_redirect is True
    assert "needsInvitation" in stored.body and "type=invite" in stored.body

    # Create the user as the guide does: unverified, needsInvitation, a random password.
    user = tenant.create_invited_user(name="Ada Invitee")
    assert user.email_verified is False and user.app_metadata == {"needsInvitation": True}

    # Trigger the password reset: plain text answer, exactly Auth0's.
    assert request_reset(tenant, user.email) == CHANGE_PASSWORD_TEXT

    # The invitation email.
    message = wait_for_mail(tenant.maildir, user.email)
    assert message["Subject"] == f"You're invited to {APP_NAME}"
    assert message["From"].addresses[0].addr_spec == "invites@app.example.com"
    assert str(message["From"]) == MAIL_FROM
    assert [a.addr_spec for a in message["To"].addresses] == [user.email]
    body = html_part(message)
    assert "You have been invited to Acme Projects" in body and "Accept invitation" in body
    assert "Reset password" not in body
    text = text_part(message)
    if text is not None:
        assert "You have been invited" in text
    link, ticket = the_link(tenant, message, "invite")

    # The hosted page: invitation wording (needsInvitation), the form with its hidden fields, a CSRF cookie.
    session, r, page = open_link(tenant, link)
    assert r.status_code == 200, r.text[:2000]
    assert r.headers["Content-Type"].startswith("text/html")
    assert page.title == INVITE_TITLE
    hidden = page.hidden()
    assert hidden["ticket"] == ticket and hidden["email"] == user.email and hidden["_csrf"]
    assert page.labels.get("New password") == "newPassword"
    assert page.labels.get("Confirm new password") == "confirmNewPassword"
    assert session.cookies, "the page sets a CSRF cookie"
    # GET never consumes the ticket (the form of the latest GET is the one submitted, as in a browser).
    page = parse_page(session.get(link, timeout=30))
    assert page.status == 200 and page.title == INVITE_TITLE

    password = strong_password()
    r = submit_new_password(session, tenant.base, page, password)
    assert_redirect_to_result(tenant, r, user.email)

    after = tenant.sdk.users.get(user.user_id)
    assert after.email_verified is True
    assert after.last_password_reset, "last_password_reset is set"

    # The link is single-use: a second POST with the same ticket (same cookie and CSRF field) is refused,
    # and opening the link again shows the same page.
    again = submit_new_password(session, tenant.base, page, strong_password())
    used = parse_page(again)
    assert again.status_code == 410, (again.status_code, again.text[:2000])
    assert used.title == USED_TITLE
    assert used.form("/lo/reset/resend") and "Send me a new link" in used.buttons
    reopened = parse_page(session.get(link, timeout=30))
    assert (reopened.status, reopened.title) == (410, USED_TITLE)

    # Exactly one email was sent for the request.
    time.sleep(0.5)
    assert len(delivered(tenant.maildir, user.email)) == 1

    # Auth0 log events: scpr (change password request), scp (password changed).
    types = wait_until(lambda: (t := {e["type"] for e in tenant.logs()}) >= {"scpr", "scp"} and t,
                       timeout=10, what="scpr and scp log events")
    assert {"scpr", "scp"} <= types


def test_guide_reset_journey_for_an_existing_user(tenant):
    user = tenant.create_existing_user(name="Grace Member")
    assert request_reset(tenant, user.email) == CHANGE_PASSWORD_TEXT

    message = wait_for_mail(tenant.maildir, user.email)
    assert message["Subject"] == f"Reset your {APP_NAME} password"
    body = html_part(message)
    assert "Reset password" in body and "invited" not in body
    link, ticket = the_link(tenant, message, "reset")

    session, r, page = open_link(tenant, link)
    assert r.status_code == 200, r.text[:2000]
    assert page.title == RESET_TITLE
    assert page.hidden()["ticket"] == ticket

    # A weak password is refused by the connection's policy ("good") and the ticket stays usable.
    weak = submit_new_password(session, tenant.base, page, "abc")
    assert weak.status_code == 400, weak.text[:2000]
    assert parse_page(weak).alert, "the policy error is shown in the alert"
    # Mismatched confirmation.
    mismatch = submit_new_password(session, tenant.base, page, strong_password(), confirm=strong_password())
    assert mismatch.status_code == 400
    assert "Passwords don't match" in parse_page(mismatch).alert

    page = parse_page(session.get(link, timeout=30))
    r = submit_new_password(session, tenant.base, page, strong_password())
    assert_redirect_to_result(tenant, r, user.email)
    assert tenant.sdk.users.get(user.user_id).email_verified is True


def test_unknown_email_gets_the_same_answer_and_no_email(tenant):
    nobody = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    assert request_reset(tenant, nobody) == CHANGE_PASSWORD_TEXT
    # The same answer on the wire as for a known address (plain text, same content type).
    r = tenant.usher.session().post(tenant.base + "/dbconnections/change_password", json={
        "client_id": tenant.client_id, "email": nobody, "connection": CONNECTION}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].lower().replace(" ", "") == "text/plain;charset=utf-8"
    assert r.text == CHANGE_PASSWORD_TEXT
    time.sleep(2.5)
    assert delivered(tenant.maildir, nobody) == []
    failures = wait_until(lambda: [e for e in tenant.logs() if e["type"] == "fcpr"], timeout=10, what="an fcpr log event")
    assert failures[0].get("description") == "User does not exist."


def test_change_password_request_errors(tenant):
    url = tenant.base + "/dbconnections/change_password"
    for body in ({"client_id": tenant.client_id, "connection": CONNECTION},
                 {"client_id": tenant.client_id, "email": "someone@example.com"}):
        r = tenant.usher.session().post(url, json=body, timeout=10)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_request" and r.json()["error_description"]
    with pytest.raises(Auth0Error) as error:
        tenant.auth().change_password(email="", connection=CONNECTION)
    assert error.value.status_code == 400 and error.value.error_code == "invalid_request"


@pytest.mark.parametrize("backend", BACKENDS)
def test_change_password_is_rate_limited_per_ip_and_email(smtp, tmp_path, backend, monkeypatch):
    tenant = start_tenant(tmp_path / "usher", smtp, backend=backend, monkeypatch=monkeypatch,
                          extra_env={"USHER_CHANGE_PASSWORD_BURST": "3"})
    try:
        user = tenant.create_invited_user()
        for _ in range(3):
            assert request_reset(tenant, user.email) == CHANGE_PASSWORD_TEXT
        r = tenant.usher.session().post(tenant.base + "/dbconnections/change_password", json={
            "client_id": tenant.client_id, "email": user.email, "connection": CONNECTION}, timeout=10)
        assert r.status_code == 429, (r.status_code, r.text)
        body = r.json()
        assert body["error"] == "too_many_requests" and body.get("error_description")
        # The SDK sees it as Auth0's RateLimitError.
        with pytest.raises(RateLimitError):
            request_reset(tenant, user.email)
        # Another address from the same IP has its own bucket; unknown addresses are limited the same way.
        other = f"other-{uuid.uuid4().hex[:8]}@example.com"
        for _ in range(3):
            assert request_reset(tenant, other) == CHANGE_PASSWORD_TEXT
        with pytest.raises(RateLimitError):
            request_reset(tenant, other)
        # Three emails went out for the three accepted requests, none for the refused ones.
        wait_until(lambda: len(delivered(tenant.maildir, user.email)) == 3, what="three emails")
        time.sleep(1)
        assert len(delivered(tenant.maildir, user.email)) == 3
    finally:
        tenant.stop()


def test_password_change_ticket_from_the_management_api(tenant):
    user = tenant.create_invited_user()
    ticket = tenant.sdk.tickets.change_password(
        user_id=user.user_id, result_url=tenant.result_url, ttl_sec=3600, mark_email_as_verified=True,
        include_email_in_redirect=False).ticket
    assert ticket.startswith(tenant.base + "/lo/reset?ticket=") and ticket.endswith("#"), ticket

    # A result URL that no application lists is refused.
    with pytest.raises(ApiError) as refused:
        tenant.sdk.tickets.change_password(user_id=user.user_id, result_url="https://evil.example.net/x")
    assert refused.value.status_code == 400

    session, r, page = open_link(tenant, ticket + "type=invite")
    assert r.status_code == 200 and page.title == INVITE_TITLE
    response = submit_new_password(session, tenant.base, page, strong_password())
    assert_redirect_to_result(tenant, response, None)
    assert tenant.sdk.users.get(user.user_id).email_verified is True
    # Creating a ticket sends no email.
    assert delivered(tenant.maildir, user.email) == []


def test_one_ticket_submitted_fifty_times_at_once_succeeds_once(tenant):
    user = tenant.create_invited_user()
    link = tenant.sdk.tickets.change_password(user_id=user.user_id, result_url=tenant.result_url,
                                              mark_email_as_verified=True).ticket
    n = 50
    prepared = []
    for _ in range(n):  # each "browser" opens the page first: its own cookie and CSRF field
        session, r, page = open_link(tenant, link)
        assert r.status_code == 200, r.text[:500]
        prepared.append((session, page))
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def submit(i):
        session, page = prepared[i]
        barrier.wait()
        try:
            results[i] = submit_new_password(session, tenant.base, page, f"Same!{i:02d}-" + strong_password())
        except Exception as error:  # noqa: BLE001 — reported below
            results[i] = error

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [r for r in results if not isinstance(r, requests.Response)]
    assert not errors, errors[:3]
    statuses = [r.status_code for r in results]
    assert statuses.count(302) == 1, statuses
    for r in results:
        if r.status_code != 302:
            assert r.status_code in (400, 410), (r.status_code, r.text[:500])
            assert parse_page(r).title == USED_TITLE, r.text[:500]


def test_usher_invite_cli_sends_the_invitation(tenant):
    email_address = f"cli-{uuid.uuid4().hex[:10]}@example.com"
    env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
    if tenant.database.startswith("postgres"):
        env["USHER_OUTBOX_KEY"] = conftest.E2E_OUTBOX_KEY  # the server's: the CLI's email is sealed for it to send
    result = subprocess.run(
        [conftest.BINARY, "invite", email_address, "--database", tenant.database, "--public-url", tenant.base,
         "--name", "Cli Invitee", "--app-metadata", json.dumps({"team": "blue"}), "--connection", CONNECTION,
         "--client-id", tenant.client_id],
        capture_output=True, text=True, timeout=60, env=env, cwd=tenant.usher.log_path.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["email"] == email_address and printed["user_id"].startswith("auth0|")
    assert printed["outbox_message_id"]

    user = tenant.sdk.users.get(printed["user_id"])
    assert user.email_verified is False and user.name == "Cli Invitee"
    assert user.app_metadata == {"needsInvitation": True, "team": "blue"}

    message = wait_for_mail(tenant.maildir, email_address)  # delivered by the running `usher serve`
    assert message["Subject"] == f"You're invited to {APP_NAME}"
    assert "You have been invited" in html_part(message)
    link, _ = the_link(tenant, message, "invite")
    session, r, page = open_link(tenant, link)
    assert r.status_code == 200 and page.title == INVITE_TITLE
    assert_redirect_to_result(tenant, submit_new_password(session, tenant.base, page, strong_password()), email_address)


def test_json_answers_for_api_clients(tenant):
    """Accept: application/json on POST /lo/reset: Auth0's PasswordStrengthError, then {"result_url": …}."""
    user = tenant.create_invited_user()
    link = tenant.sdk.tickets.change_password(user_id=user.user_id, result_url=tenant.result_url).ticket
    session, r, page = open_link(tenant, link)
    weak = submit_new_password(session, tenant.base, page, "abc", headers={"Accept": "application/json"})
    assert weak.status_code == 400 and weak.json()["name"] == "PasswordStrengthError", weak.text
    assert weak.json()["message"]
    ok = submit_new_password(session, tenant.base, page, strong_password(), headers={"Accept": "application/json"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["result_url"].startswith(tenant.result_url + "?success=true")


def test_bad_csrf_is_refused_and_leaves_the_ticket(tenant):
    user = tenant.create_invited_user()
    link = tenant.sdk.tickets.change_password(user_id=user.user_id, result_url=tenant.result_url).ticket
    session, r, page = open_link(tenant, link)
    forged = dict(page.hidden(), _csrf="forged", newPassword=(p := strong_password()), confirmNewPassword=p)
    r = session.post(tenant.base + "/lo/reset", data=forged, allow_redirects=False, timeout=10)
    assert r.status_code == 403, r.text[:500]
    # Without the cookie (another client) the right field alone is not enough.
    stranger = tenant.usher.session()
    r = stranger.post(tenant.base + "/lo/reset", data=dict(page.hidden(), newPassword=p, confirmNewPassword=p),
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403, r.text[:500]
    assert_redirect_to_result(tenant, submit_new_password(session, tenant.base, page, p), user.email)


def test_a_line_break_in_a_users_name_injects_no_header_and_loses_no_email(tenant):
    """Auth0 accepts control characters in profile fields; a subject that prints the name must still be sent,
    to its one recipient, with the line break folded into a space and no header injected."""
    tenant.sdk.email_templates.update("reset_email", template="reset_email", subject="Hello {{ user.name }}")
    victim = f"victim-{uuid.uuid4().hex[:10]}@example.com"
    name = f"Ada\r\nBcc: {victim}"
    user = tenant.create_invited_user(name=name)
    assert user.name == name  # stored as given; neutralised only where it becomes a header
    assert request_reset(tenant, user.email)
    message = wait_for_mail(tenant.maildir, user.email)
    assert message["Subject"] == f"Hello Ada Bcc: {victim}"
    assert message.get_all("Bcc") is None and message.get_all("Cc") is None
    assert [str(v) for v in message.get_all("To")] == [user.email]
    assert message["X-Usher-Rcpt-To"] == f"<{user.email}>"  # the SMTP envelope: one recipient
    time.sleep(1)
    assert delivered(tenant.maildir, victim) == []


def test_logs_hold_no_ticket_password_or_secret(smtp, tmp_path, monkeypatch):
    """A whole invitation journey at debug level: the server's log never holds the link's ticket, the password
    chosen with it, a client secret (the bootstrap administrator's or a new application's) or the SMTP password."""
    tenant = start_tenant(tmp_path / "usher", smtp, extra_env={"USHER_LOG_LEVEL": "debug"}, monkeypatch=monkeypatch)
    try:
        app = tenant.sdk.clients.create(name="Secret keeper", app_type="non_interactive")
        assert app.client_secret
        user = tenant.create_invited_user(name="Logged Invitee")
        assert request_reset(tenant, user.email) == CHANGE_PASSWORD_TEXT
        link, ticket = the_link(tenant, wait_for_mail(tenant.maildir, user.email), "invite")
        session, _, page = open_link(tenant, link)
        password = strong_password()
        assert_redirect_to_result(tenant, submit_new_password(session, tenant.base, page, password), user.email)
        # A wrong and a right sign-in attempt at the token endpoint with the new password.
        for attempt in (password + "x", password):
            tenant.usher.session().post(tenant.base + "/oauth/token", json={
                "grant_type": "password", "username": user.email, "password": attempt, "client_id": app.client_id,
                "client_secret": app.client_secret}, timeout=10)
        time.sleep(1)
        log = tenant.usher.log()
        # The log did record this journey (the request lines name their paths), at debug level.
        assert "/oauth/token" in log and "/lo/reset" in log and " debug " in log, log[-2000:]
        for name, secret in [("ticket", ticket), ("password", password), ("client secret", app.client_secret),
                             ("bootstrap client secret", conftest.ADMIN_SECRET),
                             ("SMTP password", smtp["USHER_TEST_SMTP_PASS"])]:
            assert secret not in log, f"the server log contains the {name}"
    finally:
        tenant.stop()


def test_no_live_link_at_rest_after_the_invitation_is_delivered(tenant):
    """What a backup would hold: after delivery, neither the SQLite file (with its WAL) nor a dump of the PostgreSQL
    schema contains the invitation's ticket, in clear or URL-encoded: tickets are stored hashed and the outbox keeps
    only a redacted copy of the email."""
    user = tenant.create_invited_user()
    request_reset(tenant, user.email)
    message = wait_for_mail(tenant.maildir, user.email)
    _, ticket = the_link(tenant, message, "invite")
    outbox = tenant.base + "/api/v2/emails/outbox"

    def all_sent_and_redacted():
        mine = tenant.usher.session().get(outbox, params={"user_id": user.user_id}, headers=tenant.headers()).json()
        return mine and all(m["status"] == "sent" and m["body_redacted"] for m in mine)

    wait_until(all_sent_and_redacted, what="the invitation marked sent, its body redacted")
    needles = {ticket.encode(), urllib.parse.quote(ticket, safe="").encode()}
    if tenant.database.startswith("postgres"):
        schema = urllib.parse.parse_qs(urllib.parse.urlsplit(tenant.database).query)["search_path"][0]
        dump = subprocess.run(["pg_dump", "--data-only", "--schema", schema, tenant.database.split("?")[0]],
                              check=True, capture_output=True).stdout
        assert b"outbox_body" in dump
        places = {"pg_dump": dump}
    else:
        places = {p: open(p, "rb").read() for p in (tenant.database, tenant.database + "-wal") if os.path.exists(p)}
    for place, raw in places.items():
        assert not any(needle in raw for needle in needles), f"the ticket is readable in {place}"
