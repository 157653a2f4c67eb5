"""The invitation and reset journeys in a real browser: headless Chromium driven by Selenium, as a person would
use them. The link comes from the real email (the guide's reset_email template, delivered through the courier to
the aiosmtpd test server); fields are found by their label text, the password is typed, the button clicked, and
the browser must really land on the application's result URL — a tiny local HTTP server registered in the
application's allowed_logout_urls and as the template's resultUrl.

Usher runs without TLS here (http://127.0.0.1:PORT), so Chromium needs no certificate exception.
Screenshots of the invite page, the reset page, the error and the landing pages go to USHER_TEST_ARTIFACTS
(default tests/artifacts/).

Needs Debian's `chromium` and `chromium-driver` and the `selenium` package: skipped with the reason when they are
missing, except in CI (CI set), where that is a failure.
"""
import http.server
import os
import threading
import urllib.parse
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, free_port
from reset_support import (APP_NAME, CHANGE_PASSWORD_TEXT, CONNECTION, INVITE_TITLE, RESET_TITLE, html_part, links,
                           needs_smtp, smtp, start_tenant, strong_password, wait_for_mail)

pytestmark = needs_smtp
__all__ = ["smtp"]

CHROMIUM = os.environ.get("USHER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("USHER_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("USHER_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
TIMEOUT = 20


def _missing() -> list[str]:
    missing = [f"{path} (apt-get install -y chromium chromium-driver)" for path in (CHROMIUM, CHROMEDRIVER)
               if not Path(path).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -r tests/e2e/requirements.txt)")
    return missing


def screenshot(driver, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


# ---------------------------------------------------------------- fixtures


class _Landing(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802
        type(self).seen.append(self.path)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        body = ("<!doctype html><html><head><meta charset='utf-8'><title>Acme Projects</title></head><body>"
                "<h1 id='landing'>Welcome to Acme Projects</h1>"
                f"<p id='message'>{query.get('message', [''])[0]}</p></body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def landing():
    """The application's page the browser lands on after setting the password."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Landing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/after-invite"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tenant(smtp, landing, tmp_path_factory):
    t = start_tenant(tmp_path_factory.mktemp("usher-browser"), smtp, tls=False, result_url=landing)
    yield t
    t.stop()


def make_driver():
    """A headless Chromium, failing the run in CI when it (or Selenium) is missing and skipping elsewhere."""
    missing = _missing()
    if missing:
        message = "headless Chromium tests need " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + " (in CI these must be installed: scripts/install-deps.sh test)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1100,900", "--no-first-run", "--disable-extensions",
                     "--disable-features=PasswordLeakDetection,AutofillServerCommunication",
                     "--lang=en-US"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"credentials_enable_service": False,
                                              "profile.password_manager_enabled": False})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(ARTIFACTS / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(TIMEOUT)
    return driver


@pytest.fixture(scope="module")
def chromium():
    driver = make_driver()
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium):
    chromium.delete_all_cookies()
    yield chromium
    chromium.delete_all_cookies()


# ---------------------------------------------------------------- a person's actions


def email_link(tenant, user_email) -> str:
    assert tenant.auth().change_password(email=user_email, connection=CONNECTION) == CHANGE_PASSWORD_TEXT
    message = wait_for_mail(tenant.maildir, user_email)
    [link] = [l for l in links(html_part(message)) if "/lo/reset" in l]
    return link


def field_by_label(driver, label_text):
    from selenium.webdriver.common.by import By
    label = driver.find_element(By.XPATH, f"//label[normalize-space()='{label_text}']")
    target = label.get_attribute("for")
    assert target, f"label {label_text!r} names no field"
    return driver.find_element(By.ID, target)


def type_into(driver, label_text, text):
    field = field_by_label(driver, label_text)
    field.clear()
    field.send_keys(text)
    return field


def page_wait(driver, timeout=TIMEOUT):
    """A WebDriverWait that retries a predicate whose element vanished or went stale: during a navigation the old
    page's elements are replaced, and a predicate reading them raises instead of answering False."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def heading(driver) -> str:
    from selenium.webdriver.common.by import By
    return " ".join(driver.find_element(By.CSS_SELECTOR, "h1#title").text.split())


def wait_for_heading(driver, expected):
    try:
        page_wait(driver).until(lambda d: heading(d) == expected)
    except Exception:
        raise AssertionError(f"heading is {heading(driver)!r}, expected {expected!r}; page:\n{driver.page_source[:3000]}")


def click_submit(driver) -> str:
    from selenium.webdriver.common.by import By
    button = driver.find_element(By.XPATH, "//form[@id='reset-form']//button[@type='submit']")
    text = " ".join(button.text.split())
    button.click()
    return text


def wait_for_landing(driver, landing):
    try:
        page_wait(driver).until(lambda d: d.current_url.startswith(landing))
    except Exception:
        raise AssertionError(f"did not land on {landing}; at {driver.current_url}:\n{driver.page_source[:3000]}")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)
    return query


def rule_state(driver, rule) -> set:
    from selenium.webdriver.common.by import By
    item = driver.find_element(By.CSS_SELECTOR, f"ul#password-rules li[data-rule='{rule}']")
    return set((item.get_attribute("class") or "").split())


def wait_for_rule(driver, rule, state):
    try:
        page_wait(driver, 5).until(lambda d: state in rule_state(d, rule))
    except Exception:
        raise AssertionError(f"rule {rule!r} has classes {rule_state(driver, rule)}, expected {state!r}")


# ---------------------------------------------------------------- the journeys


def test_invitation_in_the_browser(browser, tenant, landing):
    user = tenant.create_invited_user(name="Ada Browser")
    link = email_link(tenant, user.email)
    assert link.endswith("#type=invite")

    browser.get(link)
    wait_for_heading(browser, INVITE_TITLE)
    assert browser.find_element("css selector", "input[name='_csrf']").get_attribute("value")
    screenshot(browser, "invite-page")

    password = strong_password()
    type_into(browser, "New password", password)
    type_into(browser, "Confirm new password", password)
    assert click_submit(browser) in ("Set password", "Reset password")

    query = wait_for_landing(browser, landing)
    assert query["success"] == ["true"] and query["email"] == [user.email]
    screenshot(browser, "invite-landing")
    assert tenant.sdk.users.get(user.user_id).email_verified is True


def test_reset_in_the_browser(browser, tenant, landing):
    user = tenant.create_existing_user(name="Grace Browser")
    link = email_link(tenant, user.email)
    assert link.endswith("#type=reset")

    browser.get(link)
    wait_for_heading(browser, RESET_TITLE)
    screenshot(browser, "reset-page")

    password = strong_password()
    type_into(browser, "New password", password)
    type_into(browser, "Confirm new password", password)
    click_submit(browser)
    query = wait_for_landing(browser, landing)
    assert query["success"] == ["true"]
    screenshot(browser, "reset-landing")


def test_invite_fragment_gives_the_invite_page_to_any_user(browser, tenant):
    """The server picks "reset" for a user without needsInvitation; the page's script applies #type=invite."""
    user = tenant.create_existing_user(name="Fragment User")
    link = email_link(tenant, user.email)
    assert link.endswith("#type=reset")
    browser.get(link[: -len("reset")] + "invite")
    wait_for_heading(browser, INVITE_TITLE)
    screenshot(browser, "fragment-invite-page")


def test_password_rules_update_as_you_type(browser, tenant):
    user = tenant.create_invited_user(name="Rules User")
    browser.get(email_link(tenant, user.email))
    wait_for_heading(browser, INVITE_TITLE)
    type_into(browser, "New password", "abc")
    wait_for_rule(browser, "length", "unmet")
    screenshot(browser, "rules-unmet")
    type_into(browser, "New password", strong_password())
    wait_for_rule(browser, "length", "met")
    screenshot(browser, "rules-met")


def test_mismatched_passwords_show_an_error_and_keep_the_link(browser, tenant, landing):
    from selenium.webdriver.common.by import By

    user = tenant.create_invited_user(name="Typo User")
    link = email_link(tenant, user.email)
    browser.get(link)
    wait_for_heading(browser, INVITE_TITLE)
    type_into(browser, "New password", strong_password())
    type_into(browser, "Confirm new password", strong_password())
    click_submit(browser)

    def error_text(d):
        found = [e for e in d.find_elements(By.CSS_SELECTOR, "[role='alert']") if e.is_displayed()]
        return " ".join(" ".join(e.text.split()) for e in found)

    page_wait(browser).until(lambda d: "Passwords don't match" in error_text(d))
    screenshot(browser, "mismatch-error")
    assert not browser.current_url.startswith(landing)

    # The ticket was not consumed: the person corrects the typo and succeeds (on the re-rendered page, or on
    # the same page when the script caught the mismatch before sending).
    password = strong_password()
    type_into(browser, "New password", password)
    type_into(browser, "Confirm new password", password)
    click_submit(browser)
    query = wait_for_landing(browser, landing)
    assert query["success"] == ["true"]
    assert tenant.sdk.users.get(user.user_id).email_verified is True


FRENCH_INVITE_TITLE = "Bienvenue — choisissez un mot de passe pour activer votre compte"


def management(tenant, method, path, **kwargs):
    """A Management API call with the tenant's token (`/api/v2/invitations` is Usher's: no SDK method wraps it)."""
    r = tenant.usher.session().request(method, f"{tenant.base}/api/v2/{path}", timeout=30,
                                       headers={"Authorization": f"Bearer {tenant.token}"}, **kwargs)
    assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text[:500]}"
    return r.json() if r.content else None


def test_a_french_invitation_object_is_accepted_in_french_in_the_browser(browser, tenant, landing):
    """An invitation object for a French speaker: the template's French translation arrives at the SMTP server, the
    page is French (`lang`, heading, labels, button), the password is set in Chromium and the invitation is accepted.
    An invitee whose language has no translation gets the template as the tenant wrote it."""
    base = management(tenant, "GET", "email-templates/reset_email")
    management(tenant, "PATCH", "email-templates/reset_email", json={"translations": {"fr": {
        "subject": "Invitation à {{ application.name }}",
        "body": '<p>Bonjour,</p><p><a href="{{ url }}type=invite">Accepter l\'invitation</a></p>'}}})
    french, german = f"lea-{uuid.uuid4().hex[:8]}@example.com", f"jonas-{uuid.uuid4().hex[:8]}@example.com"
    invitation = management(tenant, "POST", "invitations", json={
        "invitee": {"email": french}, "client_id": tenant.client_id, "user_metadata": {"lang": "fr"}, "result_url": landing})
    management(tenant, "POST", "invitations", json={"invitee": {"email": german}, "user_metadata": {"lang": "de"}})

    message = wait_for_mail(tenant.maildir, french)
    assert message["Subject"] == f"Invitation à {APP_NAME}", message["Subject"]
    [link] = [l for l in links(html_part(message)) if "/lo/reset" in l]
    assert wait_for_mail(tenant.maildir, german)["Subject"] != message["Subject"]
    assert base["subject"] and "Invitation à" not in base["subject"]

    browser.get(link)
    wait_for_heading(browser, FRENCH_INVITE_TITLE)
    assert browser.find_element("css selector", "html").get_attribute("lang") == "fr"
    screenshot(browser, "invite-page-fr")
    password = strong_password()
    type_into(browser, "Nouveau mot de passe", password)
    type_into(browser, "Confirmez le nouveau mot de passe", password)
    assert click_submit(browser) == "Définir le mot de passe"

    query = wait_for_landing(browser, landing)
    assert query["success"] == ["true"] and query["email"] == [french]
    accepted = management(tenant, "GET", f"invitations/{invitation['id']}")
    assert accepted["status"] == "accepted" and accepted["accepted_at"] and accepted["locale"] is None
    assert tenant.sdk.users.get(invitation["user_id"]).email_verified is True
