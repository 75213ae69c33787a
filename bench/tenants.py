"""What grows with the number of tenants: provisions tenants in steps (10, 100, 500, 1,000,
2,000) and prints, per step, the provisioning median/p95 of that step's signups, a no-op
`migrate` across all tenants (a separate process, beside a trivial `manage.py` baseline), the
availability endpoint's p95 for one tenant, the console's tenant list p95 and the database size.

Run: nice .venv/bin/python bench/tenants.py [--max-tenants 500] [--budget-minutes 30]
(uses DATABASE_URL or local PostgreSQL; works on a copy of the kept `creneau_bench_http_base`,
dropped at the end, as the other benches; BENCH_BASE_DATABASE names another migrated base to
copy from). A step is not started once the budget is spent.
The requests go through Django's test client in this process (no server start-up per step):
the figures are the application's own time, not the network's.
Targets (issue #16): provisioning <= 1 s median, <= 2 s p95 at any step, flat; the console flat;
no-op migrate <= 60 s at 2,000 tenants.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from datetime import date, timedelta

import bench_server
from bench_server import (
    PYTHON,
    ROOT,
    bench_database,
    percentile,
    provision_bench_tenant,
    server_env,
    setup_django,
)

STEPS = (10, 100, 500, 1000, 2000)
REQUESTS = 30


def timed_process(arguments: list[str], database_url: str) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "manage.py", *arguments], cwd=ROOT, env=server_env(database_url),
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - started


def p95_of_requests(client, path: str, query: dict | None = None) -> float:
    timings = []
    for _ in range(REQUESTS + 3):
        started = time.perf_counter()
        response = client.get(path, query or {})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return percentile(timings[3:], 0.95)


def bench_clients():
    """An operator's console client and a public client on a tenant with one service."""
    from datetime import time as clock

    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import tenant_context

    from scheduling.models import Service, StaffMember, WorkingHours
    from tenants.middleware import SESSION_SCHEMA_KEY
    from tenants.models import User

    tenant = provision_bench_tenant("benchscale")
    with tenant_context(tenant):
        staff = StaffMember.objects.create(display_name="Ada")
        WorkingHours.objects.bulk_create(
            WorkingHours(staff=staff, weekday=day, start=clock(9), end=clock(18))
            for day in range(6)
        )
        service = Service.objects.create(name="Cut", duration_minutes=60, price_minor=0)
        service.staff.add(staff)
    operator = User.objects.create_user(
        email="operator@bench.test", full_name="Operator", password="bench-pass-123"
    )
    operator.is_operator = True
    operator.save()
    device = TOTPDevice.objects.create(user=operator, name="bench", confirmed=True)
    console = Client(HTTP_HOST="localhost")
    console.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    session = console.session
    session[SESSION_SCHEMA_KEY] = "public"
    session["otp_device_id"] = device.persistent_id
    session.save()
    start = date.today() + timedelta(days=2)
    availability = {"service": service.pk, "start": str(start), "end": str(start + timedelta(7))}
    return console, Client(HTTP_HOST="benchscale.localhost"), availability


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-tenants", type=int, default=STEPS[-1])
    parser.add_argument("--budget-minutes", type=float, default=60)
    options = parser.parse_args()
    # Another migrated base to copy from (the shared one may be busy or mid-migration).
    bench_server.BASE_DATABASE = os.environ.get("BENCH_BASE_DATABASE", bench_server.BASE_DATABASE)
    with bench_database("creneau_bench_tenants_run") as database_url:
        setup_django(database_url)
        measure(database_url, options.max_tenants, options.budget_minutes * 60)


def measure(database_url: str, max_tenants: int, budget: float) -> None:
    from django.db import connection

    from tenants.models import Tenant

    began = time.perf_counter()
    console, public, availability = bench_clients()
    baseline = timed_process(["help"], database_url)
    print(f"baseline: `manage.py help` process {baseline:.2f} s", flush=True)
    print(f"{'tenants':>8} {'signup median':>14} {'signup p95':>11} {'noop migrate':>13} "
          f"{'avail p95':>10} {'console p95':>12} {'db size':>9}", flush=True)  # fmt: skip
    index = 0
    for step in (size for size in STEPS if size <= max_tenants):
        if time.perf_counter() - began > budget:
            print(f"budget of {budget / 60:.0f} min spent: stopping before {step}", flush=True)
            break
        signups = []
        while Tenant.objects.exclude(schema_name="public").count() < step:
            started = time.perf_counter()
            provision_bench_tenant(f"scale-{index}")
            signups.append(time.perf_counter() - started)
            index += 1
        migrate = timed_process(["migrate", "--tenant", "-v", "0"], database_url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size_mb = cursor.fetchone()[0] / 1e6
        available = p95_of_requests(public, "/api/v1/availability/", availability) * 1000
        listed = p95_of_requests(console, "/console/") * 1000
        print(
            f"{step:>8} {statistics.median(signups):>12.3f} s {percentile(signups, 0.95):>9.3f} s "
            f"{migrate:>11.2f} s {available:>7.1f} ms {listed:>9.1f} ms {size_mb:>6.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
