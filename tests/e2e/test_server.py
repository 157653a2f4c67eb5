"""The server as an operator meets it: start-up, bootstrap, configuration errors, the HTTP surface."""
import os
import re
import subprocess

import requests

from conftest import BINARY, E2E_OUTBOX_KEY, start_usher


def test_first_start_prints_generated_credentials_once_and_they_work(tmp_path):
    server = start_usher(tmp_path, tls=False, bootstrap=False)
    try:
        log = server.log()
        client_id = re.search(r"client_id:\s+(\S+)", log).group(1)
        secret = re.search(r"client_secret:\s+(\S+)", log).group(1)
        r = requests.post(server.base_url + "/oauth/token", json={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
            "audience": server.audience})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
        assert "create:users" in body["scope"].split()
        assert secret not in log.split("client_secret:")[0]  # printed once, in the banner only
    finally:
        server.stop()
    # Second start on the same database and address: nothing new is printed, the signing keys persisted,
    # so the token issued before the restart still verifies.
    port = int(server.base_url.rsplit(":", 1)[1])
    again = start_usher(tmp_path, tls=False, bootstrap=False, port=port)
    try:
        assert "client_secret:" not in again.log()
        users = requests.get(again.base_url + "/api/v2/users", headers={"Authorization": "Bearer " + body["access_token"]})
        assert users.status_code == 200 and users.json() == []
    finally:
        again.stop()


def test_bad_configuration_stops_startup_with_one_readable_message(tmp_path):
    for args, key in [(["--port", "nope"], "--port"), (["--database", "mysql://x"], "--database"),
                      (["--public-url", "not a url"], "--public-url")]:
        result = subprocess.run([BINARY, "serve", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert result.returncode != 0
        assert key in result.stderr, result.stderr
        assert "Fatal error" not in result.stderr


def test_health_metrics_and_jwks(usher):
    s = usher.session()
    assert s.get(usher.base_url + "/health").json() == {"status": "ok", "database": "ok"}
    keys = s.get(usher.base_url + "/.well-known/jwks.json").json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    s.get(usher.base_url + "/api/v2/users")
    metrics = s.get(usher.base_url + "/metrics").text
    assert 'usher_http_requests_total{method="GET",route="/api/v2/users",status="401"}' in metrics


def test_cli_users_and_clients(usher, tmp_path):
    # The CLI works on the same database as the running server.
    database = ["--database", usher.process.args[usher.process.args.index("--database") + 1]]
    # With PostgreSQL every process on the database seals outbox bodies with the server's key.
    env = os.environ | ({"USHER_OUTBOX_KEY": E2E_OUTBOX_KEY} if database[1].startswith("postgres") else {})
    created = subprocess.run([BINARY, "users", "create", "cli@example.com", "--name", "Cli User",
                              "--app-metadata", '{"needsInvitation": true}', "--json", *database],
                             capture_output=True, text=True, timeout=60, env=env)
    assert created.returncode == 0, created.stderr
    assert '"needsInvitation":true' in created.stdout
    listed = subprocess.run([BINARY, "users", "list", "-q", "app_metadata.needsInvitation:true", *database],
                            capture_output=True, text=True, timeout=60, env=env)
    assert "cli@example.com" in listed.stdout
    dup = subprocess.run([BINARY, "users", "create", "cli@example.com", *database], capture_output=True, text=True, timeout=60, env=env)
    assert dup.returncode != 0 and "already exists" in dup.stderr
    app = subprocess.run([BINARY, "clients", "create", "--name", "CLI app", "--management", *database],
                         capture_output=True, text=True, timeout=60, env=env)
    assert app.returncode == 0 and "client_secret" in app.stdout
    helps = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=60, env=env)
    for command in ["serve", "migrate", "clients", "users"]:
        assert command in helps.stdout
