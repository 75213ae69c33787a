"""Provisioning speed: sign up 20 tenants through the signup service, with and without the
template clone, and print median and max seconds per tenant.

Run: .venv/bin/python bench/provision.py   (uses DATABASE_URL or local PostgreSQL; creates and
drops its own database `creneau_bench`). Target: median <= 1 s with the template clone.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import dev  # noqa: E402

COUNT = int(os.environ.get("BENCH_TENANTS", "20"))
# Without the clone each schema replays every app's migrations (~40 s with dj-stripe here):
# a few samples are enough to show the difference.
FRESH_COUNT = int(os.environ.get("BENCH_FRESH_TENANTS", "3"))


def main() -> None:
    url = dev.find_database_url("creneau_bench")
    dev.ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "saas_platform.settings.local"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from tenants.models import Tenant
    from tenants.services import tenant_provision

    print("migrating the bench database (public, template) ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)

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

    # Leave nothing behind.
    connection.set_schema_to_public()
    schemas = list(Tenant.objects.filter(slug__regex=r"^(clone|fresh)-").values_list(
        "schema_name", flat=True))  # fmt: skip
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(f"dropped {len(schemas)} bench schemas")


if __name__ == "__main__":
    main()
