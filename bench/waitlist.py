"""Waitlist under a burst: a class of 20 seats, 500 people waiting, 50 cancellations.

Run from the repository root: `.venv/bin/python bench/waitlist.py`. It copies the kept, migrated
`creneau_bench_http_base` into its own database (migrated again: seconds), provisions a tenant,
starts local Stripe in this process and the Celery workers as docker-compose.yml deploys them (a
general one, prefork 2 processes, on `celery,offers`; the waitlist's own, 1 process, on `offers`)
on Redis (BENCH_REDIS_URL, default DB 10), and drops the copy at the end.

The run: the 20 seats are booked and paid; 500 people join the session's waitlist; 10 threads
cancel seats as fast as seats are confirmed (50 cancellations in all: the first 20 at once, the
rest as the waitlist refills the seats). Each cancellation commits an outbox row; a worker of the
`offers` queue writes the freed place and the offers (two people at a time:
WAITLIST_OFFERS_AT_ONCE); bench threads play the offered people, who accept at once, both of them
racing for the seat, and the winner pays through local Stripe (PaymentIntent confirmed with a test
card, then re-read).

Prints: time from a cancellation's commit to its seat's first offer (p50, p95, max), offers per
second, seats booked from the waitlist, lost races, and the lines that must read 0: double bookings
(more active seats than the capacity, or one person twice in the session) and charges without a
booking (paid, not refunded, booking not confirmed). Beside them, measured in the same run: the
trivial baseline of the same path (an outbox row whose task does next to nothing, the heartbeat,
commit to done) and a cancellation's own time with nobody waiting and with 500 waiting.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import threading
import time as clock
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bench_server import (
    BASE_DATABASE,
    PYTHON,
    ROOT,
    _admin_connection,
    percentile,
    provision_bench_tenant,
    server_env,
    setup_django,
)

SEATS = 20
WAITING = int(os.environ.get("BENCH_WAITING", "500"))
CANCELLATIONS = int(os.environ.get("BENCH_CANCELLATIONS", "50"))
OFFERS_AT_ONCE = int(os.environ.get("WAITLIST_OFFERS_AT_ONCE", "2"))
CANCELLERS = 10
BASELINE_TASKS = 50
RUN_DATABASE = "creneau_bench_waitlist"
SLUG = "benchwait"
SECRET_KEY = "sk_test_CreneauWaitlistBench000000001"
PARIS = ZoneInfo("Europe/Paris")
REDIS = os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")


@contextmanager
def run_database():
    """A copy of the kept bench base (never migrated from here: other runs share it), migrated
    to this checkout, dropped at the end."""
    import dev  # scripts/, put on the path by bench_server

    found = urlparse(dev.find_database_url(BASE_DATABASE))
    base_url = found._replace(path=f"/{BASE_DATABASE}").geturl()
    run_url = found._replace(path=f"/{RUN_DATABASE}").geturl()
    with _admin_connection(base_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{RUN_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{RUN_DATABASE}" TEMPLATE "{BASE_DATABASE}"')
    try:
        print(f"migrating {RUN_DATABASE} ...", flush=True)
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                       env=server_env(run_url), check=True)  # fmt: skip
        yield run_url
    finally:
        from django.db import connections

        connections.close_all()
        with _admin_connection(base_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{RUN_DATABASE}" WITH (FORCE)')
        print(f"dropped database {RUN_DATABASE}", flush=True)


@contextmanager
def celery_worker(run_url: str, stripe_base: str):
    """The workers as docker-compose.yml deploys them: a general worker (prefork, 2 processes)
    on both queues, and the waitlist's own worker (1 process) on the `offers` queue only."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()  # this bench's own Redis database
    env = {**server_env(run_url), "STRIPE_API_BASE": stripe_base, "STRIPE_SECRET_KEY": SECRET_KEY,
           "STRIPE_MAX_NETWORK_RETRIES": "0",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}  # fmt: skip
    workers = {
        "general": [PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-P", "prefork",
                    "-c", "2", "-Q", "celery,offers", "-n", "general@%h", "-l", "WARNING",
                    "--without-gossip", "--without-mingle"],
        "offers": [PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-P", "prefork",
                   "-c", os.environ.get("BENCH_OFFERS_PROCESSES", "1"), "-Q", "offers",
                   "-n", "offers@%h", "-l", os.environ.get("BENCH_WORKER_LOG", "WARNING"),
                   "--without-gossip", "--without-mingle"],
    }  # fmt: skip
    processes = []
    for name, command in workers.items():
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"creneau-bench-waitlist-{name}.log"
        with open(log, "w") as output:
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                              stderr=subprocess.STDOUT))  # fmt: skip
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print("stopped the workers", flush=True)


def wait_until(condition, *, timeout: float, step: float = 0.05) -> bool:
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        if condition():
            return True
        clock.sleep(step)
    return bool(condition())


def build_class(tenant, name: str, sdk) -> tuple:
    """A class of SEATS seats at 20.00 paid online, one session in a week, every seat paid."""
    from django_tenants.utils import tenant_context

    from connect_payments.services.booking_payments import booking_payment_on_return
    from scheduling.models import Occurrence, Service, StaffMember
    from scheduling.services.bookings import booking_take_seat
    from scheduling.services.customers import customer_upsert
    from waitlists.payment import acceptance_payment

    with tenant_context(tenant):
        teacher = StaffMember.objects.create(display_name=f"Teacher {name}")
        service = Service.objects.create(
            name=name, duration_minutes=60, price_minor=2000, payment_mode="online_full",
            capacity=SEATS, minimum_notice_minutes=60, maximum_advance_days=60,
        )  # fmt: skip
        service.staff.add(teacher)
        day = (datetime.now(PARIS) + timedelta(days=7)).date()
        start = datetime.combine(day, time(18), PARIS)
        session = Occurrence.objects.create(
            service=service,
            staff=teacher,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            capacity=SEATS,
        )
        for n in range(SEATS):
            customer = customer_upsert(name=f"Member {n}", email=f"{name}.member{n}@bench.test")
            booking = booking_take_seat(occurrence=session, customer=customer)
            pay(booking, sdk, acceptance_payment(), booking_payment_on_return)
    return service, session


def pay(booking, sdk, payer, on_return) -> None:
    """What the customer's browser and the return path do: a test card, then the re-read."""
    from connect_payments.models import BookingPayment

    payer.after_hold(booking=booking)
    payment = BookingPayment.objects.get(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    on_return(booking=booking)


def baseline_round_trip(tenant) -> list[float]:
    """Commit → done of an outbox row whose task does next to nothing: the worker heartbeat
    (one Redis write), through the same outbox, broker and worker as the offers."""
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from outbox.models import OutboxMessage
    from outbox.services import outbox_enqueue
    from saas_platform import tasks  # noqa: F401  (registers the heartbeat in this process)
    from saas_platform.heartbeat import HEARTBEAT_TASK

    ids = []
    with tenant_context(tenant):
        for _ in range(BASELINE_TASKS):
            with transaction.atomic():
                ids.append(outbox_enqueue(HEARTBEAT_TASK).pk)
            clock.sleep(0.02)
    done = OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=False)
    wait_until(lambda: done.count() == len(ids), timeout=60)
    return [
        (row.done_at - row.created_at).total_seconds() * 1000
        for row in OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=False)
    ]


def cancellation_times(tenant, session, count: int) -> list[float]:
    """The customer's cancellation itself (the request's work), in milliseconds."""
    from django_tenants.utils import tenant_context

    from scheduling.actors import CUSTOMER
    from scheduling.models import Booking
    from scheduling.services.bookings import booking_cancel

    times = []
    with tenant_context(tenant):
        for booking in list(Booking.objects.filter(occurrence=session, status="confirmed"))[:count]:
            started = clock.perf_counter()
            booking_cancel(booking=booking, actor=CUSTOMER, by_business=False)
            times.append((clock.perf_counter() - started) * 1000)
    return times


def burst(tenant, session, sdk) -> dict:
    """CANCELLERS threads cancel confirmed seats until CANCELLATIONS are done; the offered people
    accept at once (in their own threads) and the winners pay."""
    from django.db import connections
    from django_tenants.utils import tenant_context

    from connect_payments.services.booking_payments import booking_payment_on_return
    from scheduling.actors import CUSTOMER
    from scheduling.models import Booking
    from scheduling.services.bookings import booking_cancel
    from waitlists.models import OfferStatus, WaitlistOffer
    from waitlists.payment import acceptance_payment
    from waitlists.services.offers import Outcome, offer_accept

    lock = threading.Lock()
    state = {"cancelled": 0, "booked": 0, "lost": 0, "errors": []}
    seen: set[int] = set()
    stop = threading.Event()
    accepters: list[threading.Thread] = []

    claimed: set[int] = set()

    def cancel_loop(index: int) -> None:
        """Cancel confirmed seats (each one once: a booking two threads chose is skipped, as a
        second cancellation of one booking changes nothing) until CANCELLATIONS are made."""
        rng = random.Random(index)
        try:
            with tenant_context(tenant):
                while not stop.is_set():
                    with lock:
                        if state["cancelled"] >= CANCELLATIONS:
                            return
                        state["cancelled"] += 1
                    while not stop.is_set():
                        ids = Booking.objects.filter(occurrence=session, status="confirmed")
                        with lock:
                            free = [pk for pk in ids.values_list("pk", flat=True)
                                    if pk not in claimed]  # fmt: skip
                            chosen = rng.choice(free) if free else None
                            if chosen is not None:
                                claimed.add(chosen)
                        if chosen is not None:
                            booking_cancel(booking=Booking.objects.get(pk=chosen),
                                           actor=CUSTOMER, by_business=False)  # fmt: skip
                            break
                        clock.sleep(0.01)
        except Exception as error:  # noqa: BLE001  (reported in the figures)
            state["errors"].append(repr(error))
        finally:
            connections.close_all()

    def accept(offer_id: int) -> None:
        try:
            with tenant_context(tenant):
                offer = WaitlistOffer.objects.get(pk=offer_id)
                acceptance = offer_accept(offer=offer)
                if acceptance.outcome == Outcome.PAY and acceptance.booking is not None:
                    pay(acceptance.booking, sdk, acceptance_payment(), booking_payment_on_return)
                    with lock:
                        state["booked"] += 1
                elif acceptance.outcome == Outcome.TAKEN:
                    with lock:
                        state["lost"] += 1
        except Exception as error:  # noqa: BLE001  (reported in the figures)
            state["errors"].append(repr(error))
        finally:
            connections.close_all()

    def offered_people() -> None:
        try:
            with tenant_context(tenant):
                while not stop.is_set():
                    pending = WaitlistOffer.objects.filter(status=OfferStatus.PENDING).exclude(
                        pk__in=seen
                    )
                    for offer_id in pending.values_list("pk", flat=True):
                        seen.add(offer_id)
                        thread = threading.Thread(target=accept, args=(offer_id,))
                        accepters.append(thread)
                        thread.start()
                    clock.sleep(0.02)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=offered_people)
    watcher.start()
    started = clock.perf_counter()
    cancellers = [threading.Thread(target=cancel_loop, args=(i,)) for i in range(CANCELLERS)]
    for thread in cancellers:
        thread.start()
    for thread in cancellers:
        thread.join(timeout=600)

    from waitlists.models import FreedPlace, PlaceStatus

    def settled() -> bool:
        """Every cancellation handled by the worker, and every freed seat booked again (or
        nobody left to offer it to)."""
        from outbox.models import OutboxMessage

        with tenant_context(tenant):
            return (
                not OutboxMessage.objects.filter(
                    task_name="waitlists.tasks.open_freed_place", done_at__isnull=True
                ).exists()
                and not FreedPlace.objects.filter(status=PlaceStatus.OPEN).exists()
                and not WaitlistOffer.objects.filter(status=OfferStatus.PENDING).exists()
                and not Booking.objects.filter(occurrence=session, status="held").exists()
            )

    wait_until(settled, timeout=300, step=0.2)
    for thread in list(accepters):
        thread.join(timeout=120)
    stop.set()
    watcher.join(timeout=30)
    state["seconds"] = clock.perf_counter() - started
    return state


def figures(tenant, session) -> dict:
    from django.db.models import Count, Exists, F, OuterRef, Q
    from django_tenants.utils import tenant_context

    from connect_payments.models import BookingPayment
    from scheduling.models import ACTIVE_STATUSES, Booking, BookingEvent
    from waitlists.models import FreedPlace, WaitlistOffer

    with tenant_context(tenant):
        delays: list[float] = []
        for place in FreedPlace.objects.filter(occurrence=session).exclude(
            source_key__startswith="hand"
        ):
            booking_id, event_id = (int(part) for part in place.source_key.split("-")[1::2])
            freed_at = BookingEvent.objects.get(pk=event_id).created_at
            first = place.offers.order_by("created_at").first()
            if first is not None:
                delays.append((first.created_at - freed_at).total_seconds() * 1000)
        offers = list(
            WaitlistOffer.objects.order_by("created_at").values_list("created_at", flat=True)
        )
        freed = BookingEvent.objects.filter(
            booking__occurrence=session, action="creneau.booking.cancelled"
        ).order_by("created_at")
        span = (offers[-1] - freed.first().created_at).total_seconds() if offers else 0
        active = Booking.objects.filter(occurrence=session, status__in=ACTIVE_STATUSES)
        over_capacity = max(0, active.count() - SEATS)
        twice = active.values("customer").annotate(n=Count("pk")).filter(n__gt=1).count()
        # Paid and not refunded, for a booking that never got its place (never confirmed).
        confirmed = BookingEvent.objects.filter(booking=OuterRef("booking"), to_status="confirmed")
        charged_without_booking = (
            BookingPayment.objects.filter(paid_minor__gt=0, refunded_minor__lt=F("paid_minor"))
            .exclude(Exists(confirmed))
            .count()
        )
        places_twice = (
            FreedPlace.objects.annotate(taken=Count("offers", filter=Q(offers__status="accepted")))
            .filter(taken__gt=1)
            .count()
        )
        from outbox.models import OutboxMessage

        opened = OutboxMessage.objects.filter(
            task_name="waitlists.tasks.open_freed_place", done_at__isnull=False,
            dispatched_at__isnull=False, schema_name=tenant.schema_name,
        )  # fmt: skip
        handed = [(m.dispatched_at - m.created_at).total_seconds() * 1000 for m in opened]
        ran = [(m.done_at - m.dispatched_at).total_seconds() * 1000 for m in opened]
        return {
            "handed": handed, "ran": ran,
            "delays": delays, "offers": len(offers), "span": span,
            "places": len(delays),
            "double_bookings": over_capacity + twice + places_twice,
            "charged_without_booking": charged_without_booking,
            "active": active.count(), "cancellations": freed.count(),
        }  # fmt: skip


def main() -> None:
    with run_database() as run_url:
        setup_django(run_url)
        import logging

        logging.disable(logging.INFO)  # the figures, not a log line per request
        from django.conf import settings
        from django_tenants.utils import tenant_context

        from connect_payments.models import ConnectedAccount
        from stripe_local.server import serve_in_thread
        from stripe_local.testing import make_client, onboarded_account
        from waitlists.models import WaitlistSettings
        from waitlists.services.entries import entry_join

        stripe_base, stop_stripe = serve_in_thread()
        settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = stripe_base, SECRET_KEY
        settings.STRIPE_PUBLISHABLE_KEY = "pk_test_CreneauWaitlistBench000000001"
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        sdk = make_client(stripe_base, api_key=SECRET_KEY)
        try:
            tenant = provision_bench_tenant(SLUG)
            ConnectedAccount.objects.create(
                tenant=tenant, account_id=onboarded_account(sdk, stripe_base),
                charges_enabled=True, payouts_enabled=True, details_submitted=True,
            )  # fmt: skip
            with celery_worker(run_url, stripe_base):
                print("building the classes (every seat paid through local Stripe) ...",
                      flush=True)  # fmt: skip
                _, empty_session = build_class(tenant, "Baseline", sdk)
                service, session = build_class(tenant, "Yoga", sdk)
                with tenant_context(tenant):
                    WaitlistSettings.objects.update_or_create(
                        pk=1, defaults={"offers_at_once": OFFERS_AT_ONCE}
                    )
                    for n in range(WAITING):
                        entry_join(service=service, name=f"Waiting {n}",
                                   email=f"wait{n}@bench.test", occurrence=session)  # fmt: skip
                print("baseline: an outbox task that does next to nothing ...", flush=True)
                round_trip = baseline_round_trip(tenant)
                print(f"burst: {CANCELLATIONS} cancellations, {WAITING} waiting, "
                      f"{OFFERS_AT_ONCE} offers at once ...", flush=True)  # fmt: skip
                result = burst(tenant, session, sdk)
                numbers = figures(tenant, session)
                # After the burst, warm: ten each, alternating, with and without a waitlist.
                alone: list[float] = []
                with_waiting: list[float] = []
                for _ in range(10):
                    alone += cancellation_times(tenant, empty_session, 1)
                    with_waiting += cancellation_times(tenant, session, 1)
        finally:
            stop_stripe()
    delays = numbers["delays"] or [0.0]
    round_trip = round_trip or [0.0]
    print()
    print(f"errors (must be 0)                             {len(result['errors'])}")
    for error in result["errors"][:5]:
        print("   ", error)
    print(f"cancellations                                  {numbers['cancellations']}")
    print(f"freed seats offered                            {numbers['places']}")
    print(f"offers sent                                    {numbers['offers']}")
    print(f"booked from the waitlist (paid)                {result['booked']}")
    print(f"lost races (told kindly)                       {result['lost']}")
    print(
        f"cancellation → first offer, p50 / p95 / max    {statistics.median(delays):.0f} / "
        f"{percentile(delays, 0.95):.0f} / {max(delays):.0f} ms"
    )
    handed, ran = numbers["handed"] or [0.0], numbers["ran"] or [0.0]
    print(
        f"  of which: row written → handed to the broker {statistics.median(handed):.0f} / "
        f"{percentile(handed, 0.95):.0f} ms; handed → done (queue + run) "
        f"{statistics.median(ran):.0f} / {percentile(ran, 0.95):.0f} ms"
    )
    print(
        f"  baseline: outbox heartbeat task, commit → done "
        f"{statistics.median(round_trip):.0f} / {percentile(round_trip, 0.95):.0f} / "
        f"{max(round_trip):.0f} ms"
    )
    rate = numbers["offers"] / numbers["span"] if numbers["span"] else 0
    print(f"offers per second (first cancellation → last offer)  {rate:.1f}")
    print(f"a cancellation's own time, nobody waiting, p50  {statistics.median(alone):.1f} ms")
    print(
        f"a cancellation's own time, {WAITING} waiting, p50  "
        f"{statistics.median(with_waiting):.1f} ms"
    )
    print(f"wall time of the burst                         {result['seconds']:.1f} s")
    print(f"double bookings (must be 0)                    {numbers['double_bookings']}")
    print(f"charges without a booking (must be 0)          {numbers['charged_without_booking']}")
    if numbers["double_bookings"] or numbers["charged_without_booking"] or result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
