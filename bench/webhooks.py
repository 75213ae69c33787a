"""Webhooks under load: 2,000 signed Stripe events (30 % duplicates, shuffled) sent by 8 concurrent
senders to POST /stripe/webhook/ of a real server, processed by a real Celery worker.

Run from the repository root: `.venv/bin/python bench/webhooks.py` (needs PostgreSQL and Redis).
It makes its own database (see bench_server.py), a tenant with an onboarded connected account in a
local Stripe started in this process, and holds with PaymentIntents; about two thirds are paid
(pm_card_visa), the rest declined. The events local Stripe recorded for them (no webhook endpoint
is registered, so none was delivered) are signed with the bench's secret and sent.

Prints: events accepted per second, processing lag (p50/p95, from the event's receipt to the
booking's confirmation), and the number of bookings whose final state is wrong (must be 0: paid →
confirmed once, declined → still held). BENCH_EVENTS and BENCH_SENDERS change the load.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

from bench_server import (
    PYTHON,
    ROOT,
    bench_database,
    percentile,
    provision_bench_tenant,
    running_server,
    server_env,
    setup_django,
)

EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
SENDERS = int(os.environ.get("BENCH_SENDERS", "8"))
DUPLICATE_SHARE = 0.30
SLUG = "benchhooks"
SECRET = "whsec_bench_webhooks_0000000000000000"
ZONE = ZoneInfo("Europe/Paris")


def make_bookings(count: int, sdk) -> tuple[list[str], list[str]]:
    """`count` holds with PaymentIntents; returns (paid references, declined references)."""
    import stripe
    from django.db import IntegrityError

    from connect_payments.services.booking_payments import booking_payment_start
    from scheduling.models import SchedulingSettings, Service, StaffMember, WorkingHours
    from scheduling.services.bookings import booking_hold
    from scheduling.services.customers import customer_upsert

    SchedulingSettings.objects.update_or_create(pk=1, defaults={"hold_minutes": 60})
    staff = [StaffMember.objects.create(display_name=f"Staff {n}") for n in range(10)]
    for member in staff:
        for weekday in range(7):
            WorkingHours.objects.create(
                staff=member, weekday=weekday, start=wall_time(8), end=wall_time(20)
            )
    service = Service.objects.create(
        name="Bench session",
        duration_minutes=30,
        slot_interval_minutes=30,
        price_minor=4500,
        payment_mode="online_full",
        minimum_notice_minutes=60,
        maximum_advance_days=60,
    )
    service.staff.add(*staff)
    first_day = (datetime.now(ZONE) + timedelta(days=3)).date()
    starts = [
        datetime.combine(first_day + timedelta(days=day), wall_time(8), ZONE)
        + timedelta(minutes=30 * slot)
        for day in range(10)
        for slot in range(24)
    ]
    paid, declined = [], []
    for index in range(count):
        customer = customer_upsert(name=f"Customer {index}", email=f"c{index}@bench.test")
        for _attempt in range(5):
            try:
                booking = booking_hold(
                    service=service,
                    starts_at=starts[index // len(staff)],
                    customer=customer,
                    staff_id=staff[index % len(staff)].pk,
                )
                break
            except IntegrityError:  # scheduling drew a 4-character reference twice: again
                continue
        payment = booking_payment_start(booking=booking)
        card = "pm_card_visa" if index % 3 else "pm_card_chargeDeclined"
        try:
            sdk.v1.payment_intents.confirm(
                payment.payment_intent_id, params={"payment_method": card}
            )
            paid.append(booking.reference)
        except stripe.CardError:
            declined.append(booking.reference)
    return paid, declined


def recorded_events(base_url: str) -> list[str]:
    """Every event local Stripe recorded, as JSON bodies (newest first, all pages)."""
    bodies, after = [], None
    while True:
        query = "limit=100" + (f"&starting_after={after}" if after else "")
        request = urllib.request.Request(
            f"{base_url}/v1/events?{query}", headers={"Authorization": "Bearer sk_test_bench"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            page = json.loads(response.read())
        bodies += [json.dumps(event) for event in page["data"]]
        if not page["has_more"]:
            return bodies
        after = page["data"][-1]["id"]


def send_all(
    server: str,
    bodies: list[str],
    *,
    secret: str = SECRET,
    senders: int = SENDERS,
    timeout: float = 30,
) -> tuple[Counter, float]:
    """POST each body, signed with `secret`, to /stripe/webhook/ from `senders` threads: the
    answers' status codes and the seconds it took (also used by bench/billing.py, credits.py)."""
    from stripe_local.app.webhooks import sign

    queue = list(bodies)
    lock = threading.Lock()
    codes: Counter = Counter()

    def sender() -> None:
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            request = urllib.request.Request(
                f"{server}/stripe/webhook/",
                data=body.encode(),
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Host": "localhost",
                    "Stripe-Signature": sign(body, secret),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            with lock:
                codes[status] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes, time.perf_counter() - started


def main() -> None:
    from stripe_local.server import serve_in_thread

    # Its own Redis database for the task queue, apart from other benches' (bench_server: 13).
    os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    stripe_url, stop_stripe = serve_in_thread()
    os.environ.update(
        STRIPE_API_BASE=stripe_url,
        STRIPE_SECRET_KEY="sk_test_CreneauBenchWebhooks000000001",
        STRIPE_PUBLISHABLE_KEY="pk_test_CreneauBenchWebhooks000000001",
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_MAX_NETWORK_RETRIES="0",
    )
    with bench_database("creneau_bench_webhooks") as database_url:
        setup_django(database_url)
        from django_tenants.utils import tenant_context

        from connect_payments.models import ConnectedAccount, StripeEvent
        from connect_payments.services.accounts import connected_account_refresh
        from scheduling.models import Booking, BookingEvent
        from stripe_local.testing import make_client, onboarded_account

        sdk = make_client(stripe_url, api_key=os.environ["STRIPE_SECRET_KEY"])
        tenant = provision_bench_tenant(SLUG)
        account_id = onboarded_account(sdk, stripe_url)
        ConnectedAccount.objects.create(tenant=tenant, account_id=account_id)
        connected_account_refresh(account_id=account_id)
        unique_wanted = round(EVENTS * (1 - DUPLICATE_SHARE))
        # A paid hold records 5 events, a declined one 3: about 4.3 per hold.
        with tenant_context(tenant):
            paid, declined = make_bookings(max(10, round(unique_wanted / 4.3)), sdk)
        # Every recorded event is sent (a paid booking whose success event were left out would
        # rightly stay held); duplicates fill up to EVENTS.
        unique = recorded_events(stripe_url)
        bodies = unique + random.choices(unique, k=max(0, EVENTS - len(unique)))
        random.shuffle(bodies)
        print(
            f"{len(paid)} paid and {len(declined)} declined holds; sending {len(bodies)} "
            f"events ({len(bodies) - len(unique)} duplicates) with {SENDERS} senders",
            flush=True,
        )

        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-l", "WARNING", "-c", "4"],
            cwd=ROOT,
            env=server_env(database_url),
        )
        try:
            with running_server(database_url, workers=2, threads=4) as server:
                codes, seconds = send_all(server, bodies)
                print(
                    f"answers: {dict(codes)}; accepted {sum(codes.values()) / seconds:.0f} "
                    f"events/s",
                    flush=True,
                )
                deadline = time.monotonic() + 180
                while (
                    time.monotonic() < deadline
                    and StripeEvent.objects.filter(outcome__in=("received", "failed")).exists()
                ):
                    time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

        received = {}
        for event in StripeEvent.objects.filter(type="payment_intent.succeeded"):
            reference = event.payload["data"]["object"]["metadata"]["booking_reference"]
            received[reference] = event.received_at
        with tenant_context(tenant):
            lags, wrong = [], 0
            for reference in paid:
                booking = Booking.objects.get(reference=reference)
                confirmed = BookingEvent.objects.filter(booking=booking, to_status="confirmed")
                if booking.status != "confirmed" or confirmed.count() != 1:
                    wrong += 1
                elif reference in received:
                    lags.append((confirmed.get().created_at - received[reference]).total_seconds())
            wrong += Booking.objects.filter(reference__in=declined).exclude(status="held").count()
        if lags:
            print(
                f"processing lag: p50 {statistics.median(lags) * 1000:.0f} ms, "
                f"p95 {percentile(lags, 0.95) * 1000:.0f} ms ({len(lags)} confirmations)"
            )
        print(f"stored events: {StripeEvent.objects.count()} (unique sent: {len(set(bodies))})")
        print(f"bookings in a wrong final state: {wrong}")
    stop_stripe()


if __name__ == "__main__":
    main()
