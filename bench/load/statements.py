"""Statements per request of the load test's endpoints, with django-tenants' backend (direct
connections) and with the pooled backend (DATABASE_POOLING=transaction), which sends no
separate `SET search_path`.

    .venv/bin/python bench/load/statements.py

Its own database (see bench/bench_server.py), one business with two staff and a free service;
each endpoint is requested 5 times through Django's test client and the statements PostgreSQL
received are counted (CaptureQueriesContext), split into `SET search_path` and the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_server import PYTHON, ROOT, SETTINGS, bench_database, setup_django  # noqa: E402
from run import prepare_businesses  # noqa: E402

REPEAT = 5


def measure() -> None:
    setup_django(os.environ["DATABASE_URL"])
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(slug__startswith="load").order_by("slug").first()
    if tenant is None:
        [business] = prepare_businesses(1)
    else:
        from django_tenants.utils import tenant_context

        from scheduling.models import Service

        with tenant_context(tenant):
            business = {"slug": tenant.slug, "service": Service.objects.get().pk}
    first = date.today() + timedelta(days=3)
    endpoints = {
        "GET services": "/api/v1/services/",
        "GET availability (7 days)": f"/api/v1/availability/?service={business['service']}"
        f"&start={first}&end={first + timedelta(days=6)}",
    }
    backend = os.environ.get("DATABASE_POOLING") or "django-tenants (direct)"
    client = Client(HTTP_HOST=f"{business['slug']}.localhost")
    for name, path in endpoints.items():
        client.get(path)  # warm caches (ContentType, the tenant lookup's connection)
        with CaptureQueriesContext(connection) as queries:
            for _ in range(REPEAT):
                assert client.get(path).status_code == 200
        sets = sum(1 for q in queries if q["sql"].lstrip().upper().startswith("SET SEARCH_PATH"))
        total = len(queries) / REPEAT
        print(f"{backend:<26} {name:<26} {total:5.1f} statements a request, "
              f"{sets / REPEAT:.1f} of them a separate SET search_path", flush=True)  # fmt: skip


def main() -> None:
    if os.environ.get("STATEMENTS_CHILD"):
        measure()
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)  # for closing connections at the end
    with bench_database("creneau_bench_statements_run") as database_url:
        for pooling in ("", "transaction"):
            env = {**os.environ, "DATABASE_URL": database_url, "DATABASE_POOLING": pooling,
                   "STATEMENTS_CHILD": "1"}  # fmt: skip
            subprocess.run([PYTHON, __file__], env=env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
