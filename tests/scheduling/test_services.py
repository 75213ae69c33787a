"""Booking lifecycle through the services, against real PostgreSQL constraints."""

import secrets
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange

from scheduling import slots
from scheduling.actors import CUSTOMER, Actor
from scheduling.exceptions import InvalidCustomer, InvalidTransition, SessionFull, SlotTaken
from scheduling.models import Booking, BookingStatus, Occurrence, Resource
from scheduling.selectors.availability import available_slots
from scheduling.services.bookings import (
    booking_cancel,
    booking_complete,
    booking_confirm,
    booking_expire_due_holds,
    booking_hold,
    booking_reschedule,
    booking_take_seat,
)
from scheduling.services.customers import customer_upsert

from .conftest import NOW, paris

STAFF = Actor("Front Desk", user_id=1)


def hold(catalogue, customer, start, **kwargs):
    return booking_hold(
        service=catalogue["service"], starts_at=start, customer=customer, now=NOW, **kwargs
    )


def test_hold_records_snapshot_reference_and_event(catalogue, customer):
    booking = hold(catalogue, customer, paris(2030, 6, 4, 10))
    assert booking.status == BookingStatus.HELD
    assert booking.reference.startswith("ALP-") and len(booking.reference) == 8
    assert booking.hold_expires_at == NOW + timedelta(minutes=10)
    assert booking.price_minor == 4500 and booking.currency == "EUR"
    assert booking.policy_snapshot[0] == {"hours_before": 48, "refund_percent": 100}
    assert booking.occupied.upper == paris(2030, 6, 4, 11, 15)  # 60 min + 15 min buffer
    assert [e.action for e in booking.events.all()] == ["creneau.booking.held"]


def test_any_staff_assigns_least_booked_then_second_hold_gets_other_staff(catalogue, customer):
    first = hold(catalogue, customer, paris(2030, 6, 4, 10))
    second = hold(catalogue, customer, paris(2030, 6, 4, 10))
    assert {first.staff_id, second.staff_id} == {catalogue["ada"].pk, catalogue["ben"].pk}
    with pytest.raises(slots.SlotUnavailable):
        hold(catalogue, customer, paris(2030, 6, 4, 10))


def test_database_refuses_overlap_even_without_python_checks(catalogue, customer):
    booking = hold(catalogue, customer, paris(2030, 6, 4, 10), staff_id=catalogue["ada"].pk)
    clone = Booking(
        reference="ALP-TEST", service=booking.service, staff=booking.staff,
        customer=customer, starts_at=booking.starts_at + timedelta(minutes=30),
        ends_at=booking.ends_at + timedelta(minutes=30),
        occupied=DateTimeTZRange(booking.starts_at + timedelta(minutes=30),
                                 booking.ends_at + timedelta(minutes=45), "[)"),
        status=BookingStatus.CONFIRMED, price_minor=0, currency="EUR",
        payment_mode="free", source="staff",
    )  # fmt: skip
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        clone.save()
    assert raised.value.__cause__.sqlstate == "23P01"


def test_buffer_blocks_the_adjacent_slot(catalogue, customer):
    hold(catalogue, customer, paris(2030, 6, 4, 10), staff_id=catalogue["ada"].pk)
    with pytest.raises(slots.SlotUnavailable):
        hold(catalogue, customer, paris(2030, 6, 4, 11), staff_id=catalogue["ada"].pk)
    later = hold(catalogue, customer, paris(2030, 6, 4, 11, 15), staff_id=catalogue["ada"].pk)
    assert later.status == "held"


def test_expired_hold_stops_blocking_immediately(catalogue, customer):
    first = hold(catalogue, customer, paris(2030, 6, 4, 10), staff_id=catalogue["ada"].pk)
    later = NOW + timedelta(minutes=11)
    second = booking_hold(
        service=catalogue["service"], starts_at=paris(2030, 6, 4, 10), customer=customer,
        staff_id=catalogue["ada"].pk, now=later,
    )  # fmt: skip
    first.refresh_from_db()
    assert first.status == BookingStatus.EXPIRED
    assert second.status == BookingStatus.HELD
    assert [e.action for e in first.events.all()][-1] == "creneau.booking.expired"


def test_sweeper_expires_due_holds_only(catalogue, customer):
    due = hold(catalogue, customer, paris(2030, 6, 4, 10))
    assert booking_expire_due_holds(now=NOW + timedelta(minutes=5)) == 0
    assert booking_expire_due_holds(now=NOW + timedelta(minutes=10)) == 1
    due.refresh_from_db()
    assert due.status == BookingStatus.EXPIRED


def test_lifecycle_transitions_and_refusals(catalogue, customer):
    booking = hold(catalogue, customer, paris(2030, 6, 4, 10))
    booking_confirm(booking=booking)
    assert booking_confirm(booking=booking).status == "confirmed"  # idempotent
    with pytest.raises(InvalidTransition):
        booking_complete(booking=booking, actor=STAFF, now=NOW)  # not started yet
    done = booking_complete(booking=booking, actor=STAFF, now=paris(2030, 6, 4, 11))
    assert done.status == "completed"
    with pytest.raises(InvalidTransition):
        booking_cancel(booking=done, actor=STAFF, by_business=True, now=NOW)
    actions = [(e.from_status, e.to_status) for e in booking.events.all()]
    assert actions == [("", "held"), ("held", "confirmed"), ("confirmed", "completed")]


@pytest.mark.parametrize(
    "hours_before,percent,amount",
    [(72, 100, 4500), (48, 100, 4500), (47, 50, 2250), (24, 50, 2250), (23, 0, 0)],
)
def test_cancellation_returns_refund_by_policy_tier(catalogue, customer, hours_before, percent,
                                                    amount):  # fmt: skip
    booking = hold(catalogue, customer, paris(2030, 6, 10, 10))
    booking_confirm(booking=booking)
    decision = booking_cancel(
        booking=booking, actor=CUSTOMER, by_business=False, paid_minor=4500,
        now=booking.starts_at - timedelta(hours=hours_before),
    )  # fmt: skip
    assert (decision.percent, decision.amount_minor) == (percent, amount)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert booking.events.last().data == {"refund_percent": percent, "refund_minor": amount}


def test_business_cancellation_refunds_in_full(catalogue, customer):
    booking = hold(catalogue, customer, paris(2030, 6, 4, 10))
    decision = booking_cancel(
        booking=booking, actor=STAFF, by_business=True, paid_minor=4500,
        now=booking.starts_at - timedelta(hours=1),
    )  # fmt: skip
    assert decision.amount_minor == 4500


def test_policy_snapshot_not_later_edits_decides(catalogue, customer):
    booking = hold(catalogue, customer, paris(2030, 6, 10, 10))
    catalogue["service"].cancellation_policy = [{"hours_before": 0, "refund_percent": 0}]
    catalogue["service"].save()
    decision = booking_cancel(
        booking=booking, actor=CUSTOMER, by_business=False, paid_minor=4500,
        now=booking.starts_at - timedelta(hours=72),
    )  # fmt: skip
    assert decision.amount_minor == 4500


def test_reschedule_moves_and_failed_reschedule_leaves_booking_untouched(catalogue, customer):
    ada = catalogue["ada"].pk
    booking = hold(catalogue, customer, paris(2030, 6, 4, 10), staff_id=ada)
    blocker = hold(catalogue, customer, paris(2030, 6, 4, 14), staff_id=ada)
    moved = booking_reschedule(
        booking=booking, new_start=paris(2030, 6, 4, 10, 30), actor=STAFF, staff_id=ada, now=NOW
    )  # overlapping its own old range is fine
    assert moved.starts_at == paris(2030, 6, 4, 10, 30)
    with pytest.raises(slots.SlotUnavailable):
        booking_reschedule(
            booking=booking, new_start=paris(2030, 6, 4, 14), actor=STAFF, staff_id=ada, now=NOW
        )
    booking.refresh_from_db()
    assert booking.starts_at == paris(2030, 6, 4, 10, 30) and booking.status == "held"
    assert blocker.status == "held"
    assert booking.events.filter(action="creneau.booking.rescheduled").count() == 1


def test_resource_with_one_unit_is_never_double_booked(catalogue, customer):
    room = Resource.objects.create(name="Room", quantity=1)
    catalogue["service"].resource = room
    catalogue["service"].save()
    hold(catalogue, customer, paris(2030, 6, 4, 10))  # takes Ada and the room
    with pytest.raises(slots.SlotUnavailable):
        hold(catalogue, customer, paris(2030, 6, 4, 10))  # Ben is free, the room is not


def test_resource_with_two_units(catalogue, customer):
    rooms = Resource.objects.create(name="Rooms", quantity=2)
    catalogue["service"].resource = rooms
    catalogue["service"].save()
    hold(catalogue, customer, paris(2030, 6, 4, 10))
    hold(catalogue, customer, paris(2030, 6, 4, 10))
    assert Booking.objects.filter(resource=rooms).count() == 2


def test_group_session_seats_up_to_capacity(alpha_schema, customer):
    from .conftest import build_catalogue

    catalogue = build_catalogue(capacity=3)
    occurrence = Occurrence.objects.create(
        service=catalogue["service"], staff=catalogue["ada"], starts_at=paris(2030, 6, 4, 18),
        ends_at=paris(2030, 6, 4, 19), capacity=2,
    )  # fmt: skip
    booking_take_seat(occurrence=occurrence, customer=customer, now=NOW)
    booking_take_seat(occurrence=occurrence, customer=customer, now=NOW)
    with pytest.raises(SessionFull):
        booking_take_seat(occurrence=occurrence, customer=customer, now=NOW)


def test_available_slots_hide_taken_times(catalogue, customer):
    ada = catalogue["ada"].pk
    day = paris(2030, 6, 4, 0).date()
    service = catalogue["service"]
    before = available_slots(service=service, start_date=day, end_date=day, now=NOW, staff_id=ada)
    hold(catalogue, customer, paris(2030, 6, 4, 10), staff_id=ada)
    after = available_slots(service=service, start_date=day, end_date=day, now=NOW, staff_id=ada)
    taken = {s.start_utc for s in before} - {s.start_utc for s in after}
    assert paris(2030, 6, 4, 10) in taken
    assert paris(2030, 6, 4, 11, 15) not in taken


def test_customer_is_one_per_email_and_phone_is_validated(alpha_schema):
    first = customer_upsert(name="A", email="Same@Example.test")
    second = customer_upsert(name="A B", email="same@example.test", phone="+33612345678")
    assert first.pk == second.pk and second.phone == "+33612345678"
    with pytest.raises(InvalidCustomer):
        customer_upsert(name="X", email="x@example.test", phone="12")


def test_slot_taken_error_is_409(catalogue):
    assert SlotTaken.http_status == 409 and SessionFull.http_status == 409


def test_beat_sweep_expires_holds_in_every_tenant(catalogue, customer, tenant_alpha, settings):
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from scheduling.tasks import expire_holds_in_every_tenant

    assert "expire-holds" in settings.CELERY_BEAT_SCHEDULE
    booking = hold(catalogue, customer, paris(2030, 6, 4, 10))
    real_now = timezone.now()  # the task sweeps at the real clock, not the fixture's NOW
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=real_now - timedelta(minutes=1))
    assert expire_holds_in_every_tenant.delay().get() == {"t_alpha": 1}
    with tenant_context(tenant_alpha):
        booking.refresh_from_db()
    assert booking.status == "expired"


def test_a_reference_already_used_is_drawn_again(catalogue, customer, monkeypatch):
    first = booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, 4, 10),
                         customer=customer, now=NOW)  # fmt: skip
    code = first.reference.split("-")[1]
    draws = iter(list(code) + list("ZZZZ"))  # the used code first, then a fresh one
    monkeypatch.setattr(secrets, "choice", lambda alphabet: next(draws))
    second = booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, 4, 14),
                          customer=customer, now=NOW)  # fmt: skip
    assert second.reference == f"{first.reference.split('-')[0]}-ZZZZ"
