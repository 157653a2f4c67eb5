"""Login and OpenID Connect against a real `usher serve`, with real clients:

* authlib as the relying party (discovery, authorization code + PKCE S256, code exchange with client_secret_post
  and client_secret_basic, ID token checked against the JWKS — signature, iss, aud, nonce —, /userinfo, refresh
  token rotation), the login form filled by headless Chromium (Selenium) by its labels, landing on a local
  http.server callback;
* auth0-python's `GetToken.login` (Auth0's password-realm grant), success and the wrong-password error;
* the negative paths with plain `requests` (redirect_uri, PKCE, code reuse, client authentication, state,
  prompt=none, logout returnTo);
* brute-force protection: the block, the `blocked_account` email through the real courier and SMTP test server,
  and the reset through the emailed link that lifts it;
* Auth0's invitation guide end to end: invite, set the password from the email, sign in over OIDC in the browser,
  and (once the Actions Management API exists) the guide's post-login Action clearing `needsInvitation`.

Every test runs on SQLite, and on PostgreSQL when USHER_TEST_POSTGRES_URL is set. The HTTP tests use a TLS usher
(the session cookie must be Secure there); the browser tests a plain-HTTP one (Chromium trusts no test CA), as in
test_browser.py. Screenshots go to USHER_TEST_ARTIFACTS (default tests/artifacts/).
"""
import secrets
import urllib.parse

import pytest
from auth0.authentication.exceptions import Auth0Error

from conftest import BACKENDS
from oidc_support import (BLOCKED_TEXT, CONNECTION, FULL_SCOPE, SEED_ACTION, WRONG_CREDENTIALS, assert_oauth_error,
                          authorize_params, callback_server, code_for, create_app, create_user, deploy_post_login_action,
                          discovery, get_token, jwt_claims, login_over_http, logs_of_type, open_login_form,
                          password_realm, pkce_pair, query_of, require_actions_api, submit_login_form, token_request,
                          unbind_post_login, verify_id_token, without_query)
from reset_support import (INVITE_TITLE, html_part, links, needs_smtp, parse_page, smtp, start_tenant,
                           strong_password, submit_new_password, wait_for_mail, wait_until)
from test_browser import (chromium, click_submit, email_link, screenshot, type_into, wait_for_heading,
                          wait_for_landing, page_wait)

pytestmark = needs_smtp
__all__ = ["smtp", "chromium", "callback_server"]  # module fixtures imported for pytest


# ---------------------------------------------------------------- fixtures


def _tenant(request, smtp, tmp_path_factory, callback_server, tls):
    with pytest.MonkeyPatch.context() as mp:
        if not tls:
            # authlib refuses plain-HTTP token endpoints unless told this is a development setup (127.0.0.1 here).
            mp.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
        t = start_tenant(tmp_path_factory.mktemp(f"usher-oidc-{request.param}"), smtp, backend=request.param,
                         tls=tls, result_url=callback_server.after_invite, monkeypatch=mp if tls else None)
        t.backend = request.param
        try:
            yield t
        finally:
            t.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def tenant(request, smtp, tmp_path_factory, callback_server):
    """The guide's tenant on a TLS usher (https://127.0.0.1:PORT), for the HTTP and SDK tests."""
    yield from _tenant(request, smtp, tmp_path_factory, callback_server, tls=True)


@pytest.fixture(scope="module", params=BACKENDS)
def web_tenant(request, smtp, tmp_path_factory, callback_server):
    """The guide's tenant on a plain-HTTP usher, for the browser tests."""
    yield from _tenant(request, smtp, tmp_path_factory, callback_server, tls=False)


@pytest.fixture
def browser(chromium):
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    yield chromium
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})


@pytest.fixture
def http(tenant):
    return tenant.usher.session()


@pytest.fixture
def app(tenant, callback_server):
    """A confidential (regular web) application with every login grant and the local callback."""
    return create_app(tenant, [callback_server.callback], logout_urls=[callback_server.logged_out])


@pytest.fixture
def spa(tenant, callback_server):
    """A public application (app_type spa → token_endpoint_auth_method none)."""
    return create_app(tenant, [callback_server.callback], app_type="spa", logout_urls=[callback_server.logged_out])


# ---------------------------------------------------------------- the browser, authlib


def by_label(driver, text):
    from selenium.webdriver.common.by import By
    label = driver.find_element(By.XPATH, f"//label[normalize-space()='{text}']")
    return driver.find_element(By.ID, label.get_attribute("for"))


def click_button(driver, text):
    from selenium.webdriver.common.by import By
    driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']").click()


def wait_for(driver, predicate, what):
    try:
        return page_wait(driver).until(predicate)
    except Exception:
        raise AssertionError(f"timed out waiting for {what}; at {driver.current_url}:\n{driver.page_source[:3000]}")


def alert_text(driver) -> str:
    from selenium.webdriver.common.by import By
    return " ".join(" ".join(e.text.split()) for e in driver.find_elements(By.CSS_SELECTOR, "[role='alert']"))


def relying_party(tenant, app, redirect_uri, auth_method="client_secret_post"):
    from authlib.integrations.requests_client import OAuth2Session
    return OAuth2Session(app.client_id, app.client_secret, scope=FULL_SCOPE, redirect_uri=redirect_uri,
                         code_challenge_method="S256", token_endpoint_auth_method=auth_method)


def browser_login(browser, tenant, app, callback, email, password, *, shot=None, wrong_first=False,
                  auth_method="client_secret_post", expect_form=True, **extra):
    """The authorization code flow with authlib as the relying party and Chromium as the user agent.
    Returns (authlib session, token, ID token claims)."""
    from authlib.common.security import generate_token

    config = discovery(tenant.usher.session(), tenant)
    rp = relying_party(tenant, app, callback, auth_method)
    verifier, nonce = generate_token(64), generate_token(24)
    url, state = rp.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier, nonce=nonce,
                                             **extra)
    assert "code_challenge=" in url and "code_challenge_method=S256" in url
    browser.get(url)
    if expect_form:
        wait_for(browser, lambda d: d.current_url.startswith(tenant.base + "/u/login") and by_label(d, "Email address"),
                 "the login form")
        if shot:
            screenshot(browser, f"{shot}-login-page-{tenant.backend}")
        if wrong_first:
            type_into(browser, "Email address", email)
            type_into(browser, "Password", password + "-wrong")
            click_button(browser, "Continue")
            wait_for(browser, lambda d: WRONG_CREDENTIALS in alert_text(d), "the wrong-password error")
            if shot:
                screenshot(browser, f"{shot}-login-error-{tenant.backend}")
        field = by_label(browser, "Email address")
        field.clear()
        field.send_keys(email)
        by_label(browser, "Password").send_keys(password)
        click_button(browser, "Continue")
    wait_for(browser, lambda d: d.current_url.startswith(callback), f"the callback {callback}")
    landed = browser.current_url
    if shot:
        screenshot(browser, f"{shot}-callback-{tenant.backend}")
    query = query_of(landed)
    assert "error" not in query, landed
    assert query["state"] == state
    token = rp.fetch_token(config["token_endpoint"], authorization_response=landed, code_verifier=verifier)
    claims = verify_id_token(tenant.usher.session(), tenant, token["id_token"], app.client_id, nonce=nonce)
    return rp, token, claims


# ---------------------------------------------------------------- discovery


def test_discovery_document(tenant, http):
    config = discovery(http, tenant)
    base = tenant.base
    assert config["issuer"] == base + "/"
    assert config["authorization_endpoint"] == base + "/authorize"
    assert config["token_endpoint"] == base + "/oauth/token"
    assert config["userinfo_endpoint"] == base + "/userinfo"
    assert config["revocation_endpoint"] == base + "/oauth/revoke"
    assert config["end_session_endpoint"] == base + "/v2/logout"
    assert config["jwks_uri"] == base + "/.well-known/jwks.json"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
    assert "RS256" in config["id_token_signing_alg_values_supported"]
    keys = http.get(config["jwks_uri"], timeout=10).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k.get("kid") for k in keys)


# ---------------------------------------------------------------- the browser + authlib journey


def test_authorization_code_pkce_in_the_browser_with_authlib(browser, web_tenant, callback_server):
    tenant = web_tenant
    app = create_app(tenant, [callback_server.callback], logout_urls=[callback_server.logged_out])
    user, password = create_user(tenant, name="Ada Oidc")
    session = tenant.usher.session()
    config = discovery(session, tenant)

    rp, token, claims = browser_login(browser, tenant, app, callback_server.callback, user.email, password,
                                      shot="oidc", wrong_first=True)
    assert {"access_token", "id_token", "refresh_token"} <= set(token), token
    assert token["token_type"].lower() == "bearer"
    assert claims["sub"] == user.user_id
    assert claims["iss"] == tenant.base + "/"
    assert claims["email"] == user.email and claims["email_verified"] is True
    assert claims["name"] == "Ada Oidc"
    access = jwt_claims(token["access_token"])
    assert tenant.base + "/userinfo" in (access["aud"] if isinstance(access["aud"], list) else [access["aud"]])

    # /userinfo with the access token (authlib adds the bearer header).
    info = rp.get(config["userinfo_endpoint"], timeout=30)
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == user.user_id and info.json()["email"] == user.email

    # Refresh (offline_access): a new refresh token each time; the old one is refused afterwards, and its reuse
    # revokes the family (the rotated token stops working too).
    first_refresh = token["refresh_token"]
    refreshed = rp.refresh_token(config["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["refresh_token"] and refreshed["refresh_token"] != first_refresh
    assert refreshed["access_token"] != token["access_token"]
    verify_id_token(session, tenant, refreshed["id_token"], app.client_id)
    again = token_request(session, tenant, grant_type="refresh_token", refresh_token=first_refresh,
                          client_id=app.client_id, client_secret=app.client_secret)
    assert_oauth_error(again, 403, "invalid_grant")
    family = token_request(session, tenant, grant_type="refresh_token", refresh_token=refreshed["refresh_token"],
                           client_id=app.client_id, client_secret=app.client_secret)
    assert_oauth_error(family, 403, "invalid_grant")

    # Single sign-on: the session cookie lets prompt=none come straight back with a code (client_secret_basic).
    _, sso_token, sso_claims = browser_login(browser, tenant, app, callback_server.callback, user.email, password,
                                             auth_method="client_secret_basic", expect_form=False, prompt="none")
    assert sso_claims["sub"] == user.user_id

    # Logout to an allowed URL, then prompt=none has no session any more.
    browser.get(config["end_session_endpoint"] + "?" + urllib.parse.urlencode(
        {"client_id": app.client_id, "returnTo": callback_server.logged_out}))
    wait_for(browser, lambda d: d.current_url.startswith(callback_server.logged_out), "the logout landing page")
    rp2 = relying_party(tenant, app, callback_server.callback)
    url, state = rp2.create_authorization_url(config["authorization_endpoint"], code_verifier=pkce_pair()[0],
                                              nonce="n", prompt="none")
    browser.get(url)
    wait_for(browser, lambda d: d.current_url.startswith(callback_server.callback), "the prompt=none answer")
    answer = query_of(browser.current_url)
    assert answer["error"] == "login_required" and answer["state"] == state, browser.current_url

    # The form links to "Forgot password?".
    url, _ = rp2.create_authorization_url(config["authorization_endpoint"], code_verifier=pkce_pair()[0], nonce="n")
    browser.get(url)
    wait_for(browser, lambda d: by_label(d, "Password"), "the login form")
    from selenium.webdriver.common.by import By
    forgot = browser.find_element(By.LINK_TEXT, "Forgot password?")
    assert urllib.parse.urlsplit(forgot.get_attribute("href")).path == "/lo/reset/request"


# ---------------------------------------------------------------- auth0-python, password-realm


def test_password_realm_login_with_auth0_python(tenant, http, app):
    user, password = create_user(tenant, name="Realm User")
    tokens = get_token(tenant, app).login(username=user.email, password=password, realm=CONNECTION,
                                          scope="openid profile email offline_access")
    assert {"access_token", "id_token", "refresh_token", "expires_in"} <= set(tokens), tokens
    assert tokens["token_type"] == "Bearer"
    claims = verify_id_token(http, tenant, tokens["id_token"], app.client_id)
    assert claims["sub"] == user.user_id and claims["email"] == user.email and claims["name"] == "Realm User"
    info = http.get(tenant.base + "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]},
                    timeout=30)
    assert info.status_code == 200 and info.json()["sub"] == user.user_id, info.text
    # The refresh token works with the SDK too, and rotates.
    refreshed = get_token(tenant, app).refresh_token(tokens["refresh_token"])
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert tenant.sdk.users.get(user.user_id).logins_count == 1


def test_wrong_password_with_auth0_python(tenant, app):
    user, password = create_user(tenant)
    for username, secret in ((user.email, password + "x"), ("nobody-" + user.email, password)):
        with pytest.raises(Auth0Error) as failure:
            get_token(tenant, app).login(username=username, password=secret, realm=CONNECTION,
                                         scope="openid profile email offline_access")
        assert failure.value.status_code == 403
        assert failure.value.error_code == "invalid_grant"
        assert failure.value.message == WRONG_CREDENTIALS


def test_grant_types_and_client_authentication_at_the_token_endpoint(tenant, http, app, callback_server):
    user, password = create_user(tenant)
    # Wrong client secret: 401 invalid_client, for the password grant and the code exchange alike.
    wrong = password_realm(http, tenant, app, user.email, password, client_secret="not-the-secret")
    assert_oauth_error(wrong, 401, "invalid_client")
    verifier, challenge = pkce_pair()
    code, params = code_for(http, tenant, app, callback_server.callback, user.email, password, challenge=challenge)
    r = token_request(http, tenant, grant_type="authorization_code", code=code, redirect_uri=params["redirect_uri"],
                      code_verifier=verifier, client_id=app.client_id, client_secret="not-the-secret")
    assert_oauth_error(r, 401, "invalid_client")
    r = http.post(tenant.base + "/oauth/token", auth=(app.client_id, "not-the-secret"), timeout=30,
                  data={"grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"],
                        "code_verifier": verifier})
    assert_oauth_error(r, 401, "invalid_client")
    # The right secret, in the Authorization header (client_secret_basic): the code was not burnt by the failures.
    r = http.post(tenant.base + "/oauth/token", auth=(app.client_id, app.client_secret), timeout=30,
                  data={"grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"],
                        "code_verifier": verifier})
    assert r.status_code == 200, r.text
    # An application without the password grants may not use them.
    narrow = create_app(tenant, [callback_server.callback], grant_types=["authorization_code", "refresh_token"])
    assert_oauth_error(password_realm(http, tenant, narrow, user.email, password), 403, "unauthorized_client")


# ---------------------------------------------------------------- /authorize and /oauth/token, negative paths


def test_unregistered_redirect_uri_is_a_page_not_a_redirect(tenant, http, app):
    params = authorize_params(app, "https://evil.example.com/callback", challenge=pkce_pair()[1])
    r = http.get(tenant.base + "/authorize", params=params, allow_redirects=False, timeout=30)
    assert r.status_code == 400, (r.status_code, r.headers, r.text[:1000])
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")
    assert "evil.example.com" in r.text  # the page says which URL is not allowed
    # A near miss (extra path, other port) is just as wrong: exact match only.
    registered = app.callbacks[0]
    for near in (registered + "/extra", registered + "?x=1", registered.replace("127.0.0.1", "localhost")):
        r = http.get(tenant.base + "/authorize", params={**params, "redirect_uri": near}, allow_redirects=False,
                     timeout=30)
        assert r.status_code == 400 and "Location" not in r.headers, near


def test_public_client_must_use_pkce_s256(tenant, http, spa, callback_server):
    state = "st-" + secrets.token_urlsafe(8)
    params = authorize_params(spa, callback_server.callback, state=state)
    r = http.get(tenant.base + "/authorize", params=params, allow_redirects=False, timeout=30)
    assert r.status_code == 302, (r.status_code, r.text[:1000])
    location = r.headers["Location"]
    assert without_query(location) == callback_server.callback
    assert query_of(location)["error"] == "invalid_request" and query_of(location)["state"] == state
    # plain PKCE is refused as well
    verifier = secrets.token_urlsafe(48)
    r = http.get(tenant.base + "/authorize", allow_redirects=False, timeout=30,
                 params={**params, "code_challenge": verifier, "code_challenge_method": "plain"})
    assert r.status_code == 302 and query_of(r.headers["Location"])["error"] == "invalid_request"
    # With S256 the public client logs in and exchanges the code without a secret.
    user, password = create_user(tenant)
    verifier, challenge = pkce_pair()
    code, p = code_for(http, tenant, spa, callback_server.callback, user.email, password, challenge=challenge)
    r = token_request(http, tenant, grant_type="authorization_code", code=code, redirect_uri=p["redirect_uri"],
                      code_verifier=verifier, client_id=spa.client_id)
    assert r.status_code == 200, r.text
    verify_id_token(http, tenant, r.json()["id_token"], spa.client_id, nonce=p["nonce"])


def test_wrong_and_missing_pkce_verifier(tenant, http, app, callback_server):
    user, password = create_user(tenant)
    for verifier in (pkce_pair()[0], None):
        _, challenge = pkce_pair()
        code, p = code_for(http, tenant, app, callback_server.callback, user.email, password, challenge=challenge)
        fields = dict(grant_type="authorization_code", code=code, redirect_uri=p["redirect_uri"],
                      client_id=app.client_id, client_secret=app.client_secret)
        if verifier:
            fields["code_verifier"] = verifier
        assert_oauth_error(token_request(http, tenant, **fields), 403, "invalid_grant")


def test_code_is_single_use_and_reuse_revokes_its_refresh_token(tenant, http, app, callback_server):
    user, password = create_user(tenant)
    verifier, challenge = pkce_pair()
    code, p = code_for(http, tenant, app, callback_server.callback, user.email, password, challenge=challenge)
    fields = dict(grant_type="authorization_code", code=code, redirect_uri=p["redirect_uri"], code_verifier=verifier,
                  client_id=app.client_id, client_secret=app.client_secret)
    first = token_request(http, tenant, **fields)
    assert first.status_code == 200, first.text
    refresh = first.json()["refresh_token"]
    assert_oauth_error(token_request(http, tenant, **fields), 403, "invalid_grant")
    r = token_request(http, tenant, grant_type="refresh_token", refresh_token=refresh, client_id=app.client_id,
                      client_secret=app.client_secret)
    assert_oauth_error(r, 403, "invalid_grant")


def test_redirect_uri_must_match_at_the_token_endpoint(tenant, http, callback_server):
    other = callback_server.base + "/other-callback"
    app = create_app(tenant, [callback_server.callback, other])
    user, password = create_user(tenant)
    verifier, challenge = pkce_pair()
    code, p = code_for(http, tenant, app, callback_server.callback, user.email, password, challenge=challenge)
    r = token_request(http, tenant, grant_type="authorization_code", code=code, redirect_uri=other,
                      code_verifier=verifier, client_id=app.client_id, client_secret=app.client_secret)
    assert_oauth_error(r, 403, "invalid_grant")


def test_state_round_trips_unchanged(tenant, http, app, callback_server):
    user, password = create_user(tenant)
    state = "a b&c=d/é?" + secrets.token_urlsafe(6)
    code, _ = code_for(http, tenant, app, callback_server.callback, user.email, password, state=state,
                       challenge=pkce_pair()[1])
    assert code
    # …and on an error redirect
    r = http.get(tenant.base + "/authorize", allow_redirects=False, timeout=30,
                 params=authorize_params(app, callback_server.callback, state=state, response_type="token"))
    assert r.status_code == 302 and query_of(r.headers["Location"])["state"] == state
    assert query_of(r.headers["Location"])["error"] == "unsupported_response_type"


def test_prompt_none_without_a_session_is_login_required(tenant, http, app, callback_server):
    state = secrets.token_urlsafe(8)
    r = http.get(tenant.base + "/authorize", allow_redirects=False, timeout=30,
                 params=authorize_params(app, callback_server.callback, state=state, prompt="none",
                                         challenge=pkce_pair()[1]))
    assert r.status_code == 302, r.text[:1000]
    assert without_query(r.headers["Location"]) == callback_server.callback
    q = query_of(r.headers["Location"])
    assert q["error"] == "login_required" and q["state"] == state


def test_session_cookie_sso_and_prompt_login(tenant, http, app, callback_server):
    user, password = create_user(tenant)
    verifier, challenge = pkce_pair()
    result = login_over_http(http, tenant, authorize_params(app, callback_server.callback, challenge=challenge),
                             user.email, password)
    cookie = [v for v in result.login_response.raw.headers.getlist("Set-Cookie") if v.startswith("usher_session=")]
    assert cookie, result.login_response.headers
    attributes = {a.strip().split("=")[0].lower() for a in cookie[0].split(";")[1:]}
    assert {"httponly", "secure", "samesite"} <= attributes, cookie
    assert "samesite=lax" in cookie[0].lower().replace(" ", "")
    # With the cookie, /authorize answers the callback straight away (prompt=none too)…
    for extra in ({}, {"prompt": "none"}):
        params = authorize_params(app, callback_server.callback, challenge=challenge, **extra)
        sso = login_over_http(http, tenant, params, user.email, password)
        assert sso.login_response is None and "code" in sso.query, sso.location
    # …but prompt=login shows the form again.
    r, page = open_login_form(http, tenant, authorize_params(app, callback_server.callback, challenge=challenge,
                                                             prompt="login"))
    assert page is not None and page.status_code == 200, (r.status_code, r.headers)


def test_login_page_contract_and_errors(tenant, http, app, callback_server):
    user, password = create_user(tenant)
    _, page = open_login_form(http, tenant, authorize_params(app, callback_server.callback, challenge=pkce_pair()[1]))
    parsed = parse_page(page)
    assert parsed.labels.get("Email address") == "username" and parsed.labels.get("Password") == "password"
    assert "Continue" in parsed.buttons
    assert 'id="continue"' in page.text and 'href="/lo/reset/request"' in page.text and "Forgot password?" in page.text
    assert parsed.alert == ""
    for username, secret in ((user.email, "wrong-" + password), ("nobody-" + user.email, password)):
        posted = submit_login_form(http, tenant, page, username, secret)
        assert posted.status_code in (400, 401, 403), posted.status_code
        assert parse_page(posted).alert == WRONG_CREDENTIALS
        page = posted


def test_logout_return_to_allow_list(tenant, http, app, callback_server):
    r = http.get(tenant.base + "/v2/logout", allow_redirects=False, timeout=30,
                 params={"client_id": app.client_id, "returnTo": "https://evil.example.com/"})
    assert r.status_code == 400 and "Location" not in r.headers, (r.status_code, r.headers)
    assert r.headers["Content-Type"].startswith("text/html")
    r = http.get(tenant.base + "/v2/logout", allow_redirects=False, timeout=30,
                 params={"client_id": app.client_id, "returnTo": callback_server.logged_out})
    assert r.status_code == 302 and r.headers["Location"] == callback_server.logged_out, (r.status_code, r.headers)


# ---------------------------------------------------------------- brute-force protection


def test_brute_force_block_email_and_reset_lifts_it(tenant, http, app, callback_server):
    user, password = create_user(tenant, prefix="brute", name="Brute Target")
    sdk_login = get_token(tenant, app)
    before = sdk_login.login(username=user.email, password=password, realm=CONNECTION, scope=FULL_SCOPE)
    old_refresh = before["refresh_token"]

    for attempt in range(10):
        with pytest.raises(Auth0Error) as failure:
            sdk_login.login(username=user.email, password=f"wrong-{attempt}-{password}", realm=CONNECTION,
                            scope=FULL_SCOPE)
        assert (failure.value.status_code, failure.value.error_code) == (403, "invalid_grant"), attempt
    # The 11th attempt is refused even with the right password.
    with pytest.raises(Auth0Error) as blocked:
        sdk_login.login(username=user.email, password=password, realm=CONNECTION, scope=FULL_SCOPE)
    assert (blocked.value.status_code, blocked.value.error_code) == (429, "too_many_attempts")
    # The hosted form says so too (same email, same IP).
    _, page = open_login_form(http, tenant, authorize_params(app, callback_server.callback, challenge=pkce_pair()[1]))
    posted = submit_login_form(http, tenant, page, user.email, password)
    assert posted.status_code == 429, posted.status_code
    assert parse_page(posted).alert.startswith(BLOCKED_TEXT)

    # The blocked_account email, through the courier and the SMTP test server, with a password-change link.
    message = wait_for_mail(tenant.maildir, user.email, timeout=60)
    assert "block" in message["Subject"].lower(), message["Subject"]
    [link] = [l for l in links(html_part(message)) if "/lo/reset?ticket=" in l]
    assert link.startswith(tenant.base + "/lo/reset?ticket=")

    # The reset through the link lifts the block and ends the sessions and refresh tokens.
    session = tenant.usher.session()
    page = parse_page(session.get(link, timeout=30))
    assert page.status == 200, page.text[:2000]
    new_password = strong_password()
    done = submit_new_password(session, tenant.base, page, new_password)
    assert done.status_code in (200, 302), (done.status_code, done.text[:2000])
    tokens = sdk_login.login(username=user.email, password=new_password, realm=CONNECTION, scope=FULL_SCOPE)
    assert tokens["access_token"]
    r = token_request(http, tenant, grant_type="refresh_token", refresh_token=old_refresh, client_id=app.client_id,
                      client_secret=app.client_secret)
    assert_oauth_error(r, 403, "invalid_grant")
    # The failures are in the tenant log (Auth0's `f`, failed login), found with Auth0's log search.
    failed = wait_until(lambda: [e for e in logs_of_type(tenant, "f") if e.get("user_name") == user.email],
                        timeout=10, what="failed-login log events")
    assert len(failed) >= 11, [e.get("description") for e in failed]
    assert any(e.get("description") == WRONG_CREDENTIALS for e in failed)


# ---------------------------------------------------------------- the invitation guide, end to end


def _accept_invitation_in_the_browser(browser, tenant, callback_server, user, shot):
    link = email_link(tenant, user.email)
    assert link.endswith("#type=invite")
    browser.get(link)
    wait_for_heading(browser, INVITE_TITLE)
    password = strong_password()
    type_into(browser, "New password", password)
    type_into(browser, "Confirm new password", password)
    click_submit(browser)
    query = wait_for_landing(browser, callback_server.after_invite)
    assert query["success"] == ["true"]
    if shot:
        screenshot(browser, f"{shot}-{tenant.backend}")
    return password


def test_guide_invitation_then_oidc_login_in_the_browser(browser, web_tenant, callback_server):
    tenant = web_tenant
    app = create_app(tenant, [callback_server.callback], logout_urls=[callback_server.logged_out],
                     name="Acme Projects (OIDC)")
    user = tenant.create_invited_user(name="Ada Guide")
    password = _accept_invitation_in_the_browser(browser, tenant, callback_server, user, "guide-invite-accepted")
    after_reset = tenant.sdk.users.get(user.user_id)
    assert after_reset.email_verified is True
    # The flag is the Action's business (next test), not the reset page's.
    assert after_reset.app_metadata == {"needsInvitation": True}

    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    _, token, claims = browser_login(browser, tenant, app, callback_server.callback, user.email, password,
                                     shot="guide-oidc")
    assert claims["sub"] == user.user_id and claims["email"] == user.email and claims["email_verified"] is True
    assert tenant.sdk.users.get(user.user_id).logins_count == 1


def test_guide_action_clears_needs_invitation_on_first_login(browser, web_tenant, callback_server):
    tenant = web_tenant
    require_actions_api(tenant)
    action_id = deploy_post_login_action(tenant, SEED_ACTION, name="Clear needsInvitation")
    try:
        app = create_app(tenant, [callback_server.callback], logout_urls=[callback_server.logged_out])
        user = tenant.create_invited_user(name="Ada Action")
        password = _accept_invitation_in_the_browser(browser, tenant, callback_server, user, None)
        assert tenant.sdk.users.get(user.user_id).app_metadata == {"needsInvitation": True}

        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
        browser_login(browser, tenant, app, callback_server.callback, user.email, password, shot="guide-action")
        assert tenant.sdk.users.get(user.user_id).app_metadata == {"needsInvitation": False}

        # A second login (the form again, prompt=login) keeps it false.
        browser_login(browser, tenant, app, callback_server.callback, user.email, password, prompt="login")
        after = tenant.sdk.users.get(user.user_id)
        assert after.app_metadata == {"needsInvitation": False}
        assert after.logins_count == 2
        # The password-realm login of the SDK runs the same Action.
        other, other_password = create_user(tenant, prefix="invited-realm", app_metadata={"needsInvitation": True})
        get_token(tenant, app).login(username=other.email, password=other_password, realm=CONNECTION,
                                     scope="openid")
        assert tenant.sdk.users.get(other.user_id).app_metadata == {"needsInvitation": False}
        assert action_id
    finally:
        unbind_post_login(tenant)
