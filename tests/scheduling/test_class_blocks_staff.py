"""A class a staff member teaches occupies them: no one-to-one booking in the same hours."""

from datetime import timedelta

import pytest

from scheduling import slots
from scheduling.models import Occurrence, Service
from scheduling.selectors.availability import available_slots
from scheduling.services.bookings import booking_hold

from .conftest import NOW, paris


@pytest.fixture
def yoga_class(catalogue):
    yoga = Service.objects.create(name="Yoga", duration_minutes=60, capacity=8,
                                  payment_mode="pay_at_venue")  # fmt: skip
    yoga.staff.add(catalogue["ada"])
    start = paris(2030, 6, 4, 10)
    return Occurrence.objects.create(service=yoga, staff=catalogue["ada"], starts_at=start,
                                     ends_at=start + timedelta(hours=1), capacity=8)  # fmt: skip


def test_an_empty_class_hides_the_teachers_appointment_slots(catalogue, yoga_class):
    day = yoga_class.starts_at.date()
    found = available_slots(service=catalogue["service"], start_date=day, end_date=day, now=NOW,
                            staff_id=catalogue["ada"].pk)  # fmt: skip
    starts = {slot.start_utc for slot in found}
    # 60-minute massage + 15-minute buffer after: 08:45 would run into the class, so would 10:30.
    assert paris(2030, 6, 4, 9) not in starts
    assert paris(2030, 6, 4, 10) not in starts
    assert paris(2030, 6, 4, 10, 30) not in starts
    assert paris(2030, 6, 4, 11) in starts
    assert paris(2030, 6, 4, 8, 45) not in starts


def test_holding_an_appointment_over_a_class_is_refused(catalogue, customer, yoga_class):
    with pytest.raises(slots.SlotError):
        booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, 4, 10),
                     customer=customer, staff_id=catalogue["ada"].pk, now=NOW)  # fmt: skip


def test_a_cancelled_class_frees_the_teacher(catalogue, customer, yoga_class):
    Occurrence.objects.filter(pk=yoga_class.pk).update(is_cancelled=True)
    booking = booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, 4, 10),
                           customer=customer, staff_id=catalogue["ada"].pk, now=NOW)  # fmt: skip
    assert booking.staff_id == catalogue["ada"].pk
