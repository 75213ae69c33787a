"""Support for the HTTP benchmarks: a throw-away database, a bench tenant, a real server.

Migrating a database from nothing replays dj-stripe's history (minutes here), so one migrated base
database, `creneau_bench_http_base`, is kept between runs (migrated again each run: seconds when
current) and each run works on its own copy made with `CREATE DATABASE ... TEMPLATE`, dropped at
the end. Drop the base by hand to reclaim its space: `DROP DATABASE creneau_bench_http_base`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import dev  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
BASE_DATABASE = "creneau_bench_http_base"
SETTINGS = "saas_platform.settings.local"


def _admin_connection(url: str):
    import psycopg

    return psycopg.connect(urlparse(url)._replace(path="/postgres").geturl(), autocommit=True)


def server_env(database_url: str) -> dict[str, str]:
    """What the bench server and this process run with: production-like (no DEBUG, persistent
    database connections), Redis DB 13 (tasks queue there; no worker runs), and no rate limits
    on the public API: every bench client comes from 127.0.0.1 to one business (contention.py
    sends hundreds of holds in seconds), which the limits exist to refuse. With `off`, DRF's
    throttle returns before touching the cache: the timings leave out the one Redis read and
    write that each public API request costs in production."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DJANGO_DEBUG="false",
        DATABASE_CONN_MAX_AGE="60",
        REDIS_URL=env.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        API_THROTTLE_HOLD_RATE="off",
        API_THROTTLE_TOKEN_RATE="off",
        API_THROTTLE_BROWSE_RATE="off",
    )
    return env


@contextmanager
def bench_database(run_name: str):
    """Yield the URL of a fresh, migrated database named `run_name`; drop it afterwards."""
    # DATABASE_URL (if set) says which server; the bench uses its own databases on it.
    found = urlparse(dev.find_database_url(BASE_DATABASE))
    base_url = found._replace(path=f"/{BASE_DATABASE}").geturl()
    dev.ensure_database(base_url)
    print(f"migrating {BASE_DATABASE} (seconds when current, minutes the first time) ...",
          flush=True)  # fmt: skip
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=server_env(base_url), check=True)  # fmt: skip
    run_url = found._replace(path=f"/{run_name}").geturl()
    with _admin_connection(base_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{run_name}" TEMPLATE "{BASE_DATABASE}"')
    try:
        yield run_url
    finally:
        from django.db import connections

        connections.close_all()
        with _admin_connection(base_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)')
        print(f"dropped database {run_name}", flush=True)


def setup_django(database_url: str) -> None:
    os.environ.update(server_env(database_url))
    import django

    django.setup()


def provision_bench_tenant(slug: str, *, time_zone: str = "Europe/Paris"):
    from tenants.services import tenant_provision

    return tenant_provision(
        name=f"Bench {slug}",
        slug=slug,
        owner_email=f"owner@{slug}.bench.test",
        owner_name="Bench Owner",
        owner_password="bench-passphrase-123",
        country="FR",
        currency="EUR",
        time_zone=time_zone,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(database_url: str, *, workers: int = 2, threads: int = 1,
                   environment: dict[str, str] | None = None,
                   port: int | None = None):  # fmt: skip
    """gunicorn on a loopback port (`port`, or a free one); yields its base URL and stops it by
    its own pid. `environment` adds to (or overrides) `server_env`."""
    port = port or free_port()
    command = [
        PYTHON, "-m", "gunicorn", "saas_platform.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
        "--log-level", "warning", "--timeout", "60",
    ]  # fmt: skip
    print(f"starting gunicorn on 127.0.0.1:{port} ({workers} workers x {threads} threads)",
          flush=True)  # fmt: skip
    # The server's log (a warning per 409, for one) goes to a temporary file, shown on failure.
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, cwd=ROOT,
                                   env={**server_env(database_url), **(environment or {})},
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        failed = True
        try:
            dev.wait_for_port("127.0.0.1", port, timeout=60)
            yield f"http://127.0.0.1:{port}"
            failed = False
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            print("stopped gunicorn", flush=True)
            if failed:
                log.seek(0)
                print("server log (last lines):\n" + "".join(log.readlines()[-30:]), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile; `fraction` is 0.95 for the p95 (95 would give the maximum,
    as bench/tenants.py's p95 columns did before 2026-12-07)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"percentile takes a fraction (0.95), not {fraction}")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]
