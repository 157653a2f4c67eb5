"""Shared pieces of the login / OpenID Connect end-to-end tests (test_oidc.py, test_actions_hostile.py).

Everything here speaks to a real `usher serve` the way a relying party, Auth0's SDKs or a browser would:
applications and users are created through the Management API (auth0-python), logins go through `/authorize` →
`/u/login` → the callback (plain `requests`, cookies and the form's hidden fields, as a browser without
JavaScript does) or through `/oauth/token` (password-realm), ID tokens are checked with authlib against the JWKS.

The Actions helpers use Auth0's Management API for Actions (`/api/v2/actions/...`) through the SDK; while the
server has no such API (`POST /api/v2/actions/actions` answers 404) the tests that need it skip with a reason.
"""
from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass

import pytest
import requests
from auth0.authentication import GetToken

from conftest import free_port
from reset_support import CONNECTION, parse_page, strong_password

PASSWORD_REALM = "http://auth0.com/oauth/grant-type/password-realm"
ALL_GRANTS = ["authorization_code", "refresh_token", "password", PASSWORD_REALM]
FULL_SCOPE = "openid profile email offline_access"
WRONG_CREDENTIALS = "Wrong email or password."
BLOCKED_TEXT = "Your account has been blocked after multiple consecutive login attempts."
ACTION_FAILED_PREFIX = "The login failed in a post-login Action: "

# The guide's post-login Action: the first login after the invitation clears the flag.
SEED_ACTION = """exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.needsInvitation) {
    api.user.setAppMetadata("needsInvitation", false);
  }
};
"""


# ---------------------------------------------------------------- the relying party's callback


class _Callback(http.server.BaseHTTPRequestHandler):
    """The application: records every request; answers a small page showing the query."""
    hits: list = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query)
        shown = "".join(f"<li id='q-{k}'>{k}: {'<redacted>' if k == 'code' else v[0]}</li>" for k, v in query.items())
        body = ("<!doctype html><html><head><meta charset='utf-8'><title>Acme Projects</title></head><body>"
                f"<h1 id='landing'>Acme Projects {parts.path}</h1><ul>{shown}</ul></body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@dataclass
class CallbackServer:
    base: str
    server: http.server.ThreadingHTTPServer

    @property
    def callback(self) -> str:
        return self.base + "/callback"

    @property
    def after_invite(self) -> str:
        return self.base + "/after-invite"

    @property
    def logged_out(self) -> str:
        return self.base + "/logged-out"


@pytest.fixture(scope="module")
def callback_server():
    """A local http.server standing in for the application: the OIDC callback, the reset result URL and the
    logout landing page."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield CallbackServer(f"http://127.0.0.1:{server.server_address[1]}", server)
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------- applications and users


def create_app(tenant, callbacks, *, app_type="regular_web", name=None, logout_urls=None, grant_types=None,
               auth_method=None):
    """An application through the Management API (auth0-python), with the grants of the login flows."""
    fields = dict(name=name or f"OIDC app {uuid.uuid4().hex[:6]}", app_type=app_type, callbacks=list(callbacks),
                  grant_types=grant_types or ALL_GRANTS)
    if logout_urls is not None:
        fields["allowed_logout_urls"] = list(logout_urls)
    if auth_method is not None:
        fields["token_endpoint_auth_method"] = auth_method
    return tenant.sdk.clients.create(**fields)


def create_user(tenant, prefix="member", password=None, **extra):
    """A verified user with a known password; returns (user, password)."""
    password = password or strong_password()
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
    user = tenant.sdk.users.create(connection=CONNECTION, email=email, email_verified=True, verify_email=False,
                                   password=password, name=extra.pop("name", "Oidc Member"), **extra)
    return user, password


def scheme(tenant) -> str:
    return tenant.base.split("://")[0]


def get_token(tenant, app, timeout=30.0) -> GetToken:
    """Auth0's Authentication API SDK object for `app` (requests-based; trusts the server's CA through
    REQUESTS_CA_BUNDLE, set by reset_support.start_tenant)."""
    return GetToken(tenant.usher.domain, app.client_id, client_secret=getattr(app, "client_secret", None),
                    protocol=scheme(tenant), timeout=timeout)


def password_realm(session, tenant, app, username, password, scope="openid profile email", timeout=30, **extra):
    """`POST /oauth/token` with Auth0's password-realm grant, as JSON (what auth0.js / the SDKs send)."""
    body = {"grant_type": PASSWORD_REALM, "client_id": app.client_id, "username": username, "password": password,
            "realm": CONNECTION, "scope": scope}
    if getattr(app, "client_secret", None):
        body["client_secret"] = app.client_secret
    body.update(extra)
    return session.post(tenant.base + "/oauth/token", json=body, timeout=timeout)


def token_request(session, tenant, timeout=30, **fields):
    return session.post(tenant.base + "/oauth/token", data=fields, timeout=timeout)


def assert_oauth_error(response, status, error, description=None):
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == error, body
    if description is not None:
        assert body["error_description"] == description, body
    return body


# ---------------------------------------------------------------- PKCE, /authorize, the login form over HTTP


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(app, redirect_uri, *, scope=FULL_SCOPE, state=None, nonce=None, challenge=None, **extra) -> dict:
    params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": redirect_uri, "scope": scope,
              "state": state if state is not None else secrets.token_urlsafe(12),
              "nonce": nonce if nonce is not None else secrets.token_urlsafe(12)}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update({k: v for k, v in extra.items() if v is not None})
    return params


def query_of(location: str) -> dict:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).items()}


def without_query(location: str) -> str:
    parts = urllib.parse.urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def absolute(tenant, location: str) -> str:
    return urllib.parse.urljoin(tenant.base + "/", location)


@dataclass
class LoginResult:
    location: str            # where usher finally redirected (the callback with code/state or error)
    query: dict
    login_response: requests.Response | None   # the POST /u/login answer (None when SSO skipped the form)


def open_login_form(session, tenant, params):
    """GET /authorize, follow to /u/login; returns (the /authorize response, the login page response)."""
    r = session.get(tenant.base + "/authorize", params=params, allow_redirects=False, timeout=30)
    if r.status_code != 302:
        return r, None
    location = absolute(tenant, r.headers["Location"])
    if not location.startswith(tenant.base + "/u/login"):
        return r, None
    return r, session.get(location, allow_redirects=False, timeout=30)


def submit_login_form(session, tenant, page_response, email, password):
    page = parse_page(page_response)
    form = page.form("/u/login")
    fields = {k: v["value"] for k, v in form["inputs"].items() if v["type"] == "hidden"}
    fields.update(username=email, password=password)
    return session.post(tenant.base + "/u/login", data=fields, allow_redirects=False, timeout=60,
                        headers={"Origin": tenant.base, "Referer": page_response.url})


def login_over_http(session, tenant, params, email, password) -> LoginResult:
    """/authorize → /u/login → POST the form (hidden state and _csrf, with the CSRF cookie) → the redirect back.
    With a live session cookie /authorize answers the callback directly and no form is shown."""
    r, page = open_login_form(session, tenant, params)
    if page is None:
        assert r.status_code == 302, (r.status_code, r.text[:2000])
        location = absolute(tenant, r.headers["Location"])
        return LoginResult(location, query_of(location), None)
    assert page.status_code == 200, (page.status_code, page.text[:2000])
    posted = submit_login_form(session, tenant, page, email, password)
    assert posted.status_code == 302, (posted.status_code, posted.text[:3000])
    location = absolute(tenant, posted.headers["Location"])
    return LoginResult(location, query_of(location), posted)


def code_for(session, tenant, app, redirect_uri, email, password, **params) -> tuple[str, dict]:
    """Logs in over HTTP and returns (code, the authorize parameters)."""
    p = authorize_params(app, redirect_uri, **params)
    result = login_over_http(session, tenant, p, email, password)
    assert without_query(result.location) == redirect_uri, result.location
    assert "code" in result.query, result.location
    assert result.query.get("state") == p["state"], result.location
    return result.query["code"], p


def logs_of_type(tenant, event_type) -> list:
    """`GET /api/v2/logs?q=type:<t>` (Auth0's log search), newest first; asserts every entry has that type."""
    r = tenant.usher.session().get(tenant.base + "/api/v2/logs", headers=tenant.headers(), timeout=10,
                                   params={"q": f"type:{event_type}", "per_page": 100, "sort": "date:-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    logs = body["logs"] if isinstance(body, dict) else body
    assert all(e["type"] == event_type for e in logs), [e["type"] for e in logs]
    return logs


# ---------------------------------------------------------------- ID tokens


def discovery(session, tenant) -> dict:
    r = session.get(tenant.base + "/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def verify_id_token(session, tenant, id_token, client_id, nonce=None) -> dict:
    """Checks the ID token as an OIDC relying party does, with authlib: RS256 signature against the JWKS (by kid),
    iss, aud, exp/iat and (when given) nonce. Returns the claims."""
    from authlib.jose import JsonWebKey, jwt
    from authlib.oidc.core import CodeIDToken

    config = discovery(session, tenant)
    jwks = session.get(config["jwks_uri"], timeout=10).json()
    header = jwt_header(id_token)
    assert header["alg"] == "RS256", header
    assert header.get("kid") in [k.get("kid") for k in jwks["keys"]], (header, jwks)
    params = {"client_id": client_id}
    if nonce is not None:
        params["nonce"] = nonce
    claims = jwt.decode(id_token, JsonWebKey.import_key_set(jwks), claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": config["issuer"]},
                                        "aud": {"essential": True, "value": client_id}},
                        claims_params=params)
    claims.validate(leeway=120)
    assert claims["aud"] == client_id, claims
    if nonce is not None:
        assert claims["nonce"] == nonce, claims
    return dict(claims)


def jwt_header(token: str) -> dict:
    import json
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def jwt_claims(token: str) -> dict:
    import json
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


# ---------------------------------------------------------------- Actions (Management API)


def actions_api_status(tenant) -> int:
    """The status of `POST /api/v2/actions/actions` with an empty body: 404 means the server has no Actions API
    (nothing is created either way: an empty body is not a valid action)."""
    r = tenant.usher.session().post(tenant.base + "/api/v2/actions/actions", json={}, headers=tenant.headers(),
                                    timeout=15)
    return r.status_code


def require_actions_api(tenant):
    status = actions_api_status(tenant)
    if status == 404:
        pytest.skip("this usher has no Actions Management API yet (POST /api/v2/actions/actions answers 404); "
                    "the post-login Action tests run once it lands")


def deploy_post_login_action(tenant, code, name=None, timeout=60.0) -> str:
    """Creates, deploys and binds a post-login Action with the auth0-python SDK, exactly as an Auth0 customer's
    script does; returns the action id. Replaces any earlier binding of the trigger."""
    from auth0.management import ActionBindingRef, ActionBindingWithRef, ActionTrigger

    name = name or f"action-{uuid.uuid4().hex[:8]}"
    created = tenant.sdk.actions.create(name=name, supported_triggers=[ActionTrigger(id="post-login", version="v3")],
                                        code=code, runtime="node22")
    action_id = created.id
    assert action_id, created
    # Auth0 builds an action asynchronously (status pending → built) and refuses to deploy it before that.
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = getattr(tenant.sdk.actions.get(action_id), "status", None)
        if status in (None, "built"):
            break
        assert status not in ("failed",), f"action {name} failed to build"
        time.sleep(0.2)
    tenant.sdk.actions.deploy(action_id)
    tenant.sdk.actions.triggers.bindings.update_many(
        "post-login", bindings=[ActionBindingWithRef(ref=ActionBindingRef(type="action_id", value=action_id),
                                                     display_name=name)])
    return action_id


def unbind_post_login(tenant):
    tenant.sdk.actions.triggers.bindings.update_many("post-login", bindings=[])
