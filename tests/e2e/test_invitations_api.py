"""Invitations as objects (`/api/v2/invitations`), end to end: auth0-python's own token and REST client create,
list, resend and revoke them; a real SMTP server receives the emails; the link accepts the invitation.

`/api/v2/invitations` is Usher's, so the SDK has no typed method for it: the calls go through the SDK's HTTP
client (its base URL, its bearer token), as any Auth0 SDK user would reach an endpoint the SDK does not wrap.
"""
import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid

import pytest

import conftest
from conftest import BACKENDS
from reset_support import (CONNECTION, DONE_TITLE, INVITE_TITLE, delivered, html_part, links, needs_smtp, open_link,
                           parse_page, smtp, start_tenant, strong_password, submit_new_password, wait_for_mail,
                           wait_until)

pytestmark = needs_smtp
__all__ = ["smtp"]


@pytest.fixture(params=BACKENDS)
def tenant(request, smtp, tmp_path, monkeypatch):
    t = start_tenant(tmp_path / "usher", smtp, backend=request.param, monkeypatch=monkeypatch)
    yield t
    t.stop()


def api(tenant, method, path, **kwargs):
    """One call through the SDK's REST client (auth0-python's httpx client with its token and base URL)."""
    return tenant.sdk._api._client_wrapper.httpx_client.request(path, method=method, **kwargs)


def invite_link(tenant, message) -> str:
    found = [l for l in links(html_part(message)) if "/lo/reset" in l]
    assert len(found) == 1, found
    assert re.match(re.escape(tenant.base) + r"/lo/reset\?ticket=[A-Za-z0-9]{40}#type=invite$", found[0]), found[0]
    return found[0]


def address(label):
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def test_invitations_are_objects_you_create_list_resend_revoke_and_accept(tenant):
    ada, bob, member = address("ada"), address("bob"), address("member")
    tenant.sdk.users.create(connection=CONNECTION, email=member, email_verified=True, verify_email=False,
                            password=strong_password())

    # A list of invitations: one result per row, in order, none silent.
    r = api(tenant, "POST", "invitations", json=[
        {"invitee": {"email": ada, "name": "Ada Lovelace"}, "inviter": {"name": "Grace"}, "client_id": tenant.client_id,
         "app_metadata": {"plan": "team"}, "user_metadata": {"lang": "en"}, "ttl_sec": 86400},
        {"invitee": {"email": bob}, "send_invitation_email": False},
        {"invitee": {"email": member}},
        {"invitee": {"email": "not an address"}},
    ])
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [row["outcome"] for row in rows] == ["created", "created", "already_a_user", "invalid_body"], rows
    assert rows[2]["error"]["statusCode"] == 409 and rows[3]["error"]["statusCode"] == 400
    first, no_mail = rows[0]["invitation"], rows[1]["invitation"]
    assert first["id"].startswith("uinv_") and first["invitee"] == {"email": ada} and first["inviter"] == {"name": "Grace"}
    assert first["status"] == "pending" and first["ttl_sec"] == 86400 and first["client_id"] == tenant.client_id
    assert first["app_metadata"] == {"plan": "team"} and first["delivery"]["state"] == "queued"
    assert no_mail["delivery"] is None and no_mail["invitation_url"].endswith("#type=invite")

    # The recipe's user, exactly: unverified, flagged, no password.
    user = tenant.sdk.users.get(first["user_id"])
    assert user.email_verified is False and user.app_metadata == {"needsInvitation": True, "plan": "team"}
    assert user.name == "Ada Lovelace"

    # The email arrives; the invitation says so; reading it back never shows the link.
    first_link = invite_link(tenant, wait_for_mail(tenant.maildir, ada))
    got = wait_until(lambda: (g := api(tenant, "GET", f"invitations/{first['id']}").json())["delivery"]["state"] == "sent" and g,
                     timeout=20, what="delivery state sent")
    assert got["delivery"]["sent_at"] and "invitation_url" not in got
    assert first_link.split("ticket=")[1][:40] not in json.dumps(got)

    # Lists: filters and Auth0's paging shapes.
    pending = api(tenant, "GET", "invitations", params={"status": "pending", "include_totals": "true"}).json()
    assert pending["total"] == 2 and {i["invitee"]["email"] for i in pending["invitations"]} == {ada, bob}
    assert [i["id"] for i in api(tenant, "GET", "invitations", params={"email": ada[:8]}).json()] == [first["id"]]
    assert [i["id"] for i in api(tenant, "GET", "invitations", params={"delivery": "sent"}).json()] == [first["id"]]
    page = api(tenant, "GET", "invitations", params={"take": 1}).json()
    assert len(page["invitations"]) == 1 and page["next"] == "1"
    bad = api(tenant, "GET", "invitations", params={"status": "lost"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "invalid_query_string"

    # Resend: a new email with a new link; the old link stops working.
    r = api(tenant, "POST", f"invitations/{first['id']}/resend")
    assert r.status_code == 200, r.text
    assert r.json()["resend_count"] == 1
    wait_until(lambda: len(delivered(tenant.maildir, ada)) == 2, timeout=20, what="the re-sent invitation")
    # Maildir files carry no order: the new link is the one that is not the first.
    second_link, = {invite_link(tenant, m) for m in delivered(tenant.maildir, ada)} - {first_link}
    _, _, old_page = open_link(tenant, first_link)
    assert old_page.status == 410

    # Accept through the new link: the invitation is accepted and the address verified.
    session, _, page = open_link(tenant, second_link)
    assert page.status == 200 and page.title == INVITE_TITLE
    r = submit_new_password(session, tenant.base, page, strong_password())
    assert r.status_code == 302, r.text[:1000]
    accepted = api(tenant, "GET", f"invitations/{first['id']}").json()
    assert accepted["status"] == "accepted" and accepted["accepted_at"]
    assert tenant.sdk.users.get(first["user_id"]).email_verified is True
    again = api(tenant, "POST", "invitations", json={"invitee": {"email": ada}})
    assert again.status_code == 409 and again.json()["errorCode"] == "already_a_user"

    # Revoke, removing the user: the returned link is refused and the user is gone.
    r = api(tenant, "POST", f"invitations/{no_mail['id']}/revoke", json={"delete_user": True})
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    _, _, revoked_page = open_link(tenant, no_mail["invitation_url"])
    assert revoked_page.status in (404, 410)
    assert api(tenant, "GET", f"users/{urllib.parse.quote(no_mail['user_id'])}").status_code == 404
    assert api(tenant, "POST", f"invitations/{no_mail['id']}/resend").json()["errorCode"] == "invitation_not_open"

    # Delete, and Auth0's answer for what is not there.
    assert api(tenant, "DELETE", f"invitations/{no_mail['id']}").status_code == 204
    missing = api(tenant, "GET", f"invitations/{no_mail['id']}")
    assert missing.status_code == 404 and missing.json()["errorCode"] == "inexistent_invitation"

    # Every transition is in the tenant log, searchable by type.
    for kind in ("invitation_created", "invitation_resent", "invitation_accepted", "invitation_revoked"):
        found = api(tenant, "GET", "logs", params={"q": f"type:{kind}"}).json()
        assert found and all(e["type"] == kind for e in found), kind


def test_a_revoked_invitation_link_shows_its_own_page(tenant):
    email_address = address("revoked")
    created = api(tenant, "POST", "invitations", json={"invitee": {"email": email_address}}).json()
    link = invite_link(tenant, wait_for_mail(tenant.maildir, email_address))
    assert api(tenant, "POST", f"invitations/{created['id']}/revoke").status_code == 200
    session, _, page = open_link(tenant, link)
    assert page.status == 410 and page.title == "This invitation has been withdrawn"
    assert not any(f["action"].endswith("/lo/reset/resend") for f in page.forms), "a withdrawn invitation offers no new link"
    # A reset request (the page's "send me a new link", or the API) does not bring it back.
    tenant.auth().change_password(email=email_address, connection=CONNECTION)
    assert wait_until(lambda: any(e["type"] == "fcpr" and e.get("user_name") == email_address for e in tenant.logs()),
                      timeout=10, what="the refused request's fcpr")
    assert len(delivered(tenant.maildir, email_address)) == 1


def test_cli_lists_resends_and_revokes_invitations(tenant):
    env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
    if tenant.database.startswith("postgres"):
        env["USHER_OUTBOX_KEY"] = conftest.E2E_OUTBOX_KEY

    def usher(*args):
        result = subprocess.run([conftest.BINARY, *args, "--database", tenant.database, "--public-url", tenant.base],
                                capture_output=True, text=True, timeout=60, env=env, cwd=tenant.usher.log_path.parent)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    email_address = address("cli")
    created = json.loads(usher("invite", email_address, "--inviter", "Ops", "--ttl", "3600").strip().splitlines()[-1])
    assert created["outcome"] == "created" and created["status"] == "pending"
    listed = json.loads(usher("invitations", "list", "--json", "--email", email_address))
    assert [i["id"] for i in listed] == [created["id"]]
    assert "pending" in usher("invitations", "list", "--status", "pending")
    resent = json.loads(usher("invitations", "resend", created["id"], "--json"))
    assert resent["resend_count"] == 1
    wait_until(lambda: len(delivered(tenant.maildir, email_address)) == 2, timeout=20, what="both CLI invitations delivered")
    revoked = json.loads(usher("invitations", "revoke", created["id"], "--json"))
    assert revoked["status"] == "revoked"


ROLES_ACTION = """
exports.onExecutePostLogin = async (event, api) => {
  api.idToken.setCustomClaim('https://app.example.com/roles', event.authorization.roles);
  if (event.user.app_metadata.needsInvitation) {
    api.user.setAppMetadata('needsInvitation', false);
  }
};
"""


def test_invitation_roles_are_given_at_acceptance_and_reach_the_id_token(tenant):
    from oidc_support import create_app, deploy_post_login_action, get_token, jwt_claims, require_actions_api

    require_actions_api(tenant)
    editor = tenant.sdk.roles.create(name=f"editor-{uuid.uuid4().hex[:6]}", description="Edits documents")
    viewer = tenant.sdk.roles.create(name=f"viewer-{uuid.uuid4().hex[:6]}")
    assert editor.id.startswith("rol_") and tenant.sdk.roles.get(editor.id).description == "Edits documents"
    app = create_app(tenant, ["https://app.example.com/callback"])
    deploy_post_login_action(tenant, ROLES_ACTION)

    unknown = api(tenant, "POST", "invitations", json={"invitee": {"email": address("x")}, "roles": ["rol_nope"]})
    assert unknown.status_code == 400 and "rol_nope" in unknown.json()["message"]

    email_address = address("roles")
    created = api(tenant, "POST", "invitations", json={"invitee": {"email": email_address}, "roles": [editor.id]}).json()
    assert created["roles"] == [editor.id]
    user_id = created["user_id"]
    assert list(tenant.sdk.users.roles.list(user_id)) == [], "roles are given when the invitation is accepted"

    link = invite_link(tenant, wait_for_mail(tenant.maildir, email_address))
    session, _, page = open_link(tenant, link)
    password = strong_password()
    assert submit_new_password(session, tenant.base, page, password).status_code == 302

    # The SDK's own roles calls see the role; assign and remove one more with them.
    assert [r.id for r in tenant.sdk.users.roles.list(user_id)] == [editor.id]
    assert [u.user_id for u in tenant.sdk.roles.users.list(editor.id)] == [user_id]
    tenant.sdk.users.roles.assign(user_id, roles=[viewer.id])
    assert {r.name for r in tenant.sdk.users.roles.list(user_id)} == {editor.name, viewer.name}
    tenant.sdk.users.roles.delete(user_id, roles=[viewer.id])

    # The first login: the Action reads event.authorization.roles into the ID token and clears the flag.
    tokens = get_token(tenant, app).login(username=email_address, password=password, realm=CONNECTION,
                                          scope="openid profile email")
    assert jwt_claims(tokens["id_token"])["https://app.example.com/roles"] == [editor.name]
    assert tenant.sdk.users.get(user_id).app_metadata == {"needsInvitation": False}


def test_the_reminder_arrives_once_with_a_working_link(smtp, tmp_path, monkeypatch):
    # Reminders 1 h before expiry, checked every second: an invitation for 10 minutes is due at once.
    tenant = start_tenant(tmp_path / "usher", smtp, monkeypatch=monkeypatch,
                          extra_env={"USHER_INVITATION_REMINDER_SECONDS": "3600", "USHER_INVITATION_CLOCK_SECONDS": "1"})
    try:
        email_address = address("remind")
        created = api(tenant, "POST", "invitations", json={"invitee": {"email": email_address}, "ttl_sec": 600}).json()
        wait_until(lambda: len(delivered(tenant.maildir, email_address)) == 2, timeout=30, what="invitation and reminder")
        reminder, = [m for m in delivered(tenant.maildir, email_address) if m["Subject"].startswith("Reminder")]
        assert reminder["Subject"].startswith("Reminder: you're invited to"), reminder["Subject"]
        first, = [m for m in delivered(tenant.maildir, email_address) if not m["Subject"].startswith("Reminder")]
        assert invite_link(tenant, reminder) != invite_link(tenant, first)
        after = api(tenant, "GET", f"invitations/{created['id']}").json()
        assert after["reminded_at"] and after["expires_at"] == created["expires_at"]
        time.sleep(2.5)  # a few more clock ticks: still only one reminder
        assert len(delivered(tenant.maildir, email_address)) == 2
        session, _, page = open_link(tenant, invite_link(tenant, reminder))
        assert page.status == 200 and page.title == INVITE_TITLE
        # No result_url on the invitation and none on the reminder template: Usher's own success page.
        done = parse_page(submit_new_password(session, tenant.base, page, strong_password()))
        assert done.status == 200 and done.title == DONE_TITLE
        assert api(tenant, "GET", f"invitations/{created['id']}").json()["status"] == "accepted"
    finally:
        tenant.stop()
