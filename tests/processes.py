"""Real processes for the tests that kill things: a private Redis, a Celery worker process, an
SMTP sink that can hold a message mid-transfer, an HTTP relay that can hold an answer, and the
app pointed at a private broker.

Every server here listens on a free port of 127.0.0.1 and belongs to the test that started it:
the machine's shared Redis and PostgreSQL are never stopped.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


class PrivateRedis:
    """A throwaway Redis server that a test kills with SIGKILL and starts again on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.2).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


def reset_broker_pool(app) -> None:
    """Forget the app's broker pools so the next send uses the current broker settings (kombu
    keeps pools per broker URL; closing them would poison that shared registry)."""
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def app_on_broker(app, url: str, queue: str, **conf) -> Iterator[None]:
    """This process's Celery app sends to `queue` on the broker at `url` (not eagerly)."""
    keys = ("task_always_eager", "broker_url", "result_backend", "task_default_queue", *conf)
    previous = {key: app.conf[key] for key in keys}
    app.conf.update(
        task_always_eager=False, broker_url=url, result_backend=url, task_default_queue=queue,
        **conf,
    )  # fmt: skip
    reset_broker_pool(app)
    try:
        yield
    finally:
        app.conf.update(previous)
        reset_broker_pool(app)


# ---------------------------------------------------------------------------
# A Celery worker in its own process (killable with SIGKILL like a crashed machine)
# ---------------------------------------------------------------------------
def process_children(pid: int) -> list[int]:
    """The ids of the live processes whose parent is `pid` (read from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry.name))
    return children


class WorkerProcess:
    """`celery worker` in its own process group, on the test database and a given broker.

    `env` adds to the worker's environment (EMAIL_PORT, STRIPE_API_BASE, ...); the settings are
    tests/worker_settings.py (the test settings, with SMTP mail and the test database itself).
    """

    def __init__(self, *, broker_url: str, queue: str, pool: str = "solo",
                 env: dict[str, str] | None = None,
                 also: tuple[str, ...] = ()) -> None:  # fmt: skip
        """`also`: more queues to consume beside `queue` (a test's private `offers` queue, as
        deployed workers consume `celery,offers`)."""
        self.broker_url, self.queue, self.pool = broker_url, queue, pool
        self.also = also
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"creneau-worker-{queue}.log"

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "REDIS_URL": self.broker_url,
            "PYTHONPATH": str(ROOT),
            **self.env,
        }
        command = [sys.executable, "-m", "celery", "-A", "saas_platform", "worker",
                   "-P", self.pool, "-c", "1", "-Q", ",".join((self.queue, *self.also)),
                   "-l", "INFO",
                   "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL to the whole worker (main process and pool children): no shutdown at all."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def kill_pool_child(self) -> int:
        """SIGKILL one prefork child only (as the kernel's OOM killer would); returns its id."""
        assert self.process is not None and self.pool == "prefork"
        [child] = process_children(self.process.pid)
        os.kill(child, signal.SIGKILL)
        return child

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


# ---------------------------------------------------------------------------
# An SMTP sink (enough of RFC 5321 for Django's smtplib client)
# ---------------------------------------------------------------------------
class SmtpSink(socketserver.ThreadingTCPServer):
    """Counts the messages it accepted per recipient. With `hold` set, a transfer stops at DATA
    (the client waits for the "354"): `holding` is set, and the message is accepted only if
    `release` is set while the client is still there."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> SmtpSink:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        try:
            self._converse()
        except OSError:  # the client died mid-conversation: nothing was accepted
            pass

    def _converse(self) -> None:
        self.reply("220 sink")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>").lower())
                self.reply("250 ok")
            elif verb == "DATA":
                if self.server.hold:
                    self.server.holding.set()
                    self.server.release.wait()
                self.reply("354 go on")
                ended = False
                while (data := self.rfile.readline()) != b"":
                    if data in (b".\r\n", b".\n"):
                        ended = True
                        break
                if not ended:
                    return  # the client went away before the end of the message
                with self.server.lock:
                    for recipient in recipients:
                        self.server.received[recipient] += 1
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


# ---------------------------------------------------------------------------
# An HTTP relay that can hold one answer (a Stripe call that did its work, then went silent)
# ---------------------------------------------------------------------------
class HoldingRelay(ThreadingHTTPServer):
    """Relays every request to `upstream`. A request whose method and path match `hold` is
    relayed (the upstream does the work), then its answer is kept back: `holding` is set and
    the answer is written only once `release` is set, if the client is still there."""

    daemon_threads = True

    def __init__(self, upstream: str, hold: tuple[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.upstream = urllib.parse.urlsplit(upstream)
        self.hold = hold
        self.holding = threading.Event()
        self.release = threading.Event()
        self.seen: Counter[tuple[str, str]] = Counter()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> HoldingRelay:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class _RelayHandler(BaseHTTPRequestHandler):
    server: HoldingRelay

    def log_message(self, *args: object) -> None:
        pass

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        path = urllib.parse.urlsplit(self.path).path
        self.server.seen[(self.command, path)] += 1
        upstream = http.client.HTTPConnection(
            self.server.upstream.hostname, self.server.upstream.port, timeout=30
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        payload = answer.read()
        upstream.close()
        if (self.command, path) == self.server.hold and not self.server.holding.is_set():
            self.server.holding.set()
            self.server.release.wait()
        try:
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client died while its answer was held
            pass

    do_GET = do_POST = do_DELETE = _relay


# ---------------------------------------------------------------------------
# PgBouncer in transaction pooling mode, and the app served through it
# ---------------------------------------------------------------------------
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
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


@contextmanager
def pgbouncer(*, upstream_port: int = 5432, pool_size: int = 2) -> Iterator[int]:
    """A private PgBouncer (transaction pooling, `pool_size` server connections per database
    and user, trust auth to the local PostgreSQL) on a free port; yields the port."""
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="creneau-pgbouncer-"))
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        (ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini")
        .read_text()
        .replace("host=postgres port=5432", f"host=127.0.0.1 port={upstream_port}")
        .replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1")
        .replace("listen_port = 6432", f"listen_port = {port}")
        .replace("default_pool_size = 20", f"default_pool_size = {pool_size}")
        .replace("auth_type = scram-sha-256", "auth_type = trust")
        .replace("/etc/pgbouncer/userlist.txt", str(folder / "userlist.txt"))
        + "unix_socket_dir =\n"
    )
    os.chmod(folder, 0o755)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command[1:1] = ["-u", "postgres"]
    with open(folder / "pgbouncer.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """The app under gunicorn on a free port with `env` added; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "saas_platform.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
         "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
