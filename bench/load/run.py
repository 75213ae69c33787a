"""Load test: customers across many businesses browsing services and availability and booking,
and staff reading bookings through the staff API, against the production-like stack.

    .venv/bin/pip install -r bench/load/requirements.txt      # once: locust
    .venv/bin/python bench/load/run.py                         # 200 customers + 20 staff, 50
                                                               # businesses, 5 minutes
    .venv/bin/python bench/load/run.py --pgbouncer             # the same through PgBouncer
    .venv/bin/python bench/load/run.py --steps 25,50,100,200 --seconds 60   # find the p95 knee

Bounded and local: its own database (a copy of the kept `creneau_bench_http_base`, see
bench/bench_server.py), gunicorn (3 processes x 2 threads, as docker-compose.yml), a real Celery
worker sending the confirmation emails (console backend), Redis DB 13, with --pgbouncer a private
PgBouncer in transaction pooling (tests/processes.py) and DATABASE_POOLING=transaction. The
services are free (no Stripe): holding and paying through local Stripe is not driven yet.

Prints, per step: requests per second, p50/p95/p99 and failures per endpoint (a 409
`slot_taken` on a booking is a correct answer, not a failure), double bookings (overlapping
active bookings of one staff member: must be 0) and, across steps, the largest number of
simulated users served with an overall p95 under 300 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from datetime import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_server import (  # noqa: E402
    PYTHON,
    ROOT,
    bench_database,
    provision_bench_tenant,
    running_server,
    server_env,
    setup_django,
)

LOCUST = str(Path(PYTHON).with_name("locust"))
P95_LIMIT_MS = 300


def prepare_businesses(count: int) -> list[dict]:
    from django.db import connection
    from django_tenants.utils import tenant_context

    from scheduling.models import Service, StaffMember, WorkingHours
    from scheduling.services.integrations import api_key_create

    businesses = []
    for number in range(count):
        tenant = provision_bench_tenant(f"load{number:03d}")
        with tenant_context(tenant):
            staff = [StaffMember.objects.create(display_name=f"Staff {n}") for n in range(2)]
            for member in staff:
                for weekday in range(7):
                    WorkingHours.objects.create(staff=member, weekday=weekday, start=time(8),
                                                end=time(20))  # fmt: skip
            service = Service.objects.create(
                name="Consultation", duration_minutes=30, slot_interval_minutes=30,
                minimum_notice_minutes=0, maximum_advance_days=90, price_minor=0,
                payment_mode="free",
            )  # fmt: skip
            service.staff.add(*staff)
            key = api_key_create(name="load test", created_by_user_id=None)
            businesses.append(
                {
                    "slug": tenant.slug,
                    "schema": tenant.schema_name,
                    "service": service.pk,
                    "key": key.secret,
                }  # fmt: skip
            )
        connection.set_schema_to_public()
    return businesses


def double_bookings(businesses: list[dict]) -> tuple[int, int]:
    """(overlapping pairs of active bookings of one staff member, bookings made) in all."""
    from django.db import connection

    overlaps = made = 0
    with connection.cursor() as cursor:
        for business in businesses:
            table = f'"{business["schema"]}".scheduling_booking'
            cursor.execute(  # noqa: S608  (schema names from our own provisioning)
                f"SELECT count(*) FROM {table} a JOIN {table} b ON a.staff_id = b.staff_id "
                "AND a.id < b.id AND tstzrange(a.starts_at, a.ends_at) && "
                "tstzrange(b.starts_at, b.ends_at) WHERE a.status IN ('held', 'confirmed') "
                "AND b.status IN ('held', 'confirmed')"
            )
            overlaps += cursor.fetchone()[0]
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            made += cursor.fetchone()[0]
    return overlaps, made


def run_locust(base_url: str, users: int, seconds: int, tenants_file: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "stats")
        subprocess.run(
            [LOCUST, "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(users),
             "-r", str(max(1, users // 10)), "-t", f"{seconds}s", "--host", base_url,
             "--csv", prefix, "--only-summary", "--loglevel", "WARNING"],
            env={**os.environ, "LOAD_TENANTS": tenants_file}, check=False, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with open(f"{prefix}_failures.csv") as failures:
            for row in csv.DictReader(failures):
                print(f"  failed: {row['Method']} {row['Name']}: {row['Error'][:120]} "
                      f"x{row['Occurrences']}")  # fmt: skip
        with open(f"{prefix}_stats.csv") as stats:
            return list(csv.DictReader(stats))


def print_step(users: int, rows: list[dict]) -> float:
    print(f"\n{users} simulated users (customers and staff 10:1)")
    print(f"{'endpoint':<22} {'requests':>9} {'failed':>7} {'req/s':>7} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7}")  # fmt: skip
    total_p95 = 0.0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        print(f"{name:<22} {row['Request Count']:>9} {row['Failure Count']:>7} "
              f"{float(row['Requests/s']):>7.1f} {row['50%']:>7} {row['95%']:>7} "
              f"{row['99%']:>7}")  # fmt: skip
        if row["Name"] == "Aggregated":
            total_p95 = float(row["95%"])
    return total_p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=220, help="customers + staff (10:1)")
    parser.add_argument("--steps", default="", help="comma-separated user counts instead")
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--pgbouncer", action="store_true")
    options = parser.parse_args()
    steps = [int(n) for n in options.steps.split(",") if n] or [options.users]

    with ExitStack() as stack:
        database_url = stack.enter_context(bench_database("creneau_bench_load_run"))
        setup_django(database_url)
        print(f"provisioning {options.tenants} businesses ...", flush=True)
        businesses = prepare_businesses(options.tenants)
        tenants_file = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".json"))
        json.dump(businesses, tenants_file)
        tenants_file.flush()
        # Idle keep-alive connections outlive locust's waits (deploy/gunicorn.conf.py does too).
        server_url, environment = database_url, {"GUNICORN_CMD_ARGS": "--keep-alive 75"}
        if options.pgbouncer:
            sys.path.insert(0, str(ROOT))
            from urllib.parse import urlparse

            from tests.processes import pgbouncer

            port = stack.enter_context(pgbouncer(pool_size=20))
            server_url = urlparse(database_url)._replace(netloc=f"postgres@127.0.0.1:{port}")
            environment.update(DATABASE_URL=server_url.geturl(), DATABASE_POOLING="transaction")
        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-P", "solo", "-l",
             "WARNING"], cwd=ROOT, env={**server_env(database_url), **environment},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        stack.callback(lambda: (worker.terminate(), worker.wait(timeout=30)))
        base = stack.enter_context(
            running_server(database_url, workers=3, threads=2, environment=environment)
        )
        print(f"PgBouncer {'on' if options.pgbouncer else 'off'}; {options.seconds} s a step",
              flush=True)  # fmt: skip
        served = 0
        for users in steps:
            p95 = print_step(users, run_locust(base, users, options.seconds, tenants_file.name))
            if p95 and p95 < P95_LIMIT_MS:
                served = max(served, users)
        overlaps, made = double_bookings(businesses)
        print(
            f"\nbookings made {made}, double bookings {overlaps} (must be 0); payments "
            "without a booking: not measured (free services)"
        )
        print(f"largest step served at p95 < {P95_LIMIT_MS} ms: {served or 'none'} simulated users")


if __name__ == "__main__":
    main()
