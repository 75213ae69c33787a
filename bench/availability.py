"""Availability speed, engine and HTTP: 10 staff, 20 services, 2,000 bookings over 60 days.

Run from the repository root: `.venv/bin/python bench/availability.py`. It creates its own
database (a copy of the kept, migrated `creneau_bench_http_base`), a tenant, the data, starts
gunicorn on a free loopback port, and removes the copy at the end. Prints the median and p95 of:
- the engine: `scheduling.selectors.available_slots` for 30 days, any staff and one staff member;
- the endpoint `GET /api/v1/availability/` for the same queries, over HTTP;
- `/healthz` measured in the same run against the same server, as the "trivial view". It is not
  free: before any tenant lookup it runs `SELECT 1` and the outbox counts (three queries), a Redis
  PING and two heartbeat reads (the Stripe probe is cached for 30 s).
Targets on the 2-core dev machine: engine median <= 20 ms; endpoint p95 <= 3 x healthz p95 + 40 ms.

Smaller runs: BENCH_BOOKINGS=500 BENCH_RUNS=10. BENCH_PROFILE=1 prints where the engine's time
goes (cProfile, any staff; BENCH_PROFILE_SORT=cumulative to sort by cumulative time).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import statistics
import time as clock
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench_server import (
    bench_database,
    percentile,
    provision_bench_tenant,
    running_server,
    setup_django,
)

STAFF_COUNT = 10
SERVICE_COUNT = 20
BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "2000"))
HORIZON_DAYS = 60
QUERY_DAYS = 30
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
WARMUP = 5
SEED = 20_301_201
TIME_ZONE = "Europe/Paris"
SLUG = "benchavail"


def build_catalogue(rng: random.Random) -> tuple[list, list]:
    from scheduling.models import Service, StaffMember, WorkingHours

    staff = [StaffMember.objects.create(display_name=f"Staff {i + 1}") for i in range(STAFF_COUNT)]
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=member, weekday=weekday, start=time(9), end=time(18))
        for member in staff
        for weekday in range(6)  # closed on Sundays
    )
    services = []
    for index in range(SERVICE_COUNT):
        service = Service.objects.create(
            name=f"Service {index + 1}",
            duration_minutes=[30, 45, 60, 90][index % 4],
            slot_interval_minutes=15,
            buffer_after_minutes=[0, 10, 15][index % 3],
            minimum_notice_minutes=60,
            maximum_advance_days=90,
            price_minor=4500,
        )
        # The measured service (the first) is offered by everyone; the others by 3 to 10.
        offered_by = staff if index == 0 else rng.sample(staff, rng.randint(3, STAFF_COUNT))
        service.staff.add(*offered_by)
        services.append(service)
    return staff, services


def build_bookings(rng: random.Random, staff: list, services: list, now: datetime) -> int:
    """BOOKINGS confirmed bookings on working days of the next 60 days, never overlapping: each
    goes to a random staff member and day, after that day's previous booking (gaps of 0-45 min)."""
    from django.db.backends.postgresql.psycopg_any import DateTimeTZRange

    from scheduling.models import Booking, Customer

    zone = ZoneInfo(TIME_ZONE)
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {i}", email=f"customer{i}@bench.test") for i in range(200)
    )
    today = now.astimezone(zone).date()
    days = [today + timedelta(days=n) for n in range(1, HORIZON_DAYS + 1)]
    open_days = [(member.pk, day) for member in staff for day in days if day.weekday() < 6]
    next_free = {key: datetime.combine(key[1], time(9), zone) for key in open_days}
    offered = {member.pk: [s for s in services if member in s.staff.all()] for member in staff}
    rows: list = []
    while len(rows) < BOOKINGS and open_days:
        index = rng.randrange(len(open_days))
        staff_id, day = open_days[index]
        service = rng.choice(offered[staff_id])
        starts_at = next_free[(staff_id, day)] + timedelta(minutes=15 * rng.randint(0, 3))
        ends_at = starts_at + timedelta(minutes=service.duration_minutes)
        occupied_end = ends_at + timedelta(minutes=service.buffer_after_minutes)
        if occupied_end > datetime.combine(day, time(18), zone):
            open_days.pop(index)  # this day is full
            continue
        rows.append(
            Booking(
                reference=f"BEN-{len(rows):05d}",
                service=service,
                staff_id=staff_id,
                customer=rng.choice(customers),
                starts_at=starts_at,
                ends_at=ends_at,
                occupied=DateTimeTZRange(starts_at, occupied_end, "[)"),
                status="confirmed",
                price_minor=4500,
                currency="EUR",
                payment_mode=service.payment_mode,
                source="widget",
            )  # fmt: skip
        )
        # The next start is on the 15-minute grid at or after this booking's occupied end.
        opening = datetime.combine(day, time(9), zone)
        minutes = int((occupied_end - opening).total_seconds()) // 60
        next_free[(staff_id, day)] = opening + timedelta(minutes=-(-minutes // 15) * 15)
    Booking.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def where_the_time_goes(service, start_date, end_date, now: datetime) -> dict[str, list[float]]:
    """The selector's parts measured apart, on the same window as `selectors.available_slots`."""
    from scheduling import slots
    from scheduling.selectors.availability import (
        scheduling_calendar,
        service_rules,
        staff_schedules,
    )

    zone = ZoneInfo(TIME_ZONE)
    window_start = datetime.combine(start_date, time(0), zone) - timedelta(days=1)
    window_end = datetime.combine(end_date, time(0), zone) + timedelta(days=2)
    read, schedules = timed(
        lambda: staff_schedules(service=service, start=window_start, end=window_end, now=now),
        RUNS,
    )
    holidays, calendar = timed(scheduling_calendar, RUNS)
    rules = service_rules(service)
    query = slots.SlotQuery(start_date=start_date, end_date=end_date, now=now)
    pure, _ = timed(
        lambda: slots.available_slots(calendar=calendar, service=rules, staff=schedules,
                                      query=query),
        RUNS,
    )  # fmt: skip
    busy = sum(len(schedule.busy_seconds) for schedule in schedules)
    return {
        f"selectors.staff_schedules (one query, {busy} busy ranges -> inputs)": read,
        "selectors.scheduling_calendar (holidays)": holidays,
        "slots.available_slots on prebuilt inputs (pure engine)": pure,
    }


def timed(action, runs: int) -> tuple[list[float], object]:
    for _ in range(WARMUP):
        result = action()
    timings = []
    for _ in range(runs):
        started = clock.perf_counter()
        result = action()
        timings.append((clock.perf_counter() - started) * 1000)
    return timings, result


def line(label: str, timings: list[float], extra: str = "") -> str:
    return (
        f"  {label:<44} median {statistics.median(timings):7.2f} ms   "
        f"p95 {percentile(timings, 0.95):7.2f} ms   n={len(timings)}{extra}"
    )


def main() -> None:
    rng = random.Random(SEED)
    with bench_database("creneau_bench_avail_run") as database_url:
        setup_django(database_url)
        from django.db import connection
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from scheduling.selectors.availability import available_slots

        tenant = provision_bench_tenant(SLUG, time_zone=TIME_ZONE)
        now = timezone.now()
        with tenant_context(tenant):
            staff, services = build_catalogue(rng)
            made = build_bookings(rng, staff, services, now)
            service = services[0]
            one = staff[0].pk
            start_date = now.astimezone(ZoneInfo(TIME_ZONE)).date() + timedelta(days=1)
            end_date = start_date + timedelta(days=QUERY_DAYS - 1)
            # As a settled production table: hint bits set, statistics current.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            print(
                f"data: {STAFF_COUNT} staff, {SERVICE_COUNT} services, {made} bookings over "
                f"{HORIZON_DAYS} days; query {start_date} .. {end_date} ({QUERY_DAYS} days) of "
                f"'{service.name}' ({service.duration_minutes} min, {STAFF_COUNT} staff)"
            )

            def engine(staff_id: int | None):
                def action():
                    return available_slots(
                        service=service,
                        start_date=start_date,
                        end_date=end_date,
                        now=now,
                        staff_id=staff_id,
                    )

                return action

            any_engine, any_slots = timed(engine(None), RUNS)
            one_engine, one_slots = timed(engine(one), RUNS)
            breakdown = where_the_time_goes(service, start_date, end_date, now)
            if os.environ.get("BENCH_PROFILE"):
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(20):
                    engine(None)()
                profile.disable()
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats(
                    os.environ.get("BENCH_PROFILE_SORT", "tottime")
                ).print_stats(30)
                print(out.getvalue())
        connection.set_schema_to_public()
        connection.close()

        import requests

        # The availability endpoint pays its rate limit as in production (a cache read and
        # write per request); the rate is set out of the bench's reach so nothing is refused.
        limited = {"API_THROTTLE_BROWSE_RATE": "1000/second"}
        with running_server(database_url, workers=2, environment=limited) as base:
            http = requests.Session()
            http.headers["Host"] = f"{SLUG}.localhost"
            params = {"service": service.pk, "start": str(start_date), "end": str(end_date)}

            def get(path: str, query: dict | None = None):
                def action():
                    response = http.get(base + path, params=query)
                    assert response.status_code == 200, (path, response.status_code)
                    return response

                return action

            actions = {
                "healthz": get("/healthz"),
                "any": get("/api/v1/availability/", params),
                "one": get("/api/v1/availability/", {**params, "staff": one}),
            }
            for action in actions.values():
                for _ in range(WARMUP):
                    action()
            # Interleaved, so all three see the same machine load.
            samples: dict[str, list[float]] = {name: [] for name in actions}
            for _ in range(RUNS):
                for name, action in actions.items():
                    started = clock.perf_counter()
                    response = action()
                    samples[name].append((clock.perf_counter() - started) * 1000)
                    if name == "any":
                        http_slots = len(response.json()["slots"])

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nmachine load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs")
    print("engine: scheduling.selectors.available_slots, 30 days")
    print(line("any staff", any_engine, f"   slots {len(any_slots)}"))
    print(line("one staff member", one_engine, f"   slots {len(one_slots)}"))
    print("  where the time of 'any staff' goes (medians):")
    for label, timings in breakdown.items():
        print(f"    {label:<64} {statistics.median(timings):7.2f} ms")
    print("HTTP (gunicorn, 2 sync workers, keep-alive client, sequential requests)")
    print(line("GET /api/v1/availability/ any staff", samples["any"], f"   slots {http_slots}"))
    print(line("GET /api/v1/availability/ one staff member", samples["one"]))
    print(line("GET /healthz (SELECT 1, backlog counts, Redis)", samples["healthz"]))
    engine_median = statistics.median(any_engine)
    budget = 3 * percentile(samples["healthz"], 0.95) + 40
    worst_p95 = max(percentile(samples["any"], 0.95), percentile(samples["one"], 0.95))
    print("targets")
    print(f"  engine median (any staff) {engine_median:.2f} ms <= 20 ms: "
          f"{'met' if engine_median <= 20 else 'MISSED'}")  # fmt: skip
    print(f"  endpoint p95 {worst_p95:.2f} ms <= 3 x healthz p95 + 40 = {budget:.2f} ms: "
          f"{'met' if worst_p95 <= budget else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
