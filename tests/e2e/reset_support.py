"""Shared pieces of the invitation / password-reset end-to-end tests (test_invitation.py, test_browser.py).

A "tenant" here is what an Auth0 customer has after following the guide "Implement User Invitations for
Application Sign-Up using Password Reset Emails": a Management API token, an SMTP email provider configured
through the Management API, an application whose callbacks / allowed logout URLs list the result URL, and the
`reset_email` template branching on `user.app_metadata.needsInvitation`.

Mail goes through the real courier to the real aiosmtpd test server (tests/support/smtp_server.py, STARTTLS +
AUTH, Maildir). The provider stored with POST /api/v2/emails/provider is verified against the system trust
roots plus USHER_SMTP_CA_FILE (a private relay's CA, as operators with internal mail servers configure it), so
the provider configured through the SDK is the path mail really takes, with certificate verification on.
"""
from __future__ import annotations

import email
import email.policy
import html
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from auth0.authentication import Database
from auth0.management import ManagementClient
from auth0.management.core.api_error import ApiError

import conftest
from conftest import ADMIN_ID, ADMIN_SECRET, ROOT, postgres_database, start_usher

SMTP_SCRIPT = ROOT / "tests" / "support" / "start_smtp_servers.sh"
FAST_MAIL = {"USHER_MAIL_POLL_INTERVAL_MS": "100", "USHER_MAIL_BACKOFF_BASE_MS": "300", "USHER_MAIL_LEASE_MS": "3000"}
CONNECTION = "Username-Password-Authentication"

CHANGE_PASSWORD_TEXT = "We've just sent you an email to reset your password."
INVITE_TITLE = "Welcome — choose a password to activate your account"
RESET_TITLE = "Reset your password"
USED_TITLE = "This link has already been used"
DONE_TITLE = "Your password has been set"

APP_NAME = "Acme Projects"
MAIL_FROM = "Acme Projects <invites@app.example.com>"

# The guide's reset_email template, Liquid: one template serves both the invitation and the ordinary reset;
# the link appends `type=invite` / `type=reset` to {{ url }}, which ends with '#'.
GUIDE_SUBJECT = (
    "{% if user.app_metadata.needsInvitation %}You're invited to {{ application.name }}"
    "{% else %}Reset your {{ application.name }} password{% endif %}"
)
GUIDE_BODY = """<html>
  <body>
    {% if user.app_metadata.needsInvitation %}
      <h1>Welcome to {{ application.name }}!</h1>
      <p>Hello {{ user.name | default: user.email }},</p>
      <p>You have been invited to {{ application.name }}. Follow the link below to choose a password and activate
        your account.</p>
      <p><a href="{{ url }}type=invite">Accept invitation</a></p>
    {% else %}
      <h1>Reset your password</h1>
      <p>We received a request to reset the password of {{ user.email }} for {{ application.name }}.</p>
      <p><a href="{{ url }}type=reset">Reset password</a></p>
      <p>If you did not ask for this, you can ignore this email.</p>
    {% endif %}
    <p>{{ friendly_name }}</p>
  </body>
</html>
"""


def strong_password() -> str:
    return "Inv1te!" + secrets.token_urlsafe(12) + "9aZ"


def wait_until(predicate, timeout=30.0, what="condition", interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------- SMTP test server


def smtp_available() -> bool:
    return Path("/usr/sbin/smtp-sink").exists() and subprocess.run(
        ["/usr/bin/python3", "-c", "import aiosmtpd"], capture_output=True).returncode == 0


needs_smtp = pytest.mark.skipif(
    not smtp_available(),
    reason="needs python3-aiosmtpd and postfix's smtp-sink (apt-get install -y python3-aiosmtpd postfix)")


@pytest.fixture(scope="module")
def smtp():
    """The SMTP test servers (tests/support/start_smtp_servers.sh), once per module, in their own directory."""
    directory = tempfile.mkdtemp(prefix="usher-e2e-reset-smtp-")
    subprocess.run([str(SMTP_SCRIPT), directory], check=True, capture_output=True)
    env = {}
    for line in Path(directory, "env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value.strip("'")
    yield env
    subprocess.run([str(SMTP_SCRIPT), "--stop", directory], capture_output=True)
    shutil.rmtree(directory, ignore_errors=True)


def smtp_url(env) -> str:
    user = urllib.parse.quote(env["USHER_TEST_SMTP_USER"], safe="")
    password = urllib.parse.quote(env["USHER_TEST_SMTP_PASS"], safe="")
    query = urllib.parse.urlencode({"tls": "starttls", "ca_file": env["USHER_TEST_SMTP_CA"], "connect_timeout": "2"})
    return f"smtp://{user}:{password}@127.0.0.1:{env['USHER_TEST_SMTP_TLS_PORT']}?{query}"


def delivered(maildir, recipient) -> list[email.message.EmailMessage]:
    """Parsed messages in the Maildir whose envelope recipient is `recipient` (tests/support/smtp_server.py
    prepends the envelope as X-Usher-Rcpt-To)."""
    found = []
    for path in sorted(Path(maildir, "new").glob("*")):
        raw = path.read_bytes()
        head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
        if f"<{recipient}>".encode() in head:
            found.append(email.message_from_bytes(raw, policy=email.policy.default))
    return found


def wait_for_mail(maildir, recipient, timeout=30.0) -> email.message.EmailMessage:
    return wait_until(lambda: delivered(maildir, recipient), timeout=timeout, what=f"an email to {recipient}")[0]


def html_part(message) -> str:
    part = message.get_body(("html",))
    assert part is not None, f"no text/html part in:\n{message}"
    return part.get_content()


def text_part(message) -> str | None:
    part = message.get_body(("plain",))
    return part.get_content() if part is not None else None


def links(html_text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', html_text)]


# ---------------------------------------------------------------- hosted page parsing


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title_parts: list[str] = []
        self.h1_parts: list[str] = []
        self.alert_parts: list[str] = []
        self.forms: list[dict] = []
        self.labels: dict[str, str] = {}
        self.rules: dict[str, str] = {}
        self.buttons: list[str] = []
        self._stack: list[str] = []
        self._in_title = self._in_h1 = self._in_alert = 0
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "h1" and (a.get("id") == "title" or not self.h1_parts):
            self._in_h1 += 1
        if a.get("role") == "alert" or a.get("id") == "errors":
            self._in_alert += 1
            self._stack.append("alert:" + tag)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                               "id": a.get("id"), "inputs": {}})
        if tag in ("input", "textarea", "select") and self.forms:
            name = a.get("name")
            if name:
                self.forms[-1]["inputs"][name] = {"type": a.get("type", "text"), "value": a.get("value", ""),
                                                  "id": a.get("id")}
        if tag == "label":
            self._label_for = a.get("for")
            self._label_text = []
        if tag == "li" and a.get("data-rule"):
            self.rules[a["data-rule"]] = a.get("class", "")
        if tag == "button":
            self._button = []

    def handle_endtag(self, tag):
        if tag == "h1" and self._in_h1:
            self._in_h1 -= 1
        if self._stack and self._stack[-1] == "alert:" + tag:
            self._stack.pop()
            self._in_alert -= 1
        if tag == "label" and self._label_for is not None:
            self.labels[" ".join("".join(self._label_text).split())] = self._label_for
            self._label_for = None
        if tag == "button" and self._button is not None:
            self.buttons.append(" ".join("".join(self._button).split()))
            self._button = None

    def handle_data(self, data):
        if self._in_h1:
            self.h1_parts.append(data)
        if self._in_alert:
            self.alert_parts.append(data)
        if self._label_for is not None:
            self._label_text.append(data)
        if self._button is not None:
            self._button.append(data)


@dataclass
class Page:
    status: int
    text: str
    title: str
    alert: str
    forms: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    buttons: list = field(default_factory=list)

    def form(self, action="/lo/reset") -> dict:
        for f in self.forms:
            if f["action"] == action or f["action"].endswith(action):
                return f
        raise AssertionError(f"no form with action {action} on the page ({self.status}, {self.title!r}):\n{self.text[:2000]}")

    def hidden(self, action="/lo/reset") -> dict:
        return {k: v["value"] for k, v in self.form(action)["inputs"].items() if v["type"] == "hidden"}


def parse_page(response: requests.Response) -> Page:
    p = _PageParser()
    p.feed(response.text)
    return Page(response.status_code, response.text, " ".join("".join(p.h1_parts).split()),
                " ".join("".join(p.alert_parts).split()), p.forms, p.labels, p.rules, p.buttons)


def submit_new_password(session, base_url, page: Page, password, confirm=None, **kwargs) -> requests.Response:
    """POSTs the reset form as a browser would: its hidden fields, both password fields, Origin and Referer."""
    fields = page.hidden()
    fields.update(newPassword=password, confirmNewPassword=password if confirm is None else confirm)
    headers = {"Origin": base_url, "Referer": base_url + "/lo/reset?ticket=" + urllib.parse.quote(fields.get("ticket", ""))}
    headers.update(kwargs.pop("headers", {}))
    return session.post(base_url + "/lo/reset", data=fields, headers=headers, allow_redirects=False, timeout=30, **kwargs)


# ---------------------------------------------------------------- the tenant of the guide


@dataclass
class Tenant:
    usher: conftest.UsherProcess
    database: str
    token: str
    sdk: ManagementClient
    client_id: str
    result_url: str
    maildir: str
    provider_path: str  # "provider (SDK)" or "USHER_SMTP_URL"

    @property
    def base(self) -> str:
        return self.usher.base_url

    def auth(self) -> Database:
        """The Authentication API SDK object for the guide's application (requests-based: trusts the usher
        certificate through REQUESTS_CA_BUNDLE, set by the fixture)."""
        scheme = self.base.split("://")[0]
        return Database(self.usher.domain, self.client_id, protocol=scheme)

    def headers(self) -> dict:
        return {"Authorization": "Bearer " + self.token}

    def create_invited_user(self, name="Ada Invitee", **extra):
        email_address = f"invitee-{uuid.uuid4().hex[:10]}@example.com"
        # As in the guide: unverified, flagged for the invitation, with a random password nobody will ever use.
        return self.sdk.users.create(connection=CONNECTION, email=email_address, email_verified=False,
                                     verify_email=False, name=name, password=strong_password() + secrets.token_hex(8),
                                     app_metadata={"needsInvitation": True}, **extra)

    def create_existing_user(self, name="Grace Member"):
        email_address = f"member-{uuid.uuid4().hex[:10]}@example.com"
        return self.sdk.users.create(connection=CONNECTION, email=email_address, email_verified=True,
                                     verify_email=False, name=name, password=strong_password())

    def logs(self) -> list:
        r = self.usher.session().get(self.base + "/api/v2/logs", params={"per_page": 100, "sort": "date:-1"},
                                     headers=self.headers(), timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        return body["logs"] if isinstance(body, dict) else body

    def stop(self):
        self.usher.stop()


def management_token(usher) -> str:
    r = usher.session().post(usher.base_url + "/oauth/token", json={
        "grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET,
        "audience": usher.audience}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def upsert_reset_template(sdk: ManagementClient, result_url: str):
    """PATCH the reset_email template; an unconfigured template answers 404, then POST it (the deploy-cli upsert)."""
    fields = dict(body=GUIDE_BODY, subject=GUIDE_SUBJECT, from_=MAIL_FROM, result_url=result_url,
                  url_lifetime_in_seconds=432000, include_email_in_redirect=True, enabled=True, syntax="liquid")
    try:
        return sdk.email_templates.update("reset_email", template="reset_email", **fields), "PATCH"
    except ApiError as error:
        assert error.status_code == 404, (error.status_code, error.body)
        return sdk.email_templates.create(template="reset_email", **fields), "POST"


def start_tenant(directory: Path, smtp_env: dict, *, backend="sqlite", tls=True, result_url=None,
                 extra_env: dict | None = None, monkeypatch=None) -> Tenant:
    """Starts usher and sets up the guide's tenant through the real SDK. The caller stops it (Tenant.stop)."""
    directory.mkdir(parents=True, exist_ok=True)
    database = postgres_database() if backend == "postgres" else str(directory / "usher.sqlite")
    env = {**FAST_MAIL, "USHER_SMTP_CA_FILE": smtp_env["USHER_TEST_SMTP_CA"], **(extra_env or {})}
    usher = start_usher(directory, tls=tls, database=database, extra_env=env)
    try:
        if tls:
            # httpx (Management SDK) honours SSL_CERT_FILE, requests (Authentication SDK) REQUESTS_CA_BUNDLE.
            if monkeypatch is not None:
                monkeypatch.setenv("SSL_CERT_FILE", usher.ca_file)
                monkeypatch.setenv("REQUESTS_CA_BUNDLE", usher.ca_file)
            else:
                os.environ["SSL_CERT_FILE"] = usher.ca_file
                os.environ["REQUESTS_CA_BUNDLE"] = usher.ca_file
        result_url = result_url or "https://app.example.com/after-invite"

        # 1. A Management API token (client credentials), then the SDK with it.
        token = management_token(usher)
        sdk = ManagementClient(domain=usher.domain, token=token)
        if not tls:
            # The SDK always speaks https://{domain}; for a plain-HTTP server point it at the right base URL.
            sdk = _plain_http_sdk(usher, token)

        # 2. The SMTP email provider (Auth0: Branding > Email Provider > SMTP), through the SDK.
        sdk.emails.provider.create(
            name="smtp", enabled=True, default_from_address="no-reply@app.example.com",
            credentials={"smtp_host": "127.0.0.1", "smtp_port": int(smtp_env["USHER_TEST_SMTP_TLS_PORT"]),
                         "smtp_user": smtp_env["USHER_TEST_SMTP_USER"], "smtp_pass": smtp_env["USHER_TEST_SMTP_PASS"]})

        # 3. The application the invitations are for.
        app = sdk.clients.create(name=APP_NAME, app_type="regular_web",
                                 callbacks=["https://app.example.com/callback"],
                                 allowed_logout_urls=[result_url])

        # 4. The reset_email template of the guide.
        upsert_reset_template(sdk, result_url)

        return Tenant(usher, database, token, sdk, app.client_id, result_url, smtp_env["USHER_TEST_SMTP_TLS_MAILDIR"],
                      "provider (SDK)")
    except BaseException:
        usher.stop()
        raise


def _plain_http_sdk(usher, token) -> ManagementClient:
    """ManagementClient on http:// (the browser test runs usher without TLS, as Chromium trusts no test CA)."""
    from auth0.management.client import Auth0
    return Auth0(base_url=usher.base_url + "/api/v2", token=token)


def open_link(tenant, link):
    """GET the link as a browser does (the fragment stays in the browser); a new session keeps the cookies."""
    session = tenant.usher.session()
    r = session.get(link, timeout=30)
    return session, r, parse_page(r)
