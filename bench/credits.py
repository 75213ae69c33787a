"""The widget's "can I use a credit?" check (issue #14) on a customer with 500 ledger entries:
`memberships.selectors.credits.usable_grant_for`, as the booking page's credit offer calls it,
beside a trivial query (the customer's row by primary key) timed in the same run.

    .venv/bin/python bench/credits.py [--entries 500] [--runs 300]

The customer holds a 10-class pass and an unlimited membership with a weekly cap (the slow
path: the cap counts that week's credits in use over the ledger); the entries are real holds
and returns through booking transitions. It works on its own throw-away database (a copy of
`creneau_bench_passes_base`, migrated first) and drops it at the end. Also prints the ledger
check that must read 0: grants whose `remaining` differs from the sum of their entries.

Renewals through the test clock (the other half of bench/credits.py in the issue) belong to
recurring memberships and are not measured here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

import bench_server
from bench_server import bench_database, percentile, provision_bench_tenant, setup_django

bench_server.BASE_DATABASE = "creneau_bench_passes_base"  # not the HTTP benches' base


def build(entries: int):
    from django.utils import timezone

    from memberships.services.credits import credit_grant
    from scheduling.actors import CUSTOMER
    from scheduling.models import Occurrence, Service, StaffMember
    from scheduling.services.bookings import booking_cancel, booking_take_seat
    from scheduling.services.customers import customer_upsert

    coach = StaffMember.objects.create(display_name="Coach")
    service = Service.objects.create(name="Class", duration_minutes=60, price_minor=2000,
                                     capacity=entries, minimum_notice_minutes=0,
                                     payment_mode="online_full")  # fmt: skip
    service.staff.add(coach)
    starts = timezone.now() + timedelta(days=3)
    session = Occurrence.objects.create(
        service=service, staff=coach, starts_at=starts, ends_at=starts + timedelta(hours=1),
        capacity=entries,
    )  # fmt: skip
    customer = customer_upsert(name="Busy Member", email="busy@bench.test")
    credit_grant(customer=customer, source_kind="membership", source_id="m-1", credits=None,
                 cap_per_week=entries, expires_at=starts + timedelta(days=30),
                 service_ids=[service.pk], idempotency_key="membership-1")  # fmt: skip
    credit_grant(customer=customer, source_kind="pass", source_id="p-1", credits=10,
                 expires_at=starts + timedelta(days=60), service_ids=[service.pk],
                 idempotency_key="pass-1")  # fmt: skip
    for _ in range(entries // 2):  # a hold (-1) and its return (+1): two entries each
        booking = booking_take_seat(occurrence=session, customer=customer, use_credit=True)
        booking_cancel(booking=booking, actor=CUSTOMER, by_business=False)
    return customer, service, starts


def timed(call, runs: int) -> list[float]:
    call()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with bench_database("creneau_bench_credits_run") as url:
        setup_django(url)
        from django.db import connection
        from django_tenants.utils import tenant_context

        from memberships.models import CreditEntry
        from memberships.selectors.credits import ledger_mismatches, usable_grant_for
        from scheduling.models import Customer

        tenant = provision_bench_tenant("benchcredits")
        with tenant_context(tenant):
            customer, service, starts = build(args.entries)
            count = CreditEntry.objects.filter(customer=customer).count()
            with connection.cursor() as cursor:  # what autovacuum does after the bulk writes
                cursor.execute("ANALYZE")
            grant = usable_grant_for(customer=customer, service=service, starts_at=starts)
            # Soonest expiry first: the capped membership, whose cap counts the week's entries.
            assert grant is not None and grant.source_kind == "membership"
            check = timed(lambda: usable_grant_for(customer=customer, service=service,
                                                   starts_at=starts), args.runs)  # fmt: skip
            baseline = timed(lambda: Customer.objects.filter(pk=customer.pk).exists(), args.runs)
            mismatches = ledger_mismatches()
        print(f"ledger entries of the customer: {count}")
        for name, samples in (("usable_grant_for", check), ("baseline: customer by pk", baseline)):
            print(f"{name:28s} p50 {statistics.median(samples):6.2f} ms   "
                  f"p95 {percentile(samples, 0.95):6.2f} ms   ({len(samples)} runs)")  # fmt: skip
        print(f"grants with a wrong balance (must be 0): {mismatches}")


if __name__ == "__main__":
    main()
