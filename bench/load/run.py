"""Load test: customers across many businesses browsing services and availability, holding and
paying through local Stripe, and staff using the back office, against the production-like stack.

    .venv/bin/pip install -r bench/load/requirements.txt      # once: locust
    .venv/bin/python bench/load/run.py                         # 200 customers + 20 staff, 50
                                                               # businesses, 5 minutes
    .venv/bin/python bench/load/run.py --pgbouncer             # the same through PgBouncer
    .venv/bin/python bench/load/run.py --steps 22,55,110 --step-seconds 60   # find the knee
                                                               # first, then the full load

Not under `nice`: it lowers its own priority (and so locust's, local Stripe's and the checks')
once the server, the worker and local Stripe are started, which keep the normal priority.

Bounded and local: its own database (a copy of the kept `creneau_bench_http_base`, see
bench/bench_server.py), gunicorn (3 processes x 2 threads, as docker-compose.yml, not niced), a
real Celery worker (prefork, concurrency 2, as docker-compose.yml) processing the webhooks and
sending the emails (console backend), Redis DB 13, local Stripe (its own process) with a platform
and a Connect webhook endpoint pointed at the server, each business an onboarded connected
account and a paid service (online_full, 45 EUR); with --pgbouncer a private PgBouncer in
transaction pooling (tests/processes.py) and DATABASE_POOLING=transaction.

Prints, per step: requests per second, p50/p95/p99 and failures per endpoint (a 409
`slot_taken` on a hold is a correct answer, not a failure), the app's own p95 over all its
requests (local Stripe and the baseline left out), and /healthz beside it (the trivial baseline,
once a second in the same run, and unloaded before the first step); at the end, once the
webhooks are processed: bookings held, confirmed, double bookings (overlapping active bookings
of one staff member: must be 0), payments without a booking (paid and not refunded, booking not
confirmed: must be 0), and the largest number of customers served with the app's p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import time as wall_time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_server import (  # noqa: E402
    PYTHON,
    ROOT,
    bench_database,
    free_port,
    percentile,
    provision_bench_tenant,
    running_server,
    server_env,
    setup_django,
)

LOCUST = str(Path(PYTHON).with_name("locust"))
P95_LIMIT_MS = 300
USERS = ("Customer", "Staff", "Probe")  # the locustfile's classes of a step
CUSTOMER_SHARE = 10 / 11  # locustfile: Customer weight 10, Staff weight 1
STRIPE_KEYS = {
    "STRIPE_SECRET_KEY": "sk_test_CreneauLoadTest0000000000001",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_CreneauLoadTest0000000000001",
}


def prepare_businesses(count: int, sdk=None, stripe_url: str = "") -> list[dict]:
    """`count` businesses with two staff members and one service; with `sdk` the service is paid
    online (an onboarded connected account each) and the owner has a back-office session."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django_tenants.utils import tenant_context

    from scheduling.models import Service, StaffMember, WorkingHours
    from scheduling.services.integrations import api_key_create
    from tenants.middleware import SESSION_SCHEMA_KEY
    from tenants.models import User

    businesses = []
    for number in range(count):
        tenant = provision_bench_tenant(f"load{number:03d}")
        if sdk is not None:
            from connect_payments.models import ConnectedAccount
            from stripe_local.testing import onboarded_account

            account_id = onboarded_account(sdk, stripe_url)
            ConnectedAccount.objects.create(tenant=tenant, account_id=account_id,
                                            charges_enabled=True)  # fmt: skip
        owner = User.objects.get(email=f"owner@{tenant.slug}.bench.test")
        session = SessionStore()  # what django.contrib.auth.login() stores
        session.update({SESSION_KEY: str(owner.pk), HASH_SESSION_KEY: owner.get_session_auth_hash(),
                        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                        SESSION_SCHEMA_KEY: tenant.schema_name})  # fmt: skip
        session.create()
        with tenant_context(tenant):
            staff = [StaffMember.objects.create(display_name=f"Staff {n}") for n in range(2)]
            for member in staff:
                for weekday in range(7):
                    WorkingHours.objects.create(staff=member, weekday=weekday,
                                                start=wall_time(8), end=wall_time(20))  # fmt: skip
            paid = sdk is not None
            service = Service.objects.create(
                name="Consultation", duration_minutes=30, slot_interval_minutes=30,
                minimum_notice_minutes=0, maximum_advance_days=90,
                price_minor=4500 if paid else 0, payment_mode="online_full" if paid else "free",
            )  # fmt: skip
            service.staff.add(*staff)
            free = Service.objects.create(  # the --issue-mix bookings: confirmed at once
                name="Free call", duration_minutes=15, slot_interval_minutes=15,
                minimum_notice_minutes=0, maximum_advance_days=90, price_minor=0,
                payment_mode="free",
            )  # fmt: skip
            free.staff.add(*staff)
            key = api_key_create(name="load test", created_by_user_id=None)
            businesses.append(
                {
                    "slug": tenant.slug,
                    "schema": tenant.schema_name,
                    "service": service.pk,
                    "free_service": free.pk,
                    "key": key.secret,
                    "session": session.session_key,
                }  # fmt: skip
            )
        connection.set_schema_to_public()
    return businesses


def outcome(businesses: list[dict]) -> dict[str, int]:
    """Bookings held and confirmed, overlapping active bookings of one staff member (must be 0)
    and payments without a booking (paid, not refunded, booking not confirmed: must be 0)."""
    from django.db import connection

    totals = dict.fromkeys(("held", "confirmed", "double", "paid", "orphan"), 0)
    with connection.cursor() as cursor:
        for business in businesses:
            schema = f'"{business["schema"]}"'
            bookings = f"{schema}.scheduling_booking"
            cursor.execute(  # noqa: S608  (schema names from our own provisioning)
                f"SELECT count(*) FROM {bookings} a JOIN {bookings} b ON a.staff_id = b.staff_id "
                "AND a.id < b.id AND tstzrange(a.starts_at, a.ends_at) && "
                "tstzrange(b.starts_at, b.ends_at) WHERE a.status IN ('held', 'confirmed') "
                "AND b.status IN ('held', 'confirmed')"
            )
            totals["double"] += cursor.fetchone()[0]
            cursor.execute(  # noqa: S608
                f"SELECT count(*), count(*) FILTER (WHERE status = 'confirmed') FROM {bookings}"
            )
            held, confirmed = cursor.fetchone()
            totals["held"] += held
            totals["confirmed"] += confirmed
            cursor.execute(  # noqa: S608
                f"SELECT count(*) FILTER (WHERE p.paid_minor > 0), count(*) FILTER (WHERE "
                "p.paid_minor > p.refunded_minor AND b.status <> 'confirmed') FROM "
                f"{schema}.connect_payments_bookingpayment p "
                f"JOIN {bookings} b ON b.id = p.booking_id"
            )
            paid, orphan = cursor.fetchone()
            totals["paid"] += paid
            totals["orphan"] += orphan
    return totals


def run_locust(base_url: str, users: int, seconds: int, env: dict[str, str],
               classes: tuple[str, ...] = USERS) -> tuple[list, list]:  # fmt: skip
    """(locust's rows per endpoint, the app's response times in ms)."""
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "stats")
        results = os.path.join(folder, "times.json")
        subprocess.run(
            [LOCUST, "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(users),
             "-r", str(max(1, users // 10)), "-t", f"{seconds}s", "--host", base_url,
             "--csv", prefix, "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "35",
             *classes],
            env={**os.environ, **env, "LOAD_RESULTS": results}, check=False, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with open(f"{prefix}_failures.csv") as failures:
            for row in csv.DictReader(failures):
                print(f"  failed: {row['Method']} {row['Name']}: {row['Error'][:120]} "
                      f"x{row['Occurrences']}")  # fmt: skip
        with open(f"{prefix}_stats.csv") as stats:
            rows = list(csv.DictReader(stats))
        with open(results) as times:
            return rows, json.load(times)


def print_step(users: int, seconds: int, rows: list[dict], times: list[float],
               issue_mix: bool = False) -> float:  # fmt: skip
    """Print one step; returns the app's p95 in ms."""
    customers = round((users - 1) * CUSTOMER_SHARE)
    if issue_mix:
        print(f"\n{users - 1} clients that never wait (80 % availability, 20 % free bookings), "
              f"1 probe; {seconds} s")  # fmt: skip
    else:
        print(f"\n{customers} customers, {users - 1 - customers} staff, 1 probe; {seconds} s")
    print(f"{'endpoint':<34} {'requests':>8} {'failed':>6} {'req/s':>6} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7}")  # fmt: skip
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all (locust, incl. Stripe)"
        print(f"{name:<34} {row['Request Count']:>8} {row['Failure Count']:>6} "
              f"{float(row['Requests/s']):>6.1f} {row['50%']:>7} {row['95%']:>7} "
              f"{row['99%']:>7}")  # fmt: skip
    if not times:
        return 0.0
    p95 = percentile(times, 0.95)
    print(f"{'the app (all its requests)':<34} {len(times):>8} {'':>6} "
          f"{len(times) / seconds:>6.1f} {statistics.median(times):>7.0f} {p95:>7.0f} "
          f"{percentile(times, 0.99):>7.0f}", flush=True)  # fmt: skip
    return p95


def quiet_baseline(base_url: str, tenant: dict, repeat: int = 50) -> None:
    """Unloaded, one request at a time: /healthz and one availability week."""
    from datetime import date, timedelta

    first = date.today() + timedelta(days=3)
    paths = {
        "/healthz": "/healthz",
        "availability": f"/api/v1/availability/?service={tenant['service']}&start={first}"
        f"&end={first + timedelta(days=6)}",
    }
    for name, path in paths.items():
        times = []
        for _ in range(repeat + 5):
            request = urllib.request.Request(
                base_url + path, headers={"Host": f"{tenant['slug']}.localhost"}
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            times.append((time.perf_counter() - started) * 1000)
        times = times[5:]  # the first ones warm the workers up
        print(f"unloaded, one at a time: {name:<13} p50 {statistics.median(times):6.1f} ms, "
              f"p95 {percentile(times, 0.95):6.1f} ms", flush=True)  # fmt: skip


def settle(stripe_url: str, businesses: list[dict], timeout: float = 120) -> dict[str, int]:
    """Wait for local Stripe's deliveries and the worker; the outcome once nothing changes."""
    from stripe_local.testing import local

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # `local` waits 10 s for an answer: ask for 8 at a time
        if local(stripe_url, "/_local/webhooks/wait", {"timeout": 8}).get("idle"):
            break
    last = None
    while time.monotonic() < deadline:
        current = outcome(businesses)
        if current == last:
            return current
        last = current
        time.sleep(5)
    return outcome(businesses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=220, help="customers + staff (10:1)")
    parser.add_argument("--seconds", type=int, default=300, help="the full load's length")
    parser.add_argument("--steps", default="", help="smaller user counts to run first")
    parser.add_argument("--step-seconds", type=int, default=60)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--pgbouncer", action="store_true")
    parser.add_argument("--issue-mix", action="store_true",
                        help="the issue's closed loop instead: --users clients that never wait, "
                        "80 %% availability and 20 %% bookings of a free service")  # fmt: skip
    options = parser.parse_args()
    steps = [(int(n), options.step_seconds) for n in options.steps.split(",") if n]
    steps.append((options.users, options.seconds))

    import dev

    from stripe_local.testing import make_client

    with ExitStack() as stack:
        # Local Stripe stands for a service outside this machine: its own process at the
        # server's priority (niced in this process, it was starved and the holds waited on it).
        stripe_port = free_port()
        stripe = subprocess.Popen([PYTHON, "-m", "stripe_local", "--port", str(stripe_port)],
                                  cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        stack.callback(lambda: (stripe.terminate(), stripe.wait(timeout=30)))
        dev.wait_for_port("127.0.0.1", stripe_port, timeout=60)
        stripe_url = f"http://127.0.0.1:{stripe_port}"
        stripe_env = {**STRIPE_KEYS, "STRIPE_API_BASE": stripe_url,
                      "STRIPE_MAX_NETWORK_RETRIES": "0"}  # fmt: skip
        os.environ.update(stripe_env)
        database_url = stack.enter_context(bench_database("creneau_bench_load_run"))
        setup_django(database_url)
        sdk = make_client(stripe_url, api_key=STRIPE_KEYS["STRIPE_SECRET_KEY"])
        port = free_port()
        environment = {**stripe_env}
        for connect in (False, True):  # local Stripe delivers the events to the server
            endpoint = sdk.v1.webhook_endpoints.create(params={
                "url": f"http://localhost:{port}/stripe/webhook/", "enabled_events": ["*"],
                "connect": connect,
            })  # fmt: skip
            name = "STRIPE_CONNECT_WEBHOOK_SECRET" if connect else "STRIPE_WEBHOOK_SECRET"
            environment[name] = endpoint.secret
        # Idle keep-alive connections outlive locust's waits (deploy/gunicorn.conf.py does too).
        environment["GUNICORN_CMD_ARGS"] = "--keep-alive 75"
        if options.pgbouncer:
            sys.path.insert(0, str(ROOT))
            from urllib.parse import urlparse

            from tests.processes import pgbouncer

            bouncer = stack.enter_context(pgbouncer(pool_size=20))
            pooled = urlparse(database_url)._replace(netloc=f"postgres@127.0.0.1:{bouncer}")
            environment.update(DATABASE_URL=pooled.geturl(), DATABASE_POOLING="transaction")
        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-c", "2", "-l",
             "WARNING"], cwd=ROOT, env={**server_env(database_url), **environment},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        stack.callback(lambda: (worker.terminate(), worker.wait(timeout=60)))
        base = stack.enter_context(running_server(database_url, workers=3, threads=2,
                                                  environment=environment, port=port))  # fmt: skip
        # The server and the worker under test keep this process's priority; the rest (the
        # businesses' provisioning, local Stripe, locust, the checks) steps back for them.
        os.nice(10)
        print(f"provisioning {options.tenants} businesses ...", flush=True)
        businesses = prepare_businesses(options.tenants, sdk, stripe_url)
        tenants_file = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".json"))
        json.dump(businesses, tenants_file)
        tenants_file.flush()
        print(f"PgBouncer {'on' if options.pgbouncer else 'off'}", flush=True)
        quiet_baseline(base, businesses[0])
        locust_env = {"LOAD_TENANTS": tenants_file.name, "LOAD_STRIPE_URL": stripe_url,
                      "LOAD_STRIPE_KEY": STRIPE_KEYS["STRIPE_PUBLISHABLE_KEY"]}  # fmt: skip
        # What the same stack serves of a trivial request right now (the machine is shared):
        # /healthz from 12 users that never wait.
        rows, _ = run_locust(base, 12, 30, locust_env, classes=("Saturate",))
        [health] = [row for row in rows if row["Name"] == "Aggregated"]
        capacity = float(health["Requests/s"])
        print(f"saturated /healthz (12 users, no wait, 30 s): {capacity:.1f} req/s, p50 "
              f"{health['50%']} ms, p95 {health['95%']} ms", flush=True)  # fmt: skip
        served = 0
        classes = ("IssueMix", "Probe") if options.issue_mix else USERS
        for users, seconds in steps:
            rows, times = run_locust(base, users + 1, seconds, locust_env, classes)  # + the probe
            p95 = print_step(users + 1, seconds, rows, times, options.issue_mix)
            if times:
                print(f"the app's req/s / saturated /healthz req/s: "
                      f"{len(times) / seconds / capacity:.2f}", flush=True)  # fmt: skip
            if times and p95 < P95_LIMIT_MS:
                served = max(served, users if options.issue_mix else round(users * CUSTOMER_SHARE))
        print("\nwaiting for the webhooks and the worker to finish ...", flush=True)
        totals = settle(stripe_url, businesses)
        print(
            f"holds {totals['held']}, confirmed {totals['confirmed']}, paid {totals['paid']}; "
            f"double bookings {totals['double']} (must be 0); payments without a booking "
            f"{totals['orphan']} (must be 0)"
        )
        print(f"largest step served with the app's p95 < {P95_LIMIT_MS} ms: "
              + (f"{served} {'clients' if options.issue_mix else 'customers (with staff at 10:1)'}"
                 if served else "none"))  # fmt: skip


if __name__ == "__main__":
    main()
