"""Provisioning speed: sign up 20 tenants through the signup service, with and without the
template clone, and print median and max seconds per tenant.

Run: .venv/bin/python bench/provision.py   (uses DATABASE_URL or local PostgreSQL; works on a
copy of the kept, migrated `creneau_bench_http_base`, dropped at the end, as the other benches).
Target: median <= 1 s with the template clone.
"""

import os
import statistics
import time

from bench_server import bench_database, setup_django

COUNT = int(os.environ.get("BENCH_TENANTS", "20"))
# Without the clone each schema replays every app's migrations (~40 s with dj-stripe here):
# a few samples are enough to show the difference.
FRESH_COUNT = int(os.environ.get("BENCH_FRESH_TENANTS", "3"))


def main() -> None:
    with bench_database("creneau_bench_provision_run") as database_url:
        setup_django(database_url)
        measure()


def measure() -> None:
    from django.test.utils import override_settings

    from tenants.services import tenant_provision

    def run(label: str, prefix: str, count: int) -> list[float]:
        timings = []
        for index in range(count):
            started = time.perf_counter()
            tenant_provision(
                name=f"Bench {prefix} {index}",
                slug=f"{prefix}-{index}-{int(time.time())}",
                owner_email=f"{prefix}{index}.{time.time_ns()}@bench.test",
                owner_name="Bench Owner",
                owner_password="bench-passphrase-123",
                country="FR",
                currency="EUR",
                time_zone="Europe/Paris",
            )
            timings.append(time.perf_counter() - started)
        print(
            f"{label:<34} n={count}  median {statistics.median(timings):.3f} s  "
            f"max {max(timings):.3f} s",
            flush=True,
        )
        return timings

    run("signup with template clone", "clone", COUNT)
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
        run("signup migrating a fresh schema", "fresh", FRESH_COUNT)


if __name__ == "__main__":
    main()
