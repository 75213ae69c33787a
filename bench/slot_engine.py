"""Slot engine timing: 10 staff working 09:00-18:00, 2,000 bookings over 60 days, 30-day queries.

Run from the repository root: `.venv/bin/python bench/slot_engine.py`. Prints median and p95 in
milliseconds for "any staff" and for one staff member; the target is a 20 ms median for "any".
"""

from __future__ import annotations

import random
import statistics
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduling.slots import (  # noqa: E402
    ServiceRules,
    SlotQuery,
    StaffSchedule,
    TenantCalendar,
    TimeSpan,
    available_slots,
)

TIME_ZONE = "Europe/Paris"
STAFF_COUNT = 10
BUSY_RANGES = 2_000
HORIZON_DAYS = 60
QUERY_DAYS = 30
RUNS = 50
SEED = 20_240_601


def build(rng: random.Random, today: date) -> tuple[list[StaffSchedule], list[ServiceRules]]:
    zone = ZoneInfo(TIME_ZONE)
    weekly = {weekday: [(time(9), time(18))] for weekday in range(6)}  # closed on Sundays
    busy_by_staff: dict[int, list[TimeSpan]] = {staff_id: [] for staff_id in range(1, 11)}
    for _ in range(BUSY_RANGES):
        day = today + timedelta(days=rng.randrange(HORIZON_DAYS))
        start = datetime.combine(day, time(9), zone) + timedelta(minutes=15 * rng.randrange(34))
        length = timedelta(minutes=rng.choice((30, 45, 60, 90)))
        busy_by_staff[rng.randrange(1, STAFF_COUNT + 1)].append(TimeSpan(start, start + length))
    staff = [
        StaffSchedule(staff_id=staff_id, weekly_hours=weekly, busy=busy)
        for staff_id, busy in busy_by_staff.items()
    ]
    services = [
        ServiceRules(
            duration_minutes=rng.choice((15, 30, 45, 60, 90)),
            slot_interval_minutes=rng.choice((15, 30)),
            buffer_before_minutes=rng.choice((0, 5, 10)),
            buffer_after_minutes=rng.choice((0, 10, 15)),
            minimum_notice_minutes=120,
            maximum_advance_days=90,
        )
        for _ in range(20)
    ]
    return staff, services


def measure(label: str, run) -> None:
    timings = []
    result = run()
    for _ in range(RUNS):
        started = clock.perf_counter()
        run()
        timings.append((clock.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<28} median {statistics.median(timings):6.2f} ms   p95 {p95:6.2f} ms   "
        f"({len(result)} slots)"
    )


def main() -> None:
    rng = random.Random(SEED)
    now = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
    today = now.astimezone(ZoneInfo(TIME_ZONE)).date()
    staff, services = build(rng, today)
    service = services[0]
    calendar = TenantCalendar(TIME_ZONE)
    print(
        f"{STAFF_COUNT} staff, {BUSY_RANGES} busy ranges over {HORIZON_DAYS} days, "
        f"{QUERY_DAYS}-day query, service {service.duration_minutes} min every "
        f"{service.slot_interval_minutes} min, {RUNS} runs"
    )
    end = today + timedelta(days=QUERY_DAYS - 1)

    def any_staff():
        query = SlotQuery(start_date=today, end_date=end, now=now)
        return available_slots(calendar=calendar, service=service, staff=staff, query=query)

    def one_staff():
        query = SlotQuery(start_date=today, end_date=end, now=now, staff_id=3)
        return available_slots(calendar=calendar, service=service, staff=staff, query=query)

    measure("any staff", any_staff)
    measure("one staff (id 3)", one_staff)

    def every_service():
        query = SlotQuery(start_date=today, end_date=end, now=now)
        return [
            slot
            for shape in services
            for slot in available_slots(calendar=calendar, service=shape, staff=staff, query=query)
        ]

    measure("any staff, all 20 services", every_service)


if __name__ == "__main__":
    main()
