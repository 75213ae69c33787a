"""A credit booking moved into a day or week its grant's cap already fills is refused with a
clear message, and stays where it was: through the services, the customer's manage API (what
the manage page calls), the staff API and the back office's move page. Moving within the same
day does not count the booking twice."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from memberships.exceptions import CreditCapReached
from memberships.models import CreditSourceKind
from scheduling.actors import Actor
from scheduling.models import Booking
from scheduling.services.bookings import booking_confirm, booking_hold, booking_reschedule
from scheduling.services.integrations import api_key_create
from tests.factories import client_for, make_member, member_client
from tests.scheduling.conftest import NOW, build_catalogue, paris

from .conftest import grant_credits

DESK = Actor("Front desk", user_id=None)


def book_with_credit(catalogue, customer, start):
    booking = booking_hold(service=catalogue["service"], starts_at=start, customer=customer,
                           staff_id=catalogue["ada"].pk, now=NOW, use_credit=True)  # fmt: skip
    return booking_confirm(booking=booking)


def unlimited(customer, **caps):
    return grant_credits(customer, credits=None, key="membership-1", services=[],
                         source_kind=CreditSourceKind.MEMBERSHIP, **caps)  # fmt: skip


def test_moving_into_a_day_at_its_cap_is_refused_and_changes_nothing(catalogue, customer):
    unlimited(customer, cap_per_day=1)
    tuesday = book_with_credit(catalogue, customer, paris(2030, 6, 4, 10))
    wednesday = book_with_credit(catalogue, customer, paris(2030, 6, 5, 10))
    with pytest.raises(CreditCapReached, match="1 booking\\(s\\) a day"):
        booking_reschedule(booking=wednesday, new_start=paris(2030, 6, 4, 14), actor=DESK,
                           now=NOW)  # fmt: skip
    wednesday.refresh_from_db()
    assert wednesday.starts_at == paris(2030, 6, 5, 10)
    # The same day, later: the booking itself does not count against its own move.
    moved = booking_reschedule(booking=tuesday, new_start=paris(2030, 6, 4, 15), actor=DESK,
                               now=NOW)  # fmt: skip
    assert moved.starts_at == paris(2030, 6, 4, 15)
    # A day with room: allowed.
    moved = booking_reschedule(booking=wednesday, new_start=paris(2030, 6, 6, 10), actor=DESK,
                               now=NOW)  # fmt: skip
    assert moved.starts_at == paris(2030, 6, 6, 10)


def test_moving_into_a_week_at_its_cap_is_refused(catalogue, customer):
    unlimited(customer, cap_per_week=2)
    book_with_credit(catalogue, customer, paris(2030, 6, 4, 10))
    book_with_credit(catalogue, customer, paris(2030, 6, 5, 10))
    next_week = book_with_credit(catalogue, customer, paris(2030, 6, 11, 10))
    with pytest.raises(CreditCapReached, match="2 booking\\(s\\) a week"):
        booking_reschedule(booking=next_week, new_start=paris(2030, 6, 7, 10), actor=DESK,
                           now=NOW)  # fmt: skip
    next_week.refresh_from_db()
    assert next_week.starts_at == paris(2030, 6, 11, 10)


@pytest.fixture
def capped(tenant_alpha):
    """Committed through the test's transaction as the pages see it: a daily cap of 1, one
    booking on Tuesday, one on Wednesday (to be moved onto Tuesday)."""
    from scheduling.services.customers import customer_upsert

    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Chloé Client", email="chloe@example.test")
        unlimited(customer, cap_per_day=1)
        book_with_credit(catalogue, customer, paris(2030, 6, 4, 10))
        wednesday = book_with_credit(catalogue, customer, paris(2030, 6, 5, 10))
    return {"catalogue": catalogue, "booking": wednesday}


def _unchanged(tenant, booking) -> None:
    with tenant_context(tenant):
        assert Booking.objects.get(pk=booking.pk).starts_at == paris(2030, 6, 5, 10)


def test_customer_manage_api_refuses_the_move_with_the_cap_message(tenant_alpha, capped):
    booking = capped["booking"]
    response = client_for(tenant_alpha).post(
        f"/api/v1/bookings/{booking.reference}/reschedule/",
        json.dumps({"token": booking.manage_token, "start": paris(2030, 6, 4, 14).isoformat()}),
        content_type="application/json",
    )
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "credit_cap_reached"
    assert "1 booking(s) a day" in error["message"]
    _unchanged(tenant_alpha, booking)


def test_staff_api_refuses_the_move(tenant_alpha, capped):
    booking = capped["booking"]
    with tenant_context(tenant_alpha):
        secret = api_key_create(name="Zapier", created_by_user_id=None).secret
    response = client_for(tenant_alpha).post(
        f"/api/v1/staff/bookings/{booking.reference}/reschedule/",
        json.dumps({"start": paris(2030, 6, 4, 14).isoformat()}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "credit_cap_reached"
    _unchanged(tenant_alpha, booking)


def test_back_office_move_page_refuses_the_move_with_the_cap_message(tenant_alpha, capped):
    booking = capped["booking"]
    client = member_client(tenant_alpha, make_member(tenant_alpha, "front_desk"))
    response = client.post(f"/bookings/{booking.reference}/move/", {
        "staff": capped["catalogue"]["ada"].pk, "date": "2030-06-04", "slot": "14:00",
        "time": "",
    }, follow=True)  # fmt: skip
    assert response.status_code == 200
    assert "1 booking(s) a day" in response.content.decode()
    _unchanged(tenant_alpha, booking)


def test_moving_a_class_seat_into_a_week_at_its_cap_is_refused(alpha_schema, customer):
    from scheduling.models import Occurrence
    from scheduling.services.bookings import booking_move_seat, booking_take_seat

    catalogue = build_catalogue(capacity=3)
    service = catalogue["service"]
    sessions = {
        day: Occurrence.objects.create(service=service, staff=catalogue["ada"],
                                       starts_at=paris(2030, 6, day, 18),
                                       ends_at=paris(2030, 6, day, 19), capacity=3)
        for day in (4, 5, 11)
    }  # fmt: skip
    unlimited(customer, cap_per_week=1)
    booking_take_seat(occurrence=sessions[4], customer=customer, now=NOW, use_credit=True)
    next_week = booking_take_seat(occurrence=sessions[11], customer=customer, now=NOW,
                                  use_credit=True)  # fmt: skip
    with pytest.raises(CreditCapReached, match="1 booking\\(s\\) a week"):
        booking_move_seat(booking=next_week, occurrence=sessions[5], actor=DESK, now=NOW)
    next_week.refresh_from_db()
    assert next_week.occurrence_id == sessions[11].pk
