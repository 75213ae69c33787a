"""Memberships under load: 1,000 members renewing on one Stripe test clock, their events sent to
POST /stripe/webhook/ of a real server and processed by a real Celery worker; and the widget's
"can I use a credit?" check on a customer with 500 ledger entries.

Run from the repository root: `.venv/bin/python bench/credits.py` (needs PostgreSQL and Redis).
It makes its own database (bench_server.py), a tenant with an onboarded connected account in a
local Stripe started in this process and a monthly offer of 8 credits. Each member joins like the
widget does (membership_join, then the first invoice's PaymentIntent confirmed with a test card,
then the join's return path re-reads Stripe: 1 paid period). Then the clock moves past the period
end: local Stripe renews every subscription (no webhook endpoint is registered, so nothing is
delivered); the events recorded by the renewal are signed with the bench's secret and sent by 8
concurrent senders with 30 % duplicates, shuffled.

Prints:
- renewal events accepted per second, beside a trivial baseline sent the same way in the same
  run: as many signed events of a type nobody handles (stored once, no task);
- processing lag p50/p95: from an `invoice.paid` event's receipt to its period's row (credits
  granted), and processed events per second (first receipt to last period);
- members with a wrong balance (must be 0): not exactly 2 paid periods and 2 grants of 8 credits
  with 8 left, or a grant whose `remaining` differs from the sum of its entries;
- the credit check (`ports.credits().offer_for`, what GET /my/credit-offer/ asks) p50/p95 on a
  customer with 500 ledger entries over 21 grants, beside a primary-key lookup of the customer.
BENCH_MEMBERS, BENCH_SENDERS and BENCH_RUNS change the load.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

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

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000"))
SENDERS = int(os.environ.get("BENCH_SENDERS", "8"))
RUNS = int(os.environ.get("BENCH_RUNS", "200"))
DUPLICATE_SHARE = 0.30
SLUG = "benchcredits"
SECRET = "whsec_bench_credits_00000000000000000"
CREDITS = 8


def join_members(count: int, sdk, offer, clock: str) -> list:
    from memberships.services.memberships import membership_join, membership_join_returned
    from scheduling.services.customers import customer_upsert

    joined = []
    started = time.perf_counter()
    for n in range(count):
        customer = customer_upsert(name=f"Member {n}", email=f"member{n}@bench.test")
        membership = membership_join(offer=offer, customer=customer, test_clock=clock)
        sdk.v1.payment_intents.confirm(
            membership.client_secret.split("_secret_")[0],
            params={"payment_method": "pm_card_visa"},
        )
        joined.append(membership_join_returned(membership=membership))
        if (n + 1) % 200 == 0:
            print(f"  {n + 1} members joined ({time.perf_counter() - started:.0f} s)", flush=True)
    return joined


def events_since(base_url: str, known: set[str]) -> list[str]:
    """The events local Stripe recorded that are not in `known`, as JSON bodies."""
    bodies, after = [], None
    while True:
        query = "limit=100" + (f"&starting_after={after}" if after else "")
        request = urllib.request.Request(
            f"{base_url}/v1/events?{query}", headers={"Authorization": "Bearer sk_test_bench"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.loads(response.read())
        bodies += [json.dumps(e) for e in page["data"] if e["id"] not in known]
        if not page["has_more"]:
            return bodies
        after = page["data"][-1]["id"]


def event_ids(base_url: str) -> set[str]:
    return {json.loads(body)["id"] for body in events_since(base_url, set())}


def send_all(server: str, bodies: list[str]) -> tuple[Counter, float]:
    return webhook_bench.send_all(server, bodies, secret=SECRET, senders=SENDERS, timeout=60)


def baseline_bodies(count: int) -> list[str]:
    """Signed events of a type no app handles: the inbox verifies and stores them, no task."""
    now = int(time.time())
    return [
        json.dumps(
            {
                "id": f"evt_benchnoop{n:06d}",
                "object": "event",
                "type": "bench.noop",
                "created": now,
                "data": {"object": {"id": f"noop_{n}"}},
            }
        )  # fmt: skip
        for n in range(count)
    ]


def wrong_balances(memberships: list) -> int:
    from memberships.models import CreditGrant, CreditSourceKind, MembershipPeriod
    from memberships.selectors.credits import ledger_mismatches

    wrong = 0
    for membership in memberships:
        grants = list(
            CreditGrant.objects.filter(
                source_kind=CreditSourceKind.MEMBERSHIP, source_id=str(membership.pk)
            )
        )
        periods = MembershipPeriod.objects.filter(membership=membership).count()
        if (
            periods != 2
            or len(grants) != 2
            or any(g.credits_total != CREDITS or g.remaining != CREDITS for g in grants)
        ):
            wrong += 1
    return wrong + ledger_mismatches()


def credit_check(service, runs: int) -> None:
    """p50/p95 of the widget's question on a customer with 500 entries, beside a PK lookup."""
    from memberships.models import CreditEntry
    from memberships.services.credits import credit_adjust, credit_grant
    from scheduling import ports
    from scheduling.actors import SYSTEM
    from scheduling.models import Customer
    from scheduling.services.customers import customer_upsert

    customer = customer_upsert(name="Regular", email="regular@bench.test")
    now = datetime.now(UTC)
    grants = []
    for month in range(21):  # 20 past periods (expired) and the current one
        start = now - timedelta(days=30 * (20 - month))
        grant = credit_grant(
            customer=customer, source_kind="membership", source_id="bench-regular",
            credits=CREDITS, expires_at=start + timedelta(days=30), valid_from=start,
            service_ids=[service.pk], idempotency_key=f"bench-regular-{month}",
        )  # fmt: skip
        grants.append(grant)
    entries = CreditEntry.objects.filter(customer=customer).count()
    step = 0
    while entries < 500:
        grant = grants[step % len(grants)]
        delta = -1 if step % 2 == 0 else 1
        credit_adjust(customer=customer, grant=grant, delta=delta, reason="bench",
                      actor=SYSTEM)  # fmt: skip
        entries += 1
        step += 1
    starts_at = now + timedelta(days=2)
    credits = ports.credits()
    check, baseline = [], []
    for _ in range(10):
        credits.offer_for(customer=customer, service=service, starts_at=starts_at)
    for _ in range(runs):
        t0 = time.perf_counter()
        offer = credits.offer_for(customer=customer, service=service, starts_at=starts_at)
        check.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        Customer.objects.filter(pk=customer.pk).first()
        baseline.append(time.perf_counter() - t0)
    assert offer is not None and offer.remaining == CREDITS
    print(
        f"credit check ({entries} ledger entries, {len(grants)} grants): p50 "
        f"{statistics.median(check) * 1000:.1f} ms, p95 {percentile(check, 0.95) * 1000:.1f} ms"
        f" | baseline customer lookup: p50 {statistics.median(baseline) * 1000:.2f} ms, p95 "
        f"{percentile(baseline, 0.95) * 1000:.2f} ms ({runs} runs)"
    )


def main() -> None:
    from stripe_local.server import serve_in_thread

    os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    stripe_url, stop_stripe = serve_in_thread()
    os.environ.update(
        STRIPE_API_BASE=stripe_url,
        STRIPE_SECRET_KEY="sk_test_CreneauBenchCredits0000000001",
        STRIPE_PUBLISHABLE_KEY="pk_test_CreneauBenchCredits0000000001",
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_MAX_NETWORK_RETRIES="0",
    )
    with bench_database("creneau_bench_credits") as database_url:
        setup_django(database_url)
        from django_tenants.utils import tenant_context

        from connect_payments.models import ConnectedAccount, StripeEvent
        from connect_payments.services.accounts import connected_account_refresh
        from memberships.models import Membership, MembershipPeriod
        from memberships.services.memberships import (
            OfferTerms,
            membership_offer_create,
            membership_offer_publish,
        )
        from scheduling.models import Service
        from stripe_local.testing import make_client, onboarded_account

        sdk = make_client(stripe_url, api_key=os.environ["STRIPE_SECRET_KEY"])
        tenant = provision_bench_tenant(SLUG)
        account_id = onboarded_account(sdk, stripe_url)
        ConnectedAccount.objects.create(tenant=tenant, account_id=account_id)
        connected_account_refresh(account_id=account_id)
        clock = sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
        with tenant_context(tenant):
            service = Service.objects.create(name="Yoga", duration_minutes=60, price_minor=2000)
            offer = membership_offer_publish(
                offer=membership_offer_create(
                    terms=OfferTerms("Monthly 8", 6000, "EUR", "month", CREDITS),
                    service_ids=[service.pk],
                )
            )
            print(f"joining {MEMBERS} members ...", flush=True)
            memberships = join_members(MEMBERS, sdk, offer, clock.id)
            period_end = (
                Membership.objects.order_by("current_period_end").first().current_period_end
            )
        known = event_ids(stripe_url)
        started = time.perf_counter()
        sdk.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": int(period_end.timestamp()) + 7200}
        )
        print(f"test clock advanced: {MEMBERS} renewals in {time.perf_counter() - started:.1f} s")
        unique = events_since(stripe_url, known)
        bodies = unique + random.choices(unique, k=round(len(unique) * DUPLICATE_SHARE))
        random.shuffle(bodies)
        noop = baseline_bodies(len(bodies))
        print(f"sending {len(bodies)} renewal events ({len(bodies) - len(unique)} duplicates) and "
              f"{len(noop)} baseline events with {SENDERS} senders", flush=True)  # fmt: skip

        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "saas_platform", "worker", "-l", "WARNING", "-c", "4"],
            cwd=ROOT,
            env=server_env(database_url),
        )
        try:
            with running_server(database_url, workers=2, threads=4) as server:
                base_codes, base_seconds = send_all(server, noop)
                codes, seconds = send_all(server, bodies)
                deadline = time.monotonic() + 600
                while (
                    time.monotonic() < deadline
                    and StripeEvent.objects.filter(outcome__in=("received", "failed")).exists()
                ):
                    time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        print(f"baseline (unhandled type): {dict(base_codes)}; accepted "
              f"{len(noop) / base_seconds:.0f} events/s")  # fmt: skip
        print(f"renewal events: {dict(codes)}; accepted {len(bodies) / seconds:.0f} events/s")

        received = {
            event.payload["data"]["object"]["id"]: event.received_at
            for event in StripeEvent.objects.filter(type="invoice.paid")
        }
        with tenant_context(tenant):
            renewals = list(MembershipPeriod.objects.filter(billing_reason="subscription_cycle"))
            lags = [
                (period.paid_at - received[period.invoice_id]).total_seconds()
                for period in renewals
                if period.invoice_id in received
            ]
            if renewals and received:
                first = min(received.values())
                last = max(period.paid_at for period in renewals)
                processed = StripeEvent.objects.exclude(type="bench.noop").count()
                span = max((last - first).total_seconds(), 1e-3)
                print(f"processed {processed} stored renewal events in {span:.1f} s "
                      f"({processed / span:.0f} events/s)")  # fmt: skip
            if lags:
                print(
                    f"processing lag (invoice.paid received → credits granted): p50 "
                    f"{statistics.median(lags) * 1000:.0f} ms, p95 "
                    f"{percentile(lags, 0.95) * 1000:.0f} ms ({len(lags)} renewals)"
                )
            print(f"members with a wrong balance: {wrong_balances(memberships)}")
            failed = StripeEvent.objects.filter(outcome="failed").count()
            print(f"events whose processing failed: {failed}")
            credit_check(service, RUNS)
    stop_stripe()


if __name__ == "__main__":
    main()
