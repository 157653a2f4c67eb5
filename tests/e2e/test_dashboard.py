"""The admin dashboard in a real browser: an administrator signs in at /admin with the account bootstrapped from
USHER_BOOTSTRAP_ADMIN_EMAIL/PASSWORD, invites a person, watches the invitation's email go out through the courier
to the TLS SMTP test server, and sees it accepted after the person set a password in a second Chromium session.
Every dashboard page on the way is checked with axe-core (axe-selenium-python): no serious or critical violation.
Screenshots (laptop and phone widths) go to USHER_TEST_ARTIFACTS (default tests/artifacts/).
"""
import uuid

import pytest

from reset_support import APP_NAME, INVITE_TITLE, html_part, links, needs_smtp, smtp, start_tenant, strong_password, wait_for_mail
from test_browser import (browser, chromium, click_submit, field_by_label, landing, make_driver, page_wait, screenshot,
                          type_into, wait_for_heading, wait_for_landing)

pytestmark = needs_smtp
__all__ = ["smtp", "browser", "chromium", "landing"]

ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "a long dashboard passphrase"


@pytest.fixture(scope="module")
def dashboard_tenant(smtp, landing, tmp_path_factory):
    t = start_tenant(tmp_path_factory.mktemp("usher-dashboard"), smtp, tls=False, result_url=landing, extra_env={
        "USHER_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL, "USHER_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD})
    yield t
    t.stop()


def assert_accessible(driver, page):
    """axe-core on the page as rendered: serious and critical violations fail the test, with axe's report."""
    from axe_selenium_python import Axe
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page}: " + axe.report(bad)


def h1(driver) -> str:
    return " ".join(driver.find_element("css selector", "main h1").text.split())


def wait_for_h1(driver, expected):
    try:
        page_wait(driver).until(lambda d: h1(d) == expected)
    except Exception:
        raise AssertionError(f"heading is {h1(driver)!r}, expected {expected!r}; page:\n{driver.page_source[:3000]}")


def cell_texts(driver, row_link_text):
    row = driver.find_element("xpath", f"//table[@id='invitations']//tr[td/a[normalize-space()='{row_link_text}']]")
    return [" ".join(td.text.split()) for td in row.find_elements("tag name", "td")]


def test_an_administrator_invites_a_person_who_accepts_in_another_browser(browser, dashboard_tenant, landing):
    base = dashboard_tenant.base
    invitee = f"ada-{uuid.uuid4().hex[:8]}@example.com"

    browser.get(base + "/admin")
    wait_for_h1(browser, "Sign in to Usher")
    assert browser.current_url.startswith(base + "/admin/login")
    assert_accessible(browser, "sign-in")
    screenshot(browser, "admin-sign-in")
    type_into(browser, "Email", ADMIN_EMAIL)
    type_into(browser, "Password", "not the password")
    browser.find_element("id", "sign-in").click()
    page_wait(browser).until(lambda d: "Wrong email or password." in d.page_source)
    type_into(browser, "Password", ADMIN_PASSWORD)
    browser.find_element("id", "sign-in").click()
    wait_for_h1(browser, "Invitations")
    assert_accessible(browser, "invitations (empty)")

    browser.find_element("link text", "Invite people").click()
    wait_for_h1(browser, "Invite people")
    assert_accessible(browser, "invite form")
    type_into(browser, "Email addresses", invitee)
    type_into(browser, "Name", "Ada Lovelace")
    from selenium.webdriver.support.ui import Select
    Select(field_by_label(browser, "Application")).select_by_visible_text(APP_NAME)
    screenshot(browser, "admin-invite-form")
    browser.find_element("id", "send-invitations").click()
    wait_for_h1(browser, "Invitations sent")
    assert "1 of 1 invited." in browser.page_source
    assert_accessible(browser, "invite results")
    screenshot(browser, "admin-invite-results")

    # Pending, and the courier's delivery shows up as "sent" (the list is reloaded as a person would).
    browser.get(base + "/admin/invitations?status=pending")
    def delivered(driver):
        driver.refresh()
        return cell_texts(driver, invitee)[1:3] == ["pending", "sent"]
    page_wait(browser, 30).until(delivered)
    assert_accessible(browser, "invitations")
    screenshot(browser, "admin-invitations")
    browser.set_window_size(390, 844)
    screenshot(browser, "admin-invitations-phone")
    browser.set_window_size(1100, 900)

    # The person opens the real email in their own browser and sets a password.
    message = wait_for_mail(dashboard_tenant.maildir, invitee)
    [link] = [l for l in links(html_part(message)) if "/lo/reset" in l]
    person = make_driver()
    try:
        person.get(link)
        wait_for_heading(person, INVITE_TITLE)
        password = strong_password()
        type_into(person, "New password", password)
        type_into(person, "Confirm new password", password)
        click_submit(person)
        wait_for_landing(person, landing)
    finally:
        person.quit()

    # Back in the dashboard: accepted, with its history.
    browser.get(base + "/admin/invitations?status=accepted")
    page_wait(browser).until(lambda d: cell_texts(d, invitee)[1] == "accepted")
    browser.find_element("link text", invitee).click()
    wait_for_h1(browser, f"Invitation for {invitee}")
    assert browser.find_element("id", "invitation-status").text == "accepted"
    history = browser.find_element("id", "history").text
    assert "Invited" in history and "Accepted: the password was set" in history, history
    assert_accessible(browser, "invitation")
    screenshot(browser, "admin-invitation")

    browser.find_element("id", "sign-out").click()
    wait_for_h1(browser, "Sign in to Usher")
    assert "You are signed out." in browser.page_source
    browser.get(base + "/admin/invitations")
    wait_for_h1(browser, "Sign in to Usher")
