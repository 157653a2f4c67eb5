"""Fixtures that run real `usher` processes for end-to-end tests.

Each server gets its own SQLite file (or its own PostgreSQL schema), a free port, a self-signed TLS
certificate for 127.0.0.1 and known bootstrap credentials. Clients trust the certificate through
SSL_CERT_FILE, exactly as a deployment with its own CA would.
"""
import base64
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI set, as .ci/run runs) every real component must be there: a test that would skip for want of one
    (SMTP servers, Chromium, the Actions API …) fails instead, so a missing install step cannot pass as green."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every real component must be present: {reason}"

BINARY = os.environ.get("USHER_BINARY", str(ROOT / ".build" / "debug" / "usher"))
ADMIN_ID = "e2e-admin-client"
ADMIN_SECRET = "e2e-admin-secret-" + uuid.uuid4().hex


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _TrustingSession(requests.Session):
    """A session that trusts the server's self-signed certificate on every request (the session-level
    `verify` attribute is overridden by requests' environment merging, so it is passed per request)."""

    def __init__(self, ca_file: str | None):
        super().__init__()
        self._ca_file = ca_file

    def request(self, *args, **kwargs):
        if self._ca_file:
            kwargs.setdefault("verify", self._ca_file)
        return super().request(*args, **kwargs)


@dataclass
class UsherProcess:
    process: subprocess.Popen
    base_url: str
    domain: str
    log_path: Path
    ca_file: str | None

    @property
    def audience(self) -> str:
        return self.base_url + "/api/v2/"

    def session(self) -> requests.Session:
        return _TrustingSession(self.ca_file)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def make_certificate(directory: Path) -> tuple[str, str]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    return str(cert), str(key)


E2E_OUTBOX_KEY = base64.b64encode(os.urandom(32)).decode()  # one per test run, shared by its instances


def start_usher(directory: Path, *, tls: bool, database: str | None = None, extra_env: dict | None = None,
                bootstrap: bool = True, port: int | None = None) -> UsherProcess:
    port = port or free_port()
    scheme = "https" if tls else "http"
    base = f"{scheme}://127.0.0.1:{port}"
    args = [BINARY, "serve", "--port", str(port), "--public-url", base,
            "--database", database or str(directory / "usher.sqlite"), "--bcrypt-cost", "4"]
    ca_file = None
    if tls:
        cert, key = make_certificate(directory)
        args += ["--tls-cert", cert, "--tls-key", key]
        ca_file = cert
    env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
    if bootstrap:
        env.update(USHER_BOOTSTRAP_CLIENT_ID=ADMIN_ID, USHER_BOOTSTRAP_CLIENT_SECRET=ADMIN_SECRET)
    if database and database.startswith("postgres"):
        # Instances sharing one PostgreSQL must seal outbox bodies with one key (README, Configuration).
        env["USHER_OUTBOX_KEY"] = E2E_OUTBOX_KEY
    env.update(extra_env or {})
    log_path = directory / f"usher-{port}.log"
    log = open(log_path, "w")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=directory)
    usher = UsherProcess(process, base, f"127.0.0.1:{port}", log_path, ca_file)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"usher exited with {process.returncode}:\n{usher.log()}")
        try:
            if usher.session().get(base + "/health", timeout=1).status_code == 200:
                return usher
        except requests.RequestException:
            pass
        time.sleep(0.1)
    usher.stop()
    raise RuntimeError(f"usher did not become healthy:\n{usher.log()}")


def postgres_database() -> str | None:
    """A fresh schema in the test PostgreSQL, as a database URL; None when PostgreSQL is not configured."""
    url = os.environ.get("USHER_TEST_POSTGRES_URL")
    if not url:
        return None
    schema = "e2e_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", url.split("?")[0], "-q", "-c", f"CREATE SCHEMA {schema}"], check=True, capture_output=True)
    return url + ("&" if "?" in url else "?") + f"search_path={schema}"


BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("USHER_TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def usher(request, tmp_path):
    """A TLS-enabled Usher on each available database."""
    database = postgres_database() if request.param == "postgres" else None
    server = start_usher(tmp_path, tls=True, database=database)
    os.environ["SSL_CERT_FILE"] = server.ca_file  # httpx (auth0-python) honours it
    yield server
    server.stop()
    os.environ.pop("SSL_CERT_FILE", None)


@pytest.fixture
def admin_token(usher):
    r = usher.session().post(usher.base_url + "/oauth/token", data={
        "grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET,
        "audience": usher.audience})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]
