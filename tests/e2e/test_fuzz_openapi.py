"""No input traps (issue #13): Auth0's own OpenAPI documents, fuzzed against a real usher with schemathesis.

Schemathesis reads the vendored documents (tests/e2e/oas/, see its README) and sends every operation examples,
boundary and malformed values (its coverage phase) and random valid and invalid requests (its fuzzing phase).
The only check is schemathesis's "not a server error": Usher differs from Auth0's documents in places on purpose,
so statuses, content types and response schemas are not judged. A 404 is fine (an operation Usher does not
implement, or an identifier that does not exist). The test fails on any response with status >= 500, on a request
that gets no answer (a dropped connection, a timeout), and if the server is not alive and healthy at the end.

The server is a TLS usher on SQLite, as conftest's `usher` fixture starts it, with these differences: mail goes
to a closed port on 127.0.0.1 (USHER_SMTP_URL wins over any provider the fuzzer stores, so no generated SMTP host
is ever contacted); the sign-up and reset-mail rate limits are lifted (so requests reach past a 429); and the
Management API test first creates users, applications and Actions whose ids are handed to schemathesis, so that
requests reach past the "not found" of a random id into the real handlers. Operations Usher has no route for
(they answer 404 with no body: roles, jobs, organization invitations …) are probed once and left out, and the
Management API's form-encoded bodies too (Usher refuses them with 400 before reading them).

The run is deterministic (a fixed seed) and takes about one and a half to three minutes for both documents on two
cores. To explore: USHER_FUZZ_SEED picks another seed, USHER_FUZZ_MAX_EXAMPLES (default 30) sets the fuzzing
phase's examples per operation, USHER_FUZZ_PHASES the phases (e.g. `fuzzing,stateful` to skip the coverage phase,
which is the same for every seed), USHER_FUZZ_BACKEND=postgres the database. Every 5xx is listed with a curl
command that repeats it.
"""
import base64
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ADMIN_ID, ADMIN_SECRET, free_port, postgres_database, start_usher

OAS = Path(__file__).resolve().parent / "oas"
MANAGEMENT_DOCUMENT = OAS / "management-api-oas.trimmed.json"
AUTHENTICATION_DOCUMENT = OAS / "authentication-api-oas.trimmed.json"
CONNECTION = "Username-Password-Authentication"
SEED = os.environ.get("USHER_FUZZ_SEED", "13")
MAX_EXAMPLES = os.environ.get("USHER_FUZZ_MAX_EXAMPLES", "30")
WORKERS = os.environ.get("USHER_FUZZ_WORKERS", "1")
PHASES = os.environ.get("USHER_FUZZ_PHASES", "examples,coverage,fuzzing,stateful")
# A hang guard per document, far above a normal run.
RUN_TIMEOUT = 900
# Headers schemathesis adds to every request; a reproduction does not need them.
NOISE_HEADERS = {"user-agent", "accept-encoding", "accept", "connection", "content-length",
                 "x-schemathesis-testcaseid"}


@pytest.fixture
def usher(tmp_path):
    """conftest's TLS usher on SQLite, with mail pinned to a closed loopback port and no sign-up or reset-mail
    rate limits (overrides conftest's `usher`, so conftest's `admin_token` mints the token for this server).
    USHER_FUZZ_BACKEND=postgres (with USHER_TEST_POSTGRES_URL set) runs it on PostgreSQL instead."""
    database = postgres_database() if os.environ.get("USHER_FUZZ_BACKEND") == "postgres" else None
    server = start_usher(tmp_path, tls=True, database=database, extra_env={
        "USHER_SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "USHER_SIGNUP_BURST": "1000000",
        "USHER_CHANGE_PASSWORD_BURST": "1000000", "USHER_RESET_MAIL_BURST": "1000000"})
    os.environ["SSL_CERT_FILE"] = server.ca_file
    yield server
    server.stop()
    os.environ.pop("SSL_CERT_FILE", None)


def require_schemathesis():
    """Skips without schemathesis; in CI (conftest) that skip is a failure."""
    try:
        import schemathesis  # noqa: F401  (run as a CLI below; imported only to know it is there)
    except ImportError:
        pytest.skip("schemathesis is not installed (pip install -r tests/e2e/requirements.txt)")


# ---------------------------------------------------------------- config (schemathesis.toml)


def toml_value(value) -> str:
    """The little TOML the config needs: strings, numbers, lists and inline tables (JSON's string escapes are
    TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_config(path: Path, *, headers: dict | None = None, dictionaries: dict | None = None,
                 operations: list | None = None) -> Path:
    lines = []
    if headers:
        lines.append(f"headers = {toml_value(headers)}")
    for name, values in (dictionaries or {}).items():
        lines += ["", f"[dictionaries.{name}]", f"values = {toml_value(values)}"]
    for operation in operations or []:
        lines += ["", "[[operations]]"] + [f"{json.dumps(k)} = {toml_value(v)}" for k, v in operation.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- running schemathesis and reading its record


def run_schemathesis(usher, document: Path, base_url: str, config: Path, work: Path, env: dict | None = None,
                     exclude: list[str] = ()):
    """Runs the pinned schemathesis CLI on every operation but `exclude` ("METHOD /path" names); returns (the
    completed process, HAR entries of every request it sent)."""
    har = work / (document.stem + ".har.json")
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(document),
               "--url", base_url, "--checks", "not_a_server_error", "--seed", SEED, "--max-examples", MAX_EXAMPLES,
               "--phases", PHASES, "--suppress-health-check", "all",
               "--generation-database", "none", "--request-timeout", "30", "--tls-verify", usher.ca_file,
               "--report", "har", "--report-har-path", str(har), "--no-color", "--workers", WORKERS]
    for name in exclude:
        command += ["--exclude-name", name]
    started = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=work,
                                env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout.decode(errors="replace") if isinstance(expired.stdout, bytes) else expired.stdout or ""
        health = usher_health(usher)
        pytest.fail(f"schemathesis did not finish in {RUN_TIMEOUT}s (usher: {health}); its output so far:\n"
                    f"{output[-6000:]}\n\nusher log (tail):\n{usher.log()[-4000:]}", pytrace=False)
    print(f"schemathesis {document.name}: exit {result.returncode} in {time.monotonic() - started:.0f}s")
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    return result, entries


def curl(entry: dict, auth: str | None) -> str:
    """A shell command that sends the recorded request again (`auth` replaces the filtered Authorization value;
    it may name a shell variable, so it is double-quoted)."""
    request = entry["request"]
    words = ["curl", "-sk", "-X", shlex.quote(request["method"])]
    for header in request["headers"]:
        name, value = header["name"], header["value"]
        if name.lower() in NOISE_HEADERS:
            continue
        if name.lower() == "authorization" and value == "[Filtered]":
            if auth:
                words += ["-H", f'"{auth}"']
            continue
        words += ["-H", shlex.quote(f"{name}: {value}")]
    body = (request.get("postData") or {}).get("text")
    if body is not None:
        words += ["--data-binary", shlex.quote(body)]
    return " ".join(words + [shlex.quote(request["url"])])


def server_errors(entries: list, auth: str | None = None) -> list[str]:
    found = []
    for entry in entries:
        status = entry["response"]["status"]
        if status < 500:
            continue
        request = entry["request"]
        url = urlsplit(request["url"])
        body = (entry["response"].get("content") or {}).get("text") or ""
        found.append(f"{request['method']} {url.path}{'?' + url.query if url.query else ''} -> {status}\n"
                     f"    response: {body[:300]!r}\n"
                     f"    repeat:   {curl(entry, auth)}")
    return found


def usher_health(usher) -> str:
    """"healthy", or what is wrong: the process exited, or it answers /health badly or not at all."""
    if usher.process.poll() is not None:
        return f"exited with {usher.process.returncode}"
    try:
        r = usher.session().get(usher.base_url + "/health", timeout=10)
    except Exception as error:  # a live process that no longer answers is as bad as a dead one
        return f"running but /health fails: {error!r}"
    return "healthy" if r.status_code == 200 else f"running but /health answers {r.status_code} {r.text[:200]}"


def assert_no_traps(usher, result, entries, auth: str | None = None):
    errors = server_errors(entries, auth)
    health = usher_health(usher)
    problems = []
    if errors:
        token = "; $TOKEN is a Management API token with every scope" if auth else ""
        problems.append(f"{len(errors)} responses with status >= 500 (seed {SEED}{token}):\n" + "\n".join(errors[:60]))
        if len(errors) > 60:
            problems.append(f"… and {len(errors) - 60} more")
    if health != "healthy":
        problems.append(f"usher after the run: {health}")
    if result.returncode != 0 and not errors:
        # Schemathesis failed without a 5xx in its record: requests with no answer (a dropped connection, a
        # timeout) or a problem of the run itself. Its own report says which.
        problems.append(f"schemathesis exited with {result.returncode}:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    if not entries:
        problems.append("schemathesis recorded no requests")
    if problems:
        log = usher.log()
        pytest.fail("\n\n".join(problems) + "\n\nusher log (tail):\n" + log[-4000:], pytrace=False)


# ---------------------------------------------------------------- the Management API


def json_bodies_only(document: Path, work: Path) -> Path:
    """The document without the form-encoded alternative of its JSON request bodies. Usher's Management API takes
    JSON only: a form body is refused with 400 before anything reads it, so fuzzing form bodies would spend a
    third of the run on that one refusal."""
    spec = json.loads(document.read_text())
    for item in spec["paths"].values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                content.pop("application/x-www-form-urlencoded", None)
    derived = work / document.name
    derived.write_text(json.dumps(spec))
    return derived



def seed_management(usher, token) -> dict:
    """Users, applications and deployed Actions, so that fuzzed requests on `/users/{id}`, `/clients/{id}`,
    `/actions/actions/{id}` … find something: one of each for the reading and changing operations and one of each
    for the DELETE operations (which would otherwise take the first away from the rest of the run)."""
    s = usher.session()
    headers = {"Authorization": "Bearer " + token}
    api = usher.base_url + "/api/v2"

    def call(method, path, **kwargs):
        r = s.request(method, api + path, headers=headers, timeout=30, **kwargs)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def user():
        return call("POST", "/users", json={
            "connection": CONNECTION, "email": f"fuzz-{uuid.uuid4().hex[:8]}@example.com",
            "password": "Fuzz-" + uuid.uuid4().hex, "email_verified": True})["user_id"]

    def client():
        return call("POST", "/clients", json={"name": "fuzzed application",
                                              "callbacks": ["https://app.example/cb"]})["client_id"]

    def action():
        created = call("POST", "/actions/actions", json={
            "name": f"fuzzed action {uuid.uuid4().hex[:6]}", "supported_triggers": [{"id": "post-login", "version": "v3"}],
            "runtime": "node22",
            "code": "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('x', 1); };"})
        deadline = time.time() + 60
        while call("GET", f"/actions/actions/{created['id']}").get("status") != "built" and time.time() < deadline:
            time.sleep(0.2)
        return created["id"], call("POST", f"/actions/actions/{created['id']}/deploy")["id"]

    ids = {"user": user(), "client": client(), "doomed_user": user(), "doomed_client": client()}
    ids["action"], ids["version"] = action()
    ids["doomed_action"], _ = action()
    ids["connection"] = next(c for c in call("GET", "/connections") if c["name"] == CONNECTION)["id"]
    call("POST", "/email-templates", json={"template": "verify_email", "body": "<p>{{ url }}</p>", "enabled": True,
                                           "from": "fuzz@example.com", "subject": "Verify", "syntax": "liquid"})
    # A sign-up, for a log event to read.
    signup = s.post(usher.base_url + "/dbconnections/signup", timeout=30, json={
        "client_id": ADMIN_ID, "connection": CONNECTION, "email": f"fuzz-{uuid.uuid4().hex[:8]}@example.com",
        "password": "Fuzz-" + uuid.uuid4().hex})
    assert signup.status_code == 200, signup.text
    logs = call("GET", "/logs", params={"per_page": 1})
    ids["log"] = logs[0]["log_id"] if logs else None
    return ids


def management_operations(ids: dict) -> list:
    """Per-operation path values: the seeded ids (the DELETE operations get resources of their own)."""

    def pin(names, **parameters):
        return {"include-name": names, "parameters": {f"path.{k}": v for k, v in parameters.items()}}

    operations = [
        pin(["GET /users/{id}", "PATCH /users/{id}", "GET /users/{id}/roles", "POST /users/{id}/roles",
             "DELETE /users/{id}/roles"], id=ids["user"]),
        pin(["DELETE /users/{id}"], id=ids["doomed_user"]),
        pin(["GET /clients/{id}", "PATCH /clients/{id}"], id=ids["client"]),
        pin(["DELETE /clients/{id}"], id=ids["doomed_client"]),
        pin(["GET /connections/{id}", "PATCH /connections/{id}"], id=ids["connection"]),
        pin(["GET /actions/actions/{id}", "PATCH /actions/actions/{id}", "POST /actions/actions/{id}/deploy",
             "POST /actions/actions/{id}/test"], id=ids["action"]),
        pin(["DELETE /actions/actions/{id}"], id=ids["doomed_action"]),
        pin(["GET /actions/actions/{actionId}/versions"], actionId=ids["action"]),
        pin(["GET /actions/actions/{actionId}/versions/{id}", "POST /actions/actions/{actionId}/versions/{id}/deploy"],
            actionId=ids["action"], id=ids["version"]),
        # Half the tickets name the seeded user and the database connection, the rest generated values; half the
        # email providers are SMTP, the only kind Usher has.
        {"include-name": ["POST /tickets/password-change", "POST /tickets/email-verification"],
         "parameters": {"body.user_id": {"dictionary": "user_ids", "probability": 0.5},
                        "body.connection_id": {"dictionary": "connection_ids", "probability": 0.5}}},
        {"include-name": ["POST /users", "PATCH /users/{id}"],
         "parameters": {"body.connection": {"dictionary": "connections", "probability": 0.5}}},
        {"include-name": ["POST /emails/provider", "PATCH /emails/provider"],
         "parameters": {"body.name": {"dictionary": "providers", "probability": 0.5}}},
    ]
    if ids["log"]:
        operations.append(pin(["GET /logs/{id}"], id=ids["log"]))
    return operations


def unimplemented_operations(usher, document: Path, headers: dict) -> list[str]:
    """The document's operations that Usher has no route for: they answer 404 with no body (every "not found" of a
    route Usher has is a JSON error). Fuzzing them would only repeat that 404. The probe names no existing
    resource and sends empty bodies, so it changes nothing the run needs."""
    spec = json.loads(document.read_text())
    prefix = urlsplit(spec["servers"][0]["url"]).path if spec.get("servers") else ""
    values = {"triggerId": "post-login", "templateName": "verify_email"}
    s = usher.session()
    missing = []
    for path, item in spec["paths"].items():
        for method in item:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            url = usher.base_url + prefix + path
            url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "no-such-" + m.group(1)), url)
            r = s.request(method.upper(), url, headers=headers, json={} if method in ("post", "put", "patch") else None,
                          timeout=30)
            if r.status_code == 404 and not r.content:
                missing.append(f"{method.upper()} {path}")
    return missing


def test_management_api_has_no_input_traps(usher, admin_token, tmp_path):
    require_schemathesis()
    scopes = json.loads(base64.urlsafe_b64decode(admin_token.split(".")[1] + "==")).get("scope", "")
    assert {"read:users", "create:users", "update:clients", "create:actions", "update:email_provider"} <= set(scopes.split())
    missing = unimplemented_operations(usher, MANAGEMENT_DOCUMENT, {"Authorization": "Bearer " + admin_token})
    ids = seed_management(usher, admin_token)
    print(f"not in Usher (404, not fuzzed): {', '.join(missing) or 'none'}")
    config = write_config(tmp_path / "management.toml", headers={"Authorization": "Bearer ${USHER_FUZZ_TOKEN}"},
                          dictionaries={"user_ids": [ids["user"]], "connection_ids": [ids["connection"]],
                                        "connections": [CONNECTION], "providers": ["smtp"]}, operations=management_operations(ids))
    document = json_bodies_only(MANAGEMENT_DOCUMENT, tmp_path)
    result, entries = run_schemathesis(usher, document, usher.base_url + "/api/v2", config, tmp_path,
                                       env={"USHER_FUZZ_TOKEN": admin_token}, exclude=missing)
    assert_no_traps(usher, result, entries, auth="Authorization: Bearer $TOKEN")


# ---------------------------------------------------------------- the Authentication API


def test_authentication_api_has_no_input_traps(usher, tmp_path):
    """No token: these endpoints are public (/userinfo gets generated bearer values). Some requests name the
    bootstrap application, its secret and the database connection, so that they reach past "unknown client"."""
    require_schemathesis()
    dictionaries = {"client_ids": [ADMIN_ID], "client_secrets": [ADMIN_SECRET], "connections": [CONNECTION],
                    "audiences": [usher.audience]}
    body = {"body.client_id": {"dictionary": "client_ids", "probability": 0.5},
            "body.client_secret": {"dictionary": "client_secrets", "probability": 0.5},
            "body.connection": {"dictionary": "connections", "probability": 0.5},
            "body.realm": {"dictionary": "connections", "probability": 0.5},
            "body.audience": {"dictionary": "audiences", "probability": 0.5}}
    config = write_config(tmp_path / "authentication.toml", dictionaries=dictionaries, operations=[
        {"include-name": ["POST /oauth/token", "POST /dbconnections/signup", "POST /dbconnections/change_password",
                          "POST /oauth/revoke"], "parameters": body}])
    result, entries = run_schemathesis(usher, AUTHENTICATION_DOCUMENT, usher.base_url, config, tmp_path)
    assert_no_traps(usher, result, entries)
