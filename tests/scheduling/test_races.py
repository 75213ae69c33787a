"""Race tests: real threads, real PostgreSQL, committed transactions."""

import threading
from collections import Counter
from datetime import timedelta

from django.db import connections
from django_tenants.utils import tenant_context

from scheduling import slots
from scheduling.actors import SYSTEM
from scheduling.exceptions import BookingError
from scheduling.models import Booking, Occurrence
from scheduling.services.bookings import booking_hold, booking_reschedule, booking_take_seat
from scheduling.services.customers import customer_upsert

from .conftest import NOW, build_catalogue, paris


def run_concurrently(count: int, action) -> Counter:
    """Start `count` threads at once (barrier); return outcome counts."""
    barrier = threading.Barrier(count)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            barrier.wait()
            action(index)
            outcome = "ok"
        except (BookingError, slots.SlotError) as error:
            outcome = type(error).__name__
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_concurrent_holds_of_one_slot_make_exactly_one(alpha_committed):
    with tenant_context(alpha_committed):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Racer", email="racer@example.test")
    ada = catalogue["ada"].pk

    def attempt(index: int) -> None:
        with tenant_context(alpha_committed):
            booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, 4, 10),
                                  customer=customer, staff_id=ada, now=NOW)  # fmt: skip

    outcomes = run_concurrently(20, attempt)
    assert outcomes["ok"] == 1
    assert sum(outcomes.values()) == 20
    assert set(outcomes) <= {"ok", "SlotTaken", "SlotUnavailable"}
    with tenant_context(alpha_committed):
        assert Booking.objects.filter(status="held").count() == 1


def test_twenty_concurrent_seats_on_capacity_five_make_exactly_five(alpha_committed):
    with tenant_context(alpha_committed):
        catalogue = build_catalogue(capacity=5)
        occurrence = Occurrence.objects.create(
            service=catalogue["service"], staff=catalogue["ada"], starts_at=paris(2030, 6, 4, 18),
            ends_at=paris(2030, 6, 4, 19), capacity=5,
        )  # fmt: skip
        customer = customer_upsert(name="Yogi", email="yogi@example.test")

    def attempt(index: int) -> None:
        with tenant_context(alpha_committed):
            booking_take_seat(occurrence=occurrence, customer=customer, now=NOW)

    outcomes = run_concurrently(20, attempt)
    assert outcomes == Counter({"ok": 5, "SessionFull": 15})
    with tenant_context(alpha_committed):
        assert Booking.objects.filter(occurrence=occurrence, status="held").count() == 5


def test_expired_hold_frees_the_slot_for_one_of_many(alpha_committed):
    with tenant_context(alpha_committed):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Early", email="early@example.test")
        ada = catalogue["ada"].pk
        first = booking_hold(service=catalogue["service"],
                                      starts_at=paris(2030, 6, 4, 10), customer=customer,
                                      staff_id=ada, now=NOW)  # fmt: skip
    later = NOW + timedelta(minutes=15)

    def attempt(index: int) -> None:
        with tenant_context(alpha_committed):
            booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, 4, 10),
                                  customer=customer, staff_id=ada, now=later)  # fmt: skip

    outcomes = run_concurrently(10, attempt)
    assert outcomes["ok"] == 1
    with tenant_context(alpha_committed):
        first.refresh_from_db()
        assert first.status == "expired"
        assert Booking.objects.filter(status="held").count() == 1


def test_reschedules_under_contention_never_overlap(alpha_committed):
    """Ten bookings race to move into the same free slot: one wins, nine stay where they were."""
    with tenant_context(alpha_committed):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Mover", email="mover@example.test")
        ada = catalogue["ada"].pk
        weekdays = [5, 6, 7, 8, 10, 11, 12, 13, 14, 15]  # June 2030, Sundays skipped
        bookings = [
            booking_hold(
                service=catalogue["service"],
                starts_at=paris(2030, 6, day, 10),
                customer=customer,
                staff_id=ada,
                now=NOW,
            )  # fmt: skip
            for day in weekdays
        ]
        original = {b.pk: b.starts_at for b in bookings}

    def attempt(index: int) -> None:
        with tenant_context(alpha_committed):
            booking_reschedule(booking=bookings[index], new_start=paris(2030, 6, 4, 10),
                                        actor=SYSTEM, staff_id=ada, now=NOW)  # fmt: skip

    outcomes = run_concurrently(10, attempt)
    assert outcomes["ok"] == 1
    with tenant_context(alpha_committed):
        moved = Booking.objects.filter(starts_at=paris(2030, 6, 4, 10))
        assert moved.count() == 1
        for booking in Booking.objects.exclude(pk=moved.get().pk):
            assert booking.starts_at == original[booking.pk]
