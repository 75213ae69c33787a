"""The owner dashboard on a busy business (issue #13): a tenant with 50,000 bookings over three
years, 25,000 online payments and 1,250 refunds; the landing page's time and query count beside
a trivial view's (the dashboard's live endpoint: a session, a membership and one query) measured
in the same run, in process through Django's test client (no HTTP server: the figures are the
view's own work).

    .venv/bin/python bench/dashboard.py [--bookings 50000] [--runs 20]

It works on its own throw-away database (bench_server.bench_database) and drops it at the end.
"""

from __future__ import annotations

import argparse
import statistics
import time

import bench_server
from bench_server import bench_database, provision_bench_tenant, setup_django

STAFF, SERVICES, CUSTOMERS = 6, 4, 6000
TRIGGERED = ("scheduling_booking", "connect_payments_bookingpayment",
             "connect_payments_paymentrefund")  # fmt: skip


def fill(bookings: int) -> None:
    """Rows written with generate_series in SQL (seconds, not minutes of ORM saves)."""
    from datetime import time as clock

    from django.db import connection

    from scheduling.models import Service, StaffMember, WorkingHours

    staff = [StaffMember.objects.create(display_name=f"Staff {n}") for n in range(STAFF)]
    for member in staff:
        WorkingHours.objects.bulk_create(
            WorkingHours(staff=member, weekday=day, start=clock(9), end=clock(19))
            for day in range(6)
        )
    services = [
        Service.objects.create(name=f"Service {n}", duration_minutes=45, price_minor=2500 + 500 * n,
                               payment_mode="online_full")
        for n in range(SERVICES)
    ]  # fmt: skip
    staff_ids = [member.pk for member in staff]
    service_ids = [service.pk for service in services]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scheduling_customer (name, email, phone, notes, marketing_consent, "
            "created_at) SELECT 'Customer ' || n, 'c' || n || '@bench.test', '', '', false, now() "
            "FROM generate_series(1, %s) n", [CUSTOMERS],
        )  # fmt: skip
        cursor.execute("SELECT min(id) FROM scheduling_customer")
        first_customer = cursor.fetchone()[0]
        # Booking n: staff n % STAFF, one slot per staff member every 3 years × staff ÷ bookings
        # (190 minutes at 50,000, 47 at 200,000; never overlapping) from three years ago.
        # A bulk import goes around the aggregate triggers and rebuilds after (see docs).
        for table in TRIGGERED:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(
            """
            WITH rows AS (
              SELECT n, (%(staff)s::bigint[])[1 + n %% %(staff_count)s] AS staff_id,
                     (%(services)s::bigint[])[1 + n %% %(service_count)s] AS service_id,
                     %(first_customer)s + (n * 7919) %% %(customers)s AS customer_id,
                     now() - interval '3 years'
                       + (n / %(staff_count)s) * %(spacing)s * interval '1 minute'
                       AS starts_at
                FROM generate_series(0, %(bookings)s - 1) n
            )
            INSERT INTO scheduling_booking (reference, manage_secret, manage_token_legacy_hash,
                service_id, staff_id, customer_id, starts_at, ends_at, occupied, status,
                price_minor, currency, payment_mode, policy_snapshot, source, embedded_on, notes,
                created_at, resource_exclusive)
            SELECT 'B' || n, md5(n::text), '', service_id, staff_id, customer_id, starts_at,
                   starts_at + interval '45 minutes',
                   tstzrange(starts_at, starts_at + interval '45 minutes'),
                   CASE WHEN starts_at > now() THEN 'confirmed'
                        WHEN n %% 23 = 0 THEN 'no_show' WHEN n %% 17 = 0 THEN 'cancelled'
                        ELSE 'completed' END,
                   3000, 'EUR', 'online_full', '[]', 'widget', '', '',
                   starts_at - (n %% 30) * interval '1 day', false
              FROM rows
            """,
            {"staff": staff_ids, "services": service_ids, "staff_count": STAFF,
             "service_count": SERVICES, "first_customer": first_customer,
             "customers": CUSTOMERS, "bookings": bookings,
             "spacing": max(46.0, 3 * 365.25 * 24 * 60 * STAFF / bookings)},
        )  # fmt: skip
        cursor.execute(
            "INSERT INTO scheduling_bookingevent (booking_id, created_at, actor_label, action, "
            "from_status, to_status, reason, data) SELECT id, starts_at - interval '3 hours', "
            "'customer', 'creneau.booking.cancelled', 'confirmed', 'cancelled', '', '{}' "
            "FROM scheduling_booking WHERE status = 'cancelled'"
        )
        cursor.execute(
            """INSERT INTO connect_payments_bookingpayment (booking_id, kind, status, currency,
                 price_minor, discount_minor, amount_minor, fee_minor, balance_due_minor,
                 paid_minor, refunded_minor, fee_refunded_minor, destination_account_id,
                 idempotency_key, client_secret, intent_status, charge_id, last_error,
                 provider_message, created_at, updated_at, paid_at)
               SELECT id, 'full', 'paid', 'EUR', 3000, 0, 3000, 150, 0, 3000, 0, 0, 'acct_bench',
                      'bench-' || id, '', 'succeeded', '', '', '', created_at, created_at,
                      created_at
                 FROM scheduling_booking WHERE id % 2 = 0"""
        )
        cursor.execute(
            """INSERT INTO connect_payments_paymentrefund (payment_id, amount_minor,
                 fee_refunded_minor, status, origin, reason, idempotency_key, actor_label,
                 attempts, last_error, created_at, completed_at)
               SELECT id, 1000, 50, 'succeeded', 'staff', '', 'bench-refund-' || id, '', 1, '',
                      paid_at + interval '5 days', paid_at + interval '5 days'
                 FROM connect_payments_bookingpayment WHERE id % 20 = 0"""
        )
        for table in TRIGGERED:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute("ANALYZE")


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    # Its own migrated base, not the shared one (bench_server.BASE_DATABASE): this branch's
    # migrations (insights' triggers) must not reach other benches' databases before a merge.
    bench_server.BASE_DATABASE = "creneau_bench_insights_base"
    with bench_database("creneau_bench_dashboard") as url:
        setup_django(url)
        from django.conf import settings
        from django.db import connection
        from django_tenants.utils import tenant_context

        settings.ALLOWED_HOSTS = ["*"]
        tenant = provision_bench_tenant("dashbench")
        started = time.perf_counter()
        with tenant_context(tenant):
            fill(args.bookings)
            print(f"filled {args.bookings} bookings in {time.perf_counter() - started:.1f} s")
            from insights.aggregates import rebuild

            started = time.perf_counter()
            rebuild()
            print(
                f"first rebuild of the aggregates: {(time.perf_counter() - started) * 1000:.0f} ms"
            )
            # The freshly filled aggregate tables get their statistics now (in service,
            # autovacuum's analyze does it); without them the planner takes them for empty.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        connection.set_schema_to_public()
        from tests.factories import member_client

        owner = tenant.memberships.get(role="owner").user
        client = member_client(tenant, owner, verified=True)
        print(f"{'page':<42} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for label, path in [
            ("baseline: /dashboard/live/", "/dashboard/live/"),
            ("landing page, this week", "/"),
            ("landing page, this month", "/?period=month"),
            ("landing page, a year, by booked time", "/?period=custom&from=2025-01-01"
             "&to=2025-12-31&basis=booked"),
            ("one CSV (revenue per day, a year)", "/dashboard/revenue-per-day.csv?period=custom"
             "&from=2025-01-01&to=2025-12-31"),
        ]:  # fmt: skip
            p50, p95, queries = measure(client, path, args.runs)
            print(f"{label:<42} {p50:>8.1f} {p95:>8.1f} {queries:>8}")
        for label, query_string in [
            ("this week", ""),
            ("a year, by booked time", "period=custom&from=2025-01-01&to=2025-12-31&basis=booked"),
        ]:
            print(f"each part alone, {label} (p50 ms, p95 ms):")
            per_part(tenant, owner, query_string, args.runs)
        with tenant_context(tenant):
            write_to_figure(args.runs)
            started = time.perf_counter()
            from insights.aggregates import rebuild

            rebuild()
            print(
                f"full rebuild of the aggregates: {(time.perf_counter() - started) * 1000:.0f} ms"
            )
        connection.set_schema_to_public()


def _p50_p95(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[
        min(len(timings) - 1, round(0.95 * (len(timings) - 1)))
    ]


def write_to_figure(runs: int) -> None:
    """A booking for a new customer, committed, then the customer figures read until "new
    customers" counts it: the aggregates change in the write's own transaction, so the lag is
    the write plus one read. Beside: the same write with the aggregate triggers disabled (the
    triggers' cost on a write)."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone
    from psycopg.types.range import Range

    from insights.dashboard.figures import customer_figures
    from insights.dashboard.periods import (
        BookingBasis,
        DashboardQuery,
        MoneyBasis,
        PeriodKind,
        week_of,
    )
    from scheduling.models import Booking, Customer, Service, StaffMember

    zone = timezone.get_default_timezone()
    staff, service = StaffMember.objects.first(), Service.objects.first()
    now = timezone.now()
    week = week_of(timezone.localdate(now, zone), first_weekday=1)
    query = DashboardQuery(kind=PeriodKind.WEEK, period=week,
                           booking_basis=BookingBasis.BOOKED, money_basis=MoneyBasis.MOVED,
                           staff_id=None, service_id=None)  # fmt: skip
    slot = [0]

    def write() -> None:
        slot[0] += 1
        customer = Customer.objects.create(name="New", email=f"new{slot[0]}@bench.test")
        starts = now + timedelta(days=20 * 365, hours=slot[0])
        with transaction.atomic():
            Booking.objects.create(
                reference=f"W{slot[0]}", service=service, staff=staff, customer=customer,
                starts_at=starts, ends_at=starts + timedelta(minutes=45),
                occupied=Range(starts, starts + timedelta(minutes=45)), status="confirmed",
                price_minor=3000, currency="EUR", payment_mode="online_full", source="staff",
                created_at=timezone.now(),
            )  # fmt: skip

    lags, writes, plain = [], [], []
    for _ in range(runs):
        before = customer_figures(query, zone=zone, first_weekday=1)["new_customers"].current
        started = time.perf_counter()
        write()
        writes.append((time.perf_counter() - started) * 1000)
        while (
            customer_figures(query, zone=zone, first_weekday=1)["new_customers"].current == before
        ):
            assert time.perf_counter() - started < 30, "the figure never changed"

        lags.append((time.perf_counter() - started) * 1000)
    without_days = []
    for trigger in DAY_TRIGGERS:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE scheduling_booking DISABLE TRIGGER {trigger}")
    try:
        for _ in range(runs):
            started = time.perf_counter()
            write()
            without_days.append((time.perf_counter() - started) * 1000)
    finally:
        for trigger in DAY_TRIGGERS:
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE scheduling_booking ENABLE TRIGGER {trigger}")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE scheduling_booking DISABLE TRIGGER USER")
    try:
        for _ in range(runs):
            started = time.perf_counter()
            write()
            plain.append((time.perf_counter() - started) * 1000)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE scheduling_booking ENABLE TRIGGER USER")
    print(
        "the write without the per-day triggers only (p50 ms, p95 ms): {:.1f} {:.1f}".format(
            *_p50_p95(without_days)
        )
    )
    payment_writes(runs)
    print(
        "booking write to the figure changing (p50 ms, p95 ms): {:.1f} {:.1f}".format(
            *_p50_p95(lags)
        )
    )
    print(
        "the write alone, with the triggers (p50 ms, p95 ms): {:.1f} {:.1f}".format(
            *_p50_p95(writes)
        )
    )
    print(
        "the same write without the triggers, no read (p50 ms, p95 ms): {:.1f} {:.1f}".format(
            *_p50_p95(plain)
        )
    )


DAY_TRIGGERS = ("insights_days_inserted", "insights_days_updated", "insights_days_deleted")
PAYMENT = "connect_payments_bookingpayment"


def payment_writes(runs: int) -> None:
    """A booking's payment recorded paid (an UPDATE of its row, as the webhook does), with every
    trigger, without the per-day money trigger, and without any (rolled back each time)."""
    from django.db import connection, transaction

    from connect_payments.models import BookingPayment

    ids = list(BookingPayment.objects.order_by("-id").values_list("id", flat=True)[:runs])

    def timed() -> list[float]:
        timings = []
        for pk in ids:
            started = time.perf_counter()
            with transaction.atomic():
                BookingPayment.objects.filter(pk=pk).update(paid_minor=2900, fee_minor=140)
                transaction.set_rollback(True)
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    def toggled(action: str, what: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {PAYMENT} {action} TRIGGER {what}")

    every = timed()
    toggled("DISABLE", "insights_days_updated")
    try:
        without_days = timed()
    finally:
        toggled("ENABLE", "insights_days_updated")
    toggled("DISABLE", "USER")
    try:
        plain = timed()
    finally:
        toggled("ENABLE", "USER")
    for label, timings in [("with every trigger", every), ("without the per-day trigger",
                           without_days), ("without any trigger", plain)]:  # fmt: skip
        print("payment update, {} (p50 ms, p95 ms): {:.1f} {:.1f}".format(
            label, *_p50_p95(timings)))  # fmt: skip


def per_part(tenant, owner, query_string: str, runs: int) -> None:
    """p50/p95 of each figure family and each chart alone, for one query."""
    from django.db import connection
    from django.test import RequestFactory
    from django_tenants.utils import tenant_context

    from insights.dashboard import figures
    from insights.dashboard.page import chart_builders, read_query, viewer_of

    request = RequestFactory().get("/?" + query_string)
    request.tenant = tenant
    request.user = owner
    request.user.is_verified = lambda: True
    request.membership = tenant.memberships.get(user=owner)
    with tenant_context(tenant):
        viewer = viewer_of(request)
        query, setting = read_query(request, viewer)
        common = {"zone": setting.zone, "first_weekday": setting.first_weekday}
        parts = {
            "figures: bookings": lambda: figures.booking_figures(query, **common),
            "figures: customers": lambda: figures.customer_figures(query, **common),
            "figures: money": lambda: figures.money_figures(query, today=setting.today, **common),
            "figures: occupancy": lambda: figures.occupancy_figures(query, zone=setting.zone),
        }
        for key in chart_builders(query, setting, viewer):
            parts[f"chart: {key}"] = lambda key=key: chart_builders(query, setting, viewer)[key]()
        for label, part in parts.items():
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                part()
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            print(f"  {label:<40} {statistics.median(timings):>8.1f} {p95:>8.1f}")
    connection.set_schema_to_public()


if __name__ == "__main__":
    main()
