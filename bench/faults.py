"""Fault injection: Redis, the Celery worker and PostgreSQL killed (SIGKILL) and restarted under
a light booking load; counts what was lost or doubled.

Run from the repository root: `.venv/bin/python bench/faults.py`. Local processes only, bounded
(about three minutes): its own PostgreSQL cluster (initdb in a temporary folder, on a free port,
loaded with a dump of a fresh copy of `creneau_bench_http_base`: the machine's PostgreSQL is
never stopped), a private `redis-server` on a free port as the broker, a real `celery worker`
process sending email over SMTP to a sink in this process (a minimal SMTP server that counts
messages per recipient), and this process booking through the service layer (one confirmed
booking every 0.2 s, each for a new customer) while it runs the outbox sweep every second (the
beat's job, with a 2 s grace and an 8 s lease instead of 30 s and 20 min, so that a run takes
seconds, not half an hour).

Per phase it prints: bookings tried, failed (an exception in the booking call: must be 0 while
only Redis or the worker is down; while PostgreSQL is down each attempt fails, which is the
point), lost (the booking call returned a confirmed booking that is not in the database
afterwards: must be 0), confirmation emails lost (confirmed booking, no email: must be 0),
doubled (two emails: must be 0) and the seconds from the fault's end until every email was
delivered. The first phase has no fault: its recovery time is the baseline of the same run.
Not covered here: payments and refunds (a refund's durability is its pending row and idempotency
key; a worker killed mid-refund is tested with real processes in
tests/saas_platform/test_worker_kill_refund.py: one refund at Stripe).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time as clock
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bench_server import PYTHON, ROOT, bench_database, free_port, provision_bench_tenant, server_env

from tests.processes import SmtpSink  # the tests' SMTP sink: counts messages per recipient

SLUG = "benchfaults"
ZONE = ZoneInfo("Europe/Paris")
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "9"))
FAULT_AT, FAULT_FOR = 2.0, 3.0
BOOKING_EVERY = 0.2
DELIVERY_TIMEOUT = 60.0


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
class Process:
    def __init__(self, command: list[str], env: dict[str, str] | None = None,
                 log: str = os.devnull) -> None:  # fmt: skip
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def redis_server(port: int) -> Process:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    return Process([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no"])  # fmt: skip


def wait_for_redis(port: int) -> None:
    import redis

    deadline = clock.monotonic() + 10
    while clock.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=0.2).ping():
                return
        except redis.ConnectionError:
            clock.sleep(0.05)
    raise RuntimeError("redis-server did not start")


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary folder) that can be SIGKILLed and
    started again on its data; run as `postgres` when we are root (initdb refuses root)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="creneau-faults-pg-"))
        self.as_user = {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        subprocess.run([POSTGRES_BIN / "initdb", "-D", self.folder / "data", "-U", "postgres",
                        "-A", "trust", "--no-sync"], check=True, capture_output=True,
                       timeout=120, **self.as_user)  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [POSTGRES_BIN / "postgres", "-D", self.folder / "data", "-p", str(self.port),
             "-k", self.folder, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "max_connections=50"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            **self.as_user,
        )  # fmt: skip
        deadline = clock.monotonic() + 30
        while subprocess.run([POSTGRES_BIN / "pg_isready", "-h", "127.0.0.1", "-p",
                              str(self.port)], capture_output=True).returncode:  # fmt: skip
            if clock.monotonic() > deadline:
                raise RuntimeError("the private PostgreSQL did not start")
            clock.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the postmaster and every backend: connections just break."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def private_copy(database_url: str):
    """Yield the URL of a copy of `database_url` on a private cluster, removed afterwards."""
    postgres = PrivatePostgres()
    postgres.start()
    try:
        name = urlparse(database_url).path.lstrip("/")
        subprocess.run([POSTGRES_BIN / "createdb", "-h", "127.0.0.1", "-p", str(postgres.port),
                        "-U", "postgres", name], check=True)  # fmt: skip
        dump = subprocess.Popen([POSTGRES_BIN / "pg_dump", "--no-owner", database_url],
                                stdout=subprocess.PIPE)  # fmt: skip
        subprocess.run([POSTGRES_BIN / "psql", "-q", "-v", "ON_ERROR_STOP=1", postgres.url(name)],
                       stdin=dump.stdout, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        if dump.wait() != 0:
            raise RuntimeError("pg_dump failed")
        yield postgres, postgres.url(name)
    finally:
        postgres.remove()


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def main() -> None:
    redis_port, sink = free_port(), SmtpSink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    broker = redis_server(redis_port)
    broker.start()
    wait_for_redis(redis_port)
    with (
        bench_database("creneau_bench_faults_run") as shared_url,
        private_copy(shared_url) as (postgres, database_url),
    ):
        env = {
            **server_env(database_url),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.server_address[1]),
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection
        from django_tenants.utils import tenant_context

        from outbox.models import OutboxMessage
        from outbox.services import outbox_sweep
        from scheduling.actors import Actor
        from scheduling.models import Booking, Service, StaffMember, WorkingHours
        from scheduling.services.bookings import booking_confirm, booking_hold
        from scheduling.services.customers import customer_upsert

        settings.OUTBOX_GRACE_SECONDS, settings.OUTBOX_LEASE_SECONDS = 2, 8
        worker = Process([PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-P", "solo",
                          "-l", "INFO"], env=env,
                         log=os.environ.get("BENCH_WORKER_LOG", os.devnull))  # fmt: skip
        worker.start()
        tenant = provision_bench_tenant(SLUG)
        with tenant_context(tenant):
            staff = StaffMember.objects.create(display_name="Faulty")
            for weekday in range(7):
                WorkingHours.objects.create(staff=staff, weekday=weekday, start=time(6),
                                            end=time(22))  # fmt: skip
            service = Service.objects.create(
                name="Fault check", duration_minutes=15, slot_interval_minutes=15,
                minimum_notice_minutes=0, maximum_advance_days=365, price_minor=0,
                payment_mode="free",
            )  # fmt: skip
            service.staff.add(staff)
        connection.set_schema_to_public()
        desk = Actor("Bench desk", user_id=None)
        slots = (
            datetime.combine(datetime.now(ZONE).date() + timedelta(days=2 + n // 64), time(6), ZONE)
            + timedelta(minutes=15 * (n % 64))
            for n in range(100_000)
        )
        stop_sweeping = threading.Event()

        def sweep_forever() -> None:
            while not stop_sweeping.wait(1.0):
                try:
                    outbox_sweep()
                except Exception as error:  # noqa: BLE001  (reported; the sweep goes on)
                    print(f"  sweep: {type(error).__name__}", flush=True)
                    connection.close()  # a broken connection is opened afresh next time
            connection.close()

        sweeper = threading.Thread(target=sweep_forever, daemon=True)
        sweeper.start()

        def phase(name: str, fault_start, fault_end) -> None:
            emails: list[str] = []
            failed = 0
            failures: Counter = Counter()
            started = clock.monotonic()
            faulted = restored = False
            fault_ended_at = started
            while (now := clock.monotonic() - started) < LOAD_SECONDS:
                if not faulted and now >= FAULT_AT:
                    fault_start()
                    faulted = True
                if faulted and not restored and now >= FAULT_AT + FAULT_FOR:
                    fault_end()
                    restored, fault_ended_at = True, clock.monotonic()
                email = f"{name.split()[0].lower()}-{len(emails) + failed}@bench.test"
                try:
                    with tenant_context(tenant):
                        customer = customer_upsert(name="Bench customer", email=email)
                        held = booking_hold(service=service, starts_at=next(slots),
                                            customer=customer, staff_id=staff.pk)  # fmt: skip
                        booking_confirm(booking=held, actor=desk)
                    emails.append(email)
                except Exception as error:  # noqa: BLE001  (a failed booking is what we count)
                    failed += 1
                    failures[type(error).__name__] += 1
                    connection.close()  # PostgreSQL gone: the next attempt reconnects
                clock.sleep(BOOKING_EVERY)
            connection.close()
            connection.set_schema_to_public()
            deadline = clock.monotonic() + DELIVERY_TIMEOUT
            while clock.monotonic() < deadline:
                with sink.lock:
                    if all(sink.received[e] >= 1 for e in emails):
                        break
                clock.sleep(0.2)
            recovered = clock.monotonic() - fault_ended_at
            clock.sleep(3)  # anything handed twice arrives by now
            with sink.lock:
                lost = sum(1 for e in emails if sink.received[e] == 0)
                doubled = sum(1 for e in emails if sink.received[e] > 1)
            with tenant_context(tenant):
                confirmed = Booking.objects.filter(customer__email__in=emails,
                                                   status="confirmed").count()  # fmt: skip
            connection.set_schema_to_public()
            open_rows = OutboxMessage.objects.filter(done_at__isnull=True).count()
            print(f"{name:<22} bookings tried {len(emails) + failed:>3}  failed {failed:>2}  "
                  f"confirmed {confirmed:>3}  lost {len(emails) - confirmed}  emails lost {lost}"
                  f"  doubled {doubled}  outbox open {open_rows}  all delivered "
                  f"{recovered:5.1f} s after the fault ended", flush=True)  # fmt: skip
            if failures:
                print(f"  failed bookings: {dict(failures)}", flush=True)

        def restart_redis() -> None:
            broker.start()
            wait_for_redis(redis_port)

        def restart_worker() -> None:
            worker.start()

        def restart_postgres() -> None:
            postgres.start()

        try:
            print("phase                  (each: 9 s of load, fault at 2 s for 3 s)", flush=True)
            phase("baseline (no fault)", lambda: None, lambda: None)
            phase("redis SIGKILL", broker.kill, restart_redis)
            phase("worker SIGKILL", worker.kill, restart_worker)
            phase("postgres SIGKILL", postgres.kill, restart_postgres)
        finally:
            stop_sweeping.set()
            sweeper.join(timeout=10)
            worker.kill()
            broker.kill()
            sink.shutdown()


if __name__ == "__main__":
    main()
