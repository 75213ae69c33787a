"""Statements per request of the load test's endpoints, with django-tenants' backend (direct
connections) and with the pooled backend (DATABASE_POOLING=transaction), which sends no
separate `SET search_path`.

    .venv/bin/python bench/load/statements.py

Its own database (see bench/bench_server.py), one business with two staff and a free service;
each endpoint is requested 5 times through Django's test client and the statements PostgreSQL
received are counted (CaptureQueriesContext), split into `SET search_path` and the rest.

Then where a request's time goes (direct connections only): each endpoint 40 times under
cProfile, its own time grouped by where the code lives (the database driver and the wait for
PostgreSQL, Django's request handling and middleware, Django REST framework's views and
serialization, the app's own code, ...), beside the time the statements took (an execute
wrapper) and the wall time per request without the profiler.
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
PROFILED = 40
# Where a function's file lives -> the group its time counts in (first match wins).
GROUPS = (
    ("psycopg", "database driver + PostgreSQL"),
    ("django/db/", "Django ORM"),
    ("rest_framework", "DRF (views, serializers, renderers)"),
    ("django_tenants", "django-tenants"),
    ("django/template", "Django templates"),
    ("django/", "Django (request, middleware, urls)"),
    ("django_prometheus", "django-prometheus"),
    ("prometheus_client", "django-prometheus"),
    ("site-packages", "other libraries"),
    ("/python3.", "Python standard library"),
)


def _group(filename: str) -> str:
    if filename.startswith(str(ROOT)) and "site-packages" not in filename:
        return "Creneau's code (" + filename[len(str(ROOT)) + 1 :].split("/")[0] + ")"
    for fragment, name in GROUPS:
        if fragment in filename:
            return name
    return "other (builtins)"


def profile(client, name: str, path: str) -> None:
    import cProfile
    import pstats
    import time
    from collections import Counter

    from django.db import connection

    spent = {"sql": 0.0}

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["sql"] += time.perf_counter() - started

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        for _ in range(PROFILED):
            client.get(path)
    wall, sql = (time.perf_counter() - started) / PROFILED, spent["sql"] / PROFILED
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        client.get(path)
    profiler.disable()
    groups: Counter = Counter()
    for (filename, _line, _function), row in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        groups[_group(filename)] += row[2]  # own time
    total = sum(groups.values())
    print(f"\n{name}: {wall * 1000:.1f} ms a request (test client, no profiler), of which "
          f"{sql * 1000:.1f} ms in statements (execute wrapper); own time under cProfile:",
          flush=True)  # fmt: skip
    for group, seconds in groups.most_common(8):
        print(f"  {group:<40} {seconds / total * 100:5.1f} %", flush=True)


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
    if not os.environ.get("DATABASE_POOLING"):
        for name, path in endpoints.items():
            profile(client, name, path)


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
