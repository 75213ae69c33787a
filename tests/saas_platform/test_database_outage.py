"""A PostgreSQL outage seen through the whole stack: a throwaway server killed with SIGKILL under
the app served by a real WSGI server in its own process (the shared server is never touched)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError

from saas_platform.health import RETRY_AFTER_SECONDS
from saas_platform.unavailable import server_error

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")

needs_postgres_binaries = pytest.mark.skipif(
    not (POSTGRES_BIN / "initdb").exists(), reason="needs PostgreSQL 15's initdb and postgres"
)

SERVE = """
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from django.core.wsgi import get_wsgi_application

class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True

class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", 0, get_wsgi_application(), Server, QuietHandler)
print(server.server_port, flush=True)
server.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@dataclass
class ThrowawayPostgres:
    port: int
    process: subprocess.Popen

    def kill(self) -> None:
        """SIGKILL to the postmaster and its backends: no shutdown, connections just break."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    # initdb refuses to run as root: run the server as the postgres user then.
    as_user = {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}
    directory = Path(tempfile.mkdtemp(prefix="creneau-outage-pg-"))
    if as_user:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    subprocess.run(
        [POSTGRES_BIN / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True, capture_output=True, timeout=120, **as_user,
    )  # fmt: skip
    port = free_port()
    process = subprocess.Popen(
        [POSTGRES_BIN / "postgres", "-D", data, "-p", str(port), "-k", directory,
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=16MB"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, **as_user,
    )  # fmt: skip
    postgres = ThrowawayPostgres(port=port, process=process)
    try:
        wait_for_port(port, process)
        yield postgres
    finally:
        postgres.kill()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def app_on(throwaway_postgres) -> Iterator[str]:
    """The app behind a threaded WSGI server, its only database the throwaway server."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{throwaway_postgres.port}/postgres",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait(timeout=10)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def get(url: str, *, host: str, accept: str = "*/*") -> Answer:
    request = urllib.request.Request(url, headers={"Host": host, "Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


@needs_postgres_binaries
def test_database_killed_under_the_app_answers_503_with_retry_after_never_a_500(
    app_on, throwaway_postgres
):
    before = get(f"{app_on}/healthz", host="10.1.2.3")
    assert before.status == 200, before.body
    assert json.loads(before.body)["database"] == "ok"

    throwaway_postgres.kill()

    health = get(f"{app_on}/healthz", host="alpha.localhost")
    assert health.status == 503
    assert health.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = json.loads(health.body)
    assert (body["status"], body["database"]) == ("down", "error: OperationalError")
    assert str(throwaway_postgres.port) not in health.body and "127.0.0.1" not in health.body

    # The API, from many clients at once: each one a JSON 503 it can retry (the tenant lookup
    # is what fails first).
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: get(f"{app_on}/api/v1/services/", host="alpha.localhost"), range(24))
        )
    assert {answer.status for answer in answers} == {503}
    for answer in answers:
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert json.loads(answer.body)["error"]["code"] == "temporarily_unavailable"

    # A JSON client on a page, and a browser on the platform host and on a booking page.
    page_for_json = get(f"{app_on}/book/", host="alpha.localhost", accept="application/json")
    assert page_for_json.status == 503
    assert json.loads(page_for_json.body)["error"]["code"] == "temporarily_unavailable"
    for host, path in (("localhost", "/"), ("alpha.localhost", "/book/")):
        page = get(f"{app_on}{path}", host=host, accept="text/html,*/*;q=0.8")
        assert page.status == 503
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "Temporarily unavailable" in page.body
        assert "Traceback" not in page.body and "OperationalError" not in page.body


@pytest.mark.parametrize(
    ("error", "status"),
    [(OperationalError("gone"), 503), (InterfaceError("closed"), 503), (ValueError("bug"), 500)],
)
def test_only_database_unavailability_turns_the_500_handler_into_a_503(rf, error, status):
    request = rf.get("/api/v1/services/")
    try:
        raise error
    except Exception:  # noqa: BLE001 - the handler reads the exception being handled
        response = server_error(request)
    assert response.status_code == status
    assert ("Retry-After" in response) is (status == 503)
