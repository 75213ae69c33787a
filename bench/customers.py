"""The back office's Customers page and the payments list on a business with 10,000 customers
(issues #18 and #14/#15): 50,000 bookings over three years and 25,000 online payments (written
by `bench/dashboard.py`'s fill); each page's time and query count beside a trivial view's (the
dashboard's live endpoint) measured in the same run, in process through Django's test client.

    .venv/bin/python bench/customers.py [--customers 10000] [--bookings 50000] [--runs 20]

It works on its own throw-away database (bench_server.bench_database) and drops it at the end.
"""

from __future__ import annotations

import argparse
import time

import dashboard
from bench_server import bench_database, provision_bench_tenant, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    dashboard.CUSTOMERS = args.customers
    with bench_database("creneau_bench_customers") as url:
        setup_django(url)
        from django.conf import settings
        from django.db import connection
        from django_tenants.utils import tenant_context

        settings.ALLOWED_HOSTS = ["*"]
        tenant = provision_bench_tenant("custbench")
        started = time.perf_counter()
        with tenant_context(tenant):
            dashboard.fill(args.bookings)
            from scheduling.models import Customer

            some = Customer.objects.order_by("pk")[args.customers // 2].pk
        print(f"filled {args.customers} customers, {args.bookings} bookings in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        connection.set_schema_to_public()
        from tests.factories import member_client

        owner = tenant.memberships.get(role="owner").user
        client = member_client(tenant, owner, verified=True)
        print(f"{'page':<48} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for label, path in [
            ("baseline: /dashboard/live/", "/dashboard/live/"),
            ("customers, by last visit (page 1)", "/customers/"),
            ("customers, by name, page 100", "/customers/?sort=name&page=100"),
            ("customers, search 'customer 99'", "/customers/?q=customer+99"),
            ("one customer's page", f"/customers/{some}/"),
            ("payments list (page 1)", "/payments/"),
            ("payments list, bookings, page 200", "/payments/?kind=booking&page=200"),
            ("payments CSV, all 25,000 rows", "/payments/export.csv"),
        ]:  # fmt: skip
            p50, p95, queries = measure(client, path, args.runs)
            print(f"{label:<48} {p50:>8.1f} {p95:>8.1f} {queries:>8}")


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    """`dashboard.measure`, reading a streamed response to its end (the CSV)."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for run in range(runs + 1):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if run:  # the first is the warm-up
            timings.append(elapsed)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95, len(queries)


if __name__ == "__main__":
    main()
