"""The real auth0-python SDK, unchanged, against a real Usher: the guide's user-management steps."""
import uuid

import pytest
from auth0.management import ManagementClient
from auth0.management.core.api_error import ApiError

from conftest import ADMIN_ID, ADMIN_SECRET


def sdk(usher) -> ManagementClient:
    # Exactly what an Auth0 customer writes: the domain and M2M credentials; the SDK fetches the token itself.
    return ManagementClient(domain=usher.domain, client_id=ADMIN_ID, client_secret=ADMIN_SECRET)


def test_sdk_creates_fetches_lists_and_updates_a_user(usher):
    client = sdk(usher)
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    created = client.users.create(
        connection="Username-Password-Authentication", email=email, email_verified=False, verify_email=False,
        name="Ada Invitee", app_metadata={"needsInvitation": True})
    assert created.user_id.startswith("auth0|") and len(created.user_id) == 30
    assert created.email == email
    assert created.email_verified is False
    assert created.app_metadata == {"needsInvitation": True}
    assert created.identities[0].connection == "Username-Password-Authentication"
    assert created.identities[0].provider == "auth0"

    fetched = client.users.get(created.user_id)
    assert fetched.user_id == created.user_id
    assert fetched.name == "Ada Invitee"

    found = client.users.list_users_by_email(email=email)
    assert [u.user_id for u in found] == [created.user_id]

    pager = client.users.list(q="app_metadata.needsInvitation:true", search_engine="v3", per_page=10)
    ids = [u.user_id for u in pager]
    assert created.user_id in ids

    updated = client.users.update(created.user_id, app_metadata={"needsInvitation": False}, user_metadata={"lang": "fr"})
    assert updated.app_metadata == {"needsInvitation": False}
    assert updated.user_metadata == {"lang": "fr"}
    assert client.users.get(created.user_id).app_metadata == {"needsInvitation": False}

    remaining = [u.user_id for u in client.users.list(q="app_metadata.needsInvitation:true", search_engine="v3")]
    assert created.user_id not in remaining

    client.users.delete(created.user_id)
    with pytest.raises(ApiError) as missing:
        client.users.get(created.user_id)
    assert missing.value.status_code == 404
    assert missing.value.body["message"] == "The user does not exist."


def test_sdk_sees_auth0_errors(usher):
    client = sdk(usher)
    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    client.users.create(connection="Username-Password-Authentication", email=email)
    with pytest.raises(ApiError) as conflict:
        client.users.create(connection="Username-Password-Authentication", email=email)
    assert conflict.value.status_code == 409
    assert conflict.value.body == {"statusCode": 409, "error": "Conflict", "message": "The user already exists.",
                                   "errorCode": "auth0_idp_error"}
    with pytest.raises(ApiError) as invalid:
        client.users.create(connection="Username-Password-Authentication", email="not-an-email")
    assert invalid.value.status_code == 400
    assert "email" in invalid.value.body["message"]


def test_sdk_manages_clients_and_connections(usher):
    client = sdk(usher)
    app = client.clients.create(name="Invite Demo", app_type="regular_web",
                                callbacks=["https://app.example.com/callback"],
                                allowed_logout_urls=["https://app.example.com/"])
    assert app.client_id and app.client_secret
    assert app.client_id in [c.client_id for c in client.clients.list()]
    connections = list(client.connections.list(name="Username-Password-Authentication"))
    assert connections and connections[0].name == "Username-Password-Authentication"
    assert connections[0].strategy == "auth0"
