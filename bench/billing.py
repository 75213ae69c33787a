"""Platform billing at 1,000 businesses: a full `reconcile_billing`, the console's revenue page,
and 5,000 signed billing events (30 % duplicates, shuffled) through POST /stripe/webhook/.

Run from the repository root: `nice .venv/bin/python bench/billing.py` (needs PostgreSQL and
Redis; makes its own database as the other benches, see bench_server.py, and starts a local
Stripe in this process). BENCH_TENANTS (1000), BENCH_EVENTS (5000), BENCH_SENDERS (8) and
BENCH_WORKER_CONCURRENCY (2) change the load.

1. Provisions BENCH_TENANTS businesses, each with its trial (customer and subscription in local
   Stripe, stored as billing does at signup; a fifth of them subscribe with a card, so the revenue
   page has paying subscriptions and paid invoices).
2. Changes four fifths of the subscriptions in Stripe only, as the portal or an operator would
   (upgrade to Studio yearly, cancel at the period end, cancel now, move to Pro): the local rows
   are now stale, and only the webhooks can tell them.
3. Sends the billing events local Stripe recorded (signed with the endpoint's secret; no endpoint
   was registered, so none was delivered) plus duplicates up to BENCH_EVENTS, shuffled, with
   BENCH_SENDERS concurrent senders, to a real server (gunicorn), processed by a real Celery
   worker. Prints events accepted per second, events processed per second, the processing lag
   (receipt → processed, p50 and p95: it includes the time an event waits in the queue while
   the worker works through those sent before it), and the businesses whose local status,
   plan, interval, seats or cancel-at-period-end differ from Stripe's afterwards (must be 0).
4. Times a full reconciliation (every subscription re-read from Stripe and compared) beside a
   trivial baseline in the same run: the same number of bare `subscriptions.retrieve` calls.
   Its repairs must be 0 (the webhooks left nothing to repair).
5. Times the console's revenue page (operator, Django's test client in this process) beside the
   landing page.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import time
from collections import Counter

import webhooks as webhook_bench
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

TENANTS = int(os.environ.get("BENCH_TENANTS", "1000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
CONCURRENCY = os.environ.get("BENCH_WORKER_CONCURRENCY", "2")
DUPLICATE_SHARE = 0.30
PAGE_REQUESTS = 20


def _seconds(started: float) -> float:
    return time.perf_counter() - started


def provision_with_trials(sdk) -> list:
    """BENCH_TENANTS businesses on their trial; every fifth subscribes with a card."""
    from billing.subscriptions import subscription_apply, trial_start

    tenants, started = [], time.perf_counter()
    for index in range(TENANTS):
        tenant = provision_bench_tenant(f"bill{index}")
        row = trial_start(tenant=tenant)
        if index % 5 == 0:
            card = sdk.v1.payment_methods.attach(
                "pm_card_visa", {"customer": row.stripe_customer_id}
            )
            sdk.v1.customers.update(
                row.stripe_customer_id, {"invoice_settings": {"default_payment_method": card.id}}
            )
            subscribed = sdk.v1.subscriptions.update(
                row.stripe_subscription_id, {"trial_end": "now", "proration_behavior": "none"}
            )
            subscription_apply(tenant=tenant, data=subscribed)
        tenants.append(tenant)
        if (index + 1) % 100 == 0:
            print(f"  {index + 1} businesses ({_seconds(started):.0f} s)", flush=True)
    return tenants


def change_in_stripe_only(sdk, tenants: list) -> Counter:
    """What the portal or an operator does, without telling the local rows."""
    from billing.catalogue import price_for
    from billing.models import Plan, TenantSubscription

    studio, pro = Plan.objects.get(code="studio"), Plan.objects.get(code="pro")
    studio_yearly, pro_monthly = price_for(studio, "year"), price_for(pro, "month")
    assert studio_yearly is not None and pro_monthly is not None
    done: Counter = Counter()
    rows = TenantSubscription.objects.filter(tenant__in=tenants).order_by("tenant_id")
    for index, row in enumerate(rows):
        sub_id = row.stripe_subscription_id
        kind = index % 5
        if kind in (1, 4):
            sub = sdk.v1.subscriptions.retrieve(sub_id)
            price = studio_yearly if kind == 1 else pro_monthly
            sdk.v1.subscriptions.update(sub_id, {
                "items": [{"id": sub["items"]["data"][0]["id"], "price": price.id}],
                "proration_behavior": "none",
            })  # fmt: skip
            done["moved to Studio yearly" if kind == 1 else "moved to Pro monthly"] += 1
        elif kind == 2:
            sdk.v1.subscriptions.update(sub_id, {"cancel_at_period_end": True})
            done["cancel at period end"] += 1
        elif kind == 3:
            sdk.v1.subscriptions.cancel(sub_id)
            done["cancelled now"] += 1
    return done


def mismatches(sdk) -> int:
    """Businesses whose local subscription state differs from what Stripe says now."""
    from billing.models import TenantSubscription
    from billing.seats import is_seat_item, seat_quantity_of

    wrong = 0
    for row in TenantSubscription.objects.select_related("plan").exclude(stripe_subscription_id=""):
        sub = sdk.v1.subscriptions.retrieve(row.stripe_subscription_id)
        base = next(item for item in sub["items"]["data"] if not is_seat_item(item))
        truth = (sub["status"], base["price"]["metadata"]["plan_code"],
                 base["price"]["recurring"]["interval"], seat_quantity_of(sub),
                 bool(sub["cancel_at_period_end"]))  # fmt: skip
        local = (row.status, row.plan.code if row.plan else None, row.interval,
                 row.extra_seats, row.cancel_at_period_end)  # fmt: skip
        wrong += truth != local
    return wrong


def billing_bodies(stripe_url: str) -> tuple[list[str], int]:
    """The billing events local Stripe recorded, plus duplicates up to EVENTS, shuffled."""
    from billing.webhooks import CUSTOMER_EVENTS, INVOICE_EVENTS, SUBSCRIPTION_EVENTS

    wanted = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | CUSTOMER_EVENTS
    unique = [
        b for b in webhook_bench.recorded_events(stripe_url) if json.loads(b)["type"] in wanted
    ]
    unique_share = round(EVENTS * (1 - DUPLICATE_SHARE))
    if len(unique) > unique_share:
        # Keep each subscription's newest event (the one that tells its final state), then as
        # many of the others as the share of unique events allows.
        newest: dict[str, str] = {}
        for body in reversed(unique):  # oldest first: the newest one wins
            obj = json.loads(body)["data"]["object"]
            newest[str(obj.get("customer") or obj.get("id"))] = body
        kept = list(newest.values())
        others = [b for b in unique if b not in set(kept)]
        unique = kept + random.sample(others, max(0, unique_share - len(kept)))
    bodies = unique + random.choices(unique, k=max(0, EVENTS - len(unique)))
    random.shuffle(bodies)
    return bodies, len(unique)


def operator_client():
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tenants.middleware import SESSION_SCHEMA_KEY
    from tenants.models import User

    operator = User.objects.create_user(
        email="operator@billing.bench.test", full_name="Operator", password="bench-pass-123"
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
    return console


def page_times(client, path: str) -> list[float]:
    timings = []
    for _ in range(PAGE_REQUESTS + 2):
        started = time.perf_counter()
        response = client.get(path)
        timings.append(_seconds(started))
        assert response.status_code == 200, (path, response.status_code)
    return timings[2:]  # the first two warm caches up


def main() -> None:
    from stripe_local.server import serve_in_thread

    os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    stripe_url, stop_stripe = serve_in_thread()
    os.environ.update(
        STRIPE_API_BASE=stripe_url,
        STRIPE_SECRET_KEY="sk_test_CreneauBenchBilling0000000001",
        STRIPE_PUBLISHABLE_KEY="pk_test_CreneauBenchBilling0000000001",
        STRIPE_WEBHOOK_SECRET=webhook_bench.SECRET,
        STRIPE_MAX_NETWORK_RETRIES="0",
        # This script makes each trial itself (no worker runs while it provisions).
        BILLING_TRIAL_AT_SIGNUP="false",
    )
    with bench_database("creneau_bench_billing") as database_url:
        setup_django(database_url)
        from django.core.management import call_command

        from billing.gateway import billing_stripe_client
        from billing.models import TenantSubscription
        from billing.reconcile import billing_reconcile
        from connect_payments.models import StripeEvent
        from stripe_local.testing import make_client

        sdk = make_client(stripe_url, api_key=os.environ["STRIPE_SECRET_KEY"])
        call_command("billing_sync_plans", stdout=open(os.devnull, "w"))
        started = time.perf_counter()
        tenants = provision_with_trials(sdk)
        print(f"{len(tenants)} businesses with trials in {_seconds(started):.0f} s", flush=True)
        print(f"changed in Stripe only: {dict(change_in_stripe_only(sdk, tenants))}", flush=True)
        print(f"stale before the webhooks: {mismatches(sdk)} businesses", flush=True)

        bodies, unique = billing_bodies(stripe_url)
        print(f"sending {len(bodies)} billing events ({len(bodies) - unique} duplicates) with "
              f"{webhook_bench.SENDERS} senders", flush=True)  # fmt: skip
        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-l", "WARNING",
             "-c", CONCURRENCY],
            cwd=ROOT, env=server_env(database_url),
        )  # fmt: skip
        try:
            with running_server(database_url, workers=2, threads=4) as server:
                codes, seconds = webhook_bench.send_all(server, bodies)
                print(f"answers: {dict(codes)}; accepted {sum(codes.values()) / seconds:.0f} "
                      f"events/s", flush=True)  # fmt: skip
                deadline = time.monotonic() + 600
                pending = StripeEvent.objects.filter(outcome__in=("received", "failed"))
                while time.monotonic() < deadline and pending.exists():
                    time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        processed = StripeEvent.objects.exclude(processed_at=None)
        lags = [(e.processed_at - e.received_at).total_seconds()
                for e in processed.only("received_at", "processed_at")]  # fmt: skip
        print(f"stored events: {StripeEvent.objects.count()} (unique sent: {unique}); "
              f"failed or unprocessed: {pending.count()}")  # fmt: skip
        if lags:
            first = min(e.received_at for e in processed.only("received_at"))
            last = max(e.processed_at for e in processed.only("processed_at"))
            span = (last - first).total_seconds()
            print(f"processed {len(lags)} events in {span:.0f} s: {len(lags) / span:.1f} "
                  f"events/s with {CONCURRENCY} worker processes")  # fmt: skip
            print(f"processing lag (receipt → processed, the queue included): p50 "
                  f"{statistics.median(lags) * 1000:.0f} ms, "
                  f"p95 {percentile(lags, 0.95) * 1000:.0f} ms")  # fmt: skip
        print(f"businesses whose final state differs from Stripe's: {mismatches(sdk)}", flush=True)

        client = billing_stripe_client()
        ids = list(TenantSubscription.objects.exclude(stripe_subscription_id="")
                   .values_list("stripe_subscription_id", flat=True))  # fmt: skip
        started = time.perf_counter()
        for sub_id in ids:
            client.v1.subscriptions.retrieve(sub_id)
        baseline = _seconds(started)
        started = time.perf_counter()
        report = billing_reconcile(client=client)
        reconcile = _seconds(started)
        print(f"baseline: {len(ids)} bare subscriptions.retrieve {baseline:.1f} s")
        print(f"reconcile_billing: {report.checked} subscriptions in {reconcile:.1f} s "
              f"({reconcile / max(1, report.checked) * 1000:.1f} ms each); repairs "
              f"{len(report.repairs)}, failures {len(report.failures)}", flush=True)  # fmt: skip

        console = operator_client()
        landing = page_times(console, "/")
        revenue = page_times(console, "/console/revenue/")
        print(f"baseline: landing page p50 {statistics.median(landing) * 1000:.1f} ms, "
              f"p95 {percentile(landing, 0.95) * 1000:.1f} ms")  # fmt: skip
        print(f"revenue page at {len(tenants)} businesses: p50 "
              f"{statistics.median(revenue) * 1000:.1f} ms, p95 "
              f"{percentile(revenue, 0.95) * 1000:.1f} ms", flush=True)  # fmt: skip
    stop_stripe()


if __name__ == "__main__":
    main()
