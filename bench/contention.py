"""Contention over HTTP: 50 concurrent clients fight over 10 slots through POST /api/v1/bookings/.

Run from the repository root: `.venv/bin/python bench/contention.py`. It creates its own database
(a copy of the kept, migrated `creneau_bench_http_base`), a tenant with one staff member and ten
hourly slots, starts gunicorn (2 workers x 8 threads) on a free loopback port, lets the clients go
at once (a barrier), and removes the copy at the end. Each client tries the ten slots in its own
random order until one hold succeeds or every slot refused it.

Prints: bookings made (must be 10, checked in the database too), answers by status code, hold
requests per second (every POST is a hold attempt), holds made per second and when the last slot
went. BENCH_CLIENTS and BENCH_ROUNDS change the load.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time as clock
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench_server import (
    bench_database,
    percentile,
    provision_bench_tenant,
    running_server,
    setup_django,
)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
SLOTS = 10
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TIME_ZONE = "Europe/Paris"
SLUG = "benchcont"


def build_round(day, zone):
    """A staff member working 08:00-18:00 on `day` and a 60-minute service: ten hourly slots."""
    from scheduling.models import Service, StaffMember, WorkingHours

    member = StaffMember.objects.create(display_name=f"Staff {day}")
    WorkingHours.objects.create(staff=member, weekday=day.weekday(), start=time(8), end=time(18))
    service = Service.objects.create(
        name=f"Contended {day}", duration_minutes=60, slot_interval_minutes=60,
        minimum_notice_minutes=60, maximum_advance_days=90, price_minor=4500,
    )  # fmt: skip
    service.staff.add(member)
    starts = [datetime.combine(day, time(8 + hour), zone) for hour in range(SLOTS)]
    return service, member, starts


def fight(base: str, service_id: int, staff_id: int, starts: list[datetime], round_no: int):
    import requests

    barrier = threading.Barrier(CLIENTS)
    lock = threading.Lock()
    statuses: Counter = Counter()
    codes: Counter = Counter()
    latencies: list[float] = []
    made: list[str] = []
    made_at: list[float] = []

    def client(index: int) -> None:
        http = requests.Session()
        http.headers["Host"] = f"{SLUG}.localhost"
        order = random.Random(index * 7919 + round_no).sample(starts, len(starts))
        barrier.wait()
        for start in order:
            body = {
                "service": service_id, "staff": staff_id, "start": start.isoformat(),
                "customer": {"name": f"Client {index}",
                             "email": f"client{index}.r{round_no}@bench.test"},
            }  # fmt: skip
            started = clock.perf_counter()
            response = http.post(f"{base}/api/v1/bookings/", json=body, timeout=60)
            elapsed = (clock.perf_counter() - started) * 1000
            code = ""
            if response.status_code != 201:
                try:
                    code = response.json()["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = "(not the API error shape)"
            with lock:
                statuses[response.status_code] += 1
                latencies.append(elapsed)
                if code:
                    codes[f"{response.status_code} {code}"] += 1
                if response.status_code == 201:
                    made.append(response.json()["reference"])
                    made_at.append(clock.perf_counter())
            if response.status_code == 201:
                return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = clock.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    wall = clock.perf_counter() - started
    all_held_after = (max(made_at) - started) if made_at else float("nan")
    return made, statuses, codes, latencies, wall, all_held_after


def main() -> None:
    with bench_database("creneau_bench_cont_run") as database_url:
        setup_django(database_url)
        from django.db import connection
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from scheduling.models import Booking

        zone = ZoneInfo(TIME_ZONE)
        tenant = provision_bench_tenant(SLUG, time_zone=TIME_ZONE)
        today = timezone.now().astimezone(zone).date()
        rounds = []
        with tenant_context(tenant):
            day = today + timedelta(days=2)
            for _ in range(ROUNDS):
                rounds.append(build_round(day, zone))
                day += timedelta(days=1)
        connection.set_schema_to_public()
        connection.close()

        results = []
        with running_server(database_url, workers=2, threads=8) as base:
            for round_no, (service, member, starts) in enumerate(rounds, start=1):
                results.append(fight(base, service.pk, member.pk, starts, round_no))

        with tenant_context(tenant):
            in_database = [
                Booking.objects.filter(service=service, status="held").count()
                for service, _, _ in rounds
            ]
            distinct_starts = [
                Booking.objects.filter(service=service, status="held")
                .values("starts_at").distinct().count()
                for service, _, _ in rounds
            ]  # fmt: skip
        connection.set_schema_to_public()

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nmachine load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs")
    print(f"{CLIENTS} concurrent clients, {SLOTS} slots of one staff member, "
          f"gunicorn 2 workers x 8 threads; {ROUNDS} rounds")  # fmt: skip
    for number, ((made, statuses, codes, latencies, wall, all_held), held, distinct) in enumerate(
        zip(results, in_database, distinct_starts, strict=True), start=1
    ):
        requests_made = sum(statuses.values())
        verdict = "OK" if len(made) == held == distinct == SLOTS else "WRONG"
        print(
            f"round {number}: bookings made {len(made)} (in the database: {held} held, "
            f"{distinct} distinct starts) {verdict}"
        )
        print(
            f"  answers by status: {dict(sorted(statuses.items()))}   "
            f"errors by code: {dict(sorted(codes.items()))}"
        )
        print(
            f"  {requests_made} hold requests in {wall:.2f} s: {requests_made / wall:.1f} hold "
            f"requests/s; {len(made) / wall:.1f} holds made/s (all {SLOTS} held after "
            f"{all_held:.2f} s); latency median {statistics.median(latencies):.0f} ms, "
            f"p95 {percentile(latencies, 0.95):.0f} ms"
        )


if __name__ == "__main__":
    main()
