"""Moving a seat to another session of the same class: by the customer (API with the manage
token), by the team (booking page), and under contention. Sessions are in June 2030; the
services run with the fixtures' NOW (Monday 3 June 08:00 Paris) unless a test says otherwise."""

import json
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.db import connections
from django_tenants.utils import tenant_context

from scheduling import slots
from scheduling.actors import CUSTOMER, Actor
from scheduling.exceptions import InvalidTransition, SessionFull
from scheduling.models import Booking, BookingEvent, BookingStatus, Occurrence, PaymentMode
from scheduling.services.bookings import (
    booking_cancel,
    booking_confirm,
    booking_hold,
    booking_move_seat,
    booking_take_seat,
)
from scheduling.services.catalogue import occurrence_cancel
from scheduling.services.customers import customer_upsert
from scheduling.views import base as views_base
from tests.factories import client_for, make_member, member_client

from .conftest import NOW, build_catalogue, paris

FRONT_DESK = Actor("Fran Desk")


def build_class(**options) -> dict:
    """The shared catalogue as a class of 3 seats paid at the venue, with three sessions:
    Tuesday 18:00 (Ada), Thursday 18:00 (Ben) and Friday 18:00 (Ada)."""
    catalogue = build_catalogue(capacity=3, **options)
    service = catalogue["service"]
    service.payment_mode = PaymentMode.PAY_AT_VENUE
    service.save(update_fields=["payment_mode"])
    for key, day, staff in (("tuesday", 4, "ada"), ("thursday", 6, "ben"), ("friday", 7, "ada")):
        catalogue[key] = Occurrence.objects.create(
            service=service, staff=catalogue[staff], starts_at=paris(2030, 6, day, 18),
            ends_at=paris(2030, 6, day, 19), capacity=3,
        )  # fmt: skip
    return catalogue


def seat(session: Occurrence, customer, *, confirm: bool = True, now=NOW) -> Booking:
    booking = booking_take_seat(occurrence=session, customer=customer, now=now)
    return booking_confirm(booking=booking) if confirm else booking


def other_customer(n: int):
    return customer_upsert(name=f"Yogi {n}", email=f"yogi{n}@example.test")


@pytest.fixture
def group(alpha_schema):
    return build_class()


def snapshot(booking: Booking) -> tuple:
    booking.refresh_from_db()
    return (booking.occurrence_id, booking.staff_id, booking.starts_at, booking.ends_at,
            booking.occupied, booking.status)  # fmt: skip


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------
def test_a_seat_moves_to_another_session_with_its_times_teacher_and_history(group, customer):
    booking = seat(group["tuesday"], customer)
    price, policy = booking.price_minor, booking.policy_snapshot

    moved = booking_move_seat(
        booking=booking, occurrence=group["thursday"], actor=CUSTOMER, now=NOW
    )

    thursday = group["thursday"]
    assert moved.occurrence_id == thursday.pk and moved.staff_id == group["ben"].pk
    assert (moved.starts_at, moved.ends_at) == (thursday.starts_at, thursday.ends_at)
    assert (moved.occupied.lower, moved.occupied.upper) == (thursday.starts_at, thursday.ends_at)
    assert moved.status == BookingStatus.CONFIRMED
    assert (moved.price_minor, moved.policy_snapshot) == (price, policy)
    event = BookingEvent.objects.filter(booking=booking).order_by("-pk").first()
    assert event.action == "creneau.booking.rescheduled"
    assert event.data["from"]["occurrence"] == group["tuesday"].pk
    moved_to = event.data["to"]
    assert datetime.fromisoformat(moved_to["starts_at"]) == thursday.starts_at
    assert (moved_to["staff"], moved_to["occurrence"]) == (group["ben"].pk, thursday.pk)
    # The seat it left is free again for someone else.
    assert Booking.objects.filter(occurrence=group["tuesday"]).count() == 0


def test_a_full_or_cancelled_session_leaves_the_seat_where_it_was(group, customer):
    booking = seat(group["tuesday"], customer)
    for n in range(3):
        seat(group["thursday"], other_customer(n))
    before = snapshot(booking)

    with pytest.raises(SessionFull):
        booking_move_seat(booking=booking, occurrence=group["thursday"], actor=CUSTOMER,
                                   now=NOW)  # fmt: skip
    assert snapshot(booking) == before

    occurrence_cancel(occurrence=group["friday"], now=NOW)
    with pytest.raises(SessionFull, match="cancelled"):
        booking_move_seat(booking=booking, occurrence=group["friday"], actor=CUSTOMER,
                                   now=NOW)  # fmt: skip
    assert snapshot(booking) == before
    moves = BookingEvent.objects.filter(booking=booking, action="creneau.booking.rescheduled")
    assert not moves.exists()


def test_an_expired_hold_in_the_target_session_gives_its_seat_up(group, customer):
    booking = seat(group["tuesday"], customer)
    for n in range(3):  # three holds of 10 minutes, taken at NOW
        seat(group["thursday"], other_customer(n), confirm=False)
    later = NOW + timedelta(minutes=11)

    booking_move_seat(booking=booking, occurrence=group["thursday"], actor=CUSTOMER,
                               now=later)  # fmt: skip

    assert snapshot(booking)[0] == group["thursday"].pk
    statuses = Counter(Booking.objects.filter(occurrence=group["thursday"])
                       .values_list("status", flat=True))  # fmt: skip
    assert statuses == Counter({"expired": 3, "confirmed": 1})


def test_moves_that_make_no_sense_are_refused(group, customer, alpha_schema):
    booking = seat(group["tuesday"], customer)
    appointment_service = build_catalogue()["service"]  # another service, appointments
    foreign = Occurrence.objects.create(
        service=appointment_service, staff=group["ada"], starts_at=paris(2030, 6, 6, 9),
        ends_at=paris(2030, 6, 6, 10), capacity=3,
    )  # fmt: skip
    with pytest.raises(InvalidTransition, match="same class"):
        booking_move_seat(booking=booking, occurrence=foreign, actor=CUSTOMER, now=NOW)
    with pytest.raises(InvalidTransition, match="already in this session"):
        booking_move_seat(booking=booking, occurrence=group["tuesday"], actor=CUSTOMER,
                                   now=NOW)  # fmt: skip
    booking_cancel(booking=booking, actor=CUSTOMER, by_business=False, now=NOW)
    with pytest.raises(InvalidTransition):
        booking_move_seat(booking=booking, occurrence=group["thursday"], actor=CUSTOMER,
                                   now=NOW)  # fmt: skip
    appointment = booking_hold(service=appointment_service,
                                        starts_at=paris(2030, 6, 4, 10), customer=customer,
                                        now=NOW)  # fmt: skip
    with pytest.raises(InvalidTransition, match="seat in a session"):
        booking_move_seat(booking=appointment, occurrence=group["thursday"],
                                   actor=CUSTOMER, now=NOW)  # fmt: skip


def test_customers_keep_the_notice_the_team_does_not(group, customer):
    booking = seat(group["thursday"], customer)
    tuesday_afternoon = paris(2030, 6, 4, 17, 30)  # 30 minutes before Tuesday's class
    with pytest.raises(slots.SlotTooSoon):
        booking_move_seat(booking=booking, occurrence=group["tuesday"], actor=CUSTOMER,
                                   now=tuesday_afternoon)  # fmt: skip
    booking_move_seat(booking=booking, occurrence=group["tuesday"], actor=FRONT_DESK,
                               now=tuesday_afternoon)  # fmt: skip
    assert snapshot(booking)[0] == group["tuesday"].pk
    # Nobody moves a seat into a session that has started.
    with pytest.raises(slots.SlotInPast):
        booking_move_seat(booking=booking, occurrence=group["thursday"],
                                   actor=FRONT_DESK, now=paris(2030, 6, 6, 18, 5))  # fmt: skip


def test_the_customer_is_told_of_the_move(group, customer, django_capture_on_commit_callbacks):
    from django.core import mail

    booking = seat(group["tuesday"], customer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booking_move_seat(booking=booking, occurrence=group["thursday"],
                                   actor=FRONT_DESK, now=NOW)  # fmt: skip

    [message] = mail.outbox
    assert message.subject == "Booking moved: Massage now on Thursday 6 June at 18:00"
    assert "Before:    Tuesday 4 June 2030, 18:00 CEST" in message.body
    assert "Now:       Thursday 6 June 2030, 18:00 CEST" in message.body


# ---------------------------------------------------------------------------
# Public API (manage token)
# ---------------------------------------------------------------------------
def post_json(client, url: str, body) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


def test_the_customer_moves_a_seat_through_the_api(api, group, customer):
    # The API runs with the real clock: the sessions in 2030 are within the 10-year horizon.
    booking = seat(group["tuesday"], customer)
    url = f"/api/v1/bookings/{booking.reference}/reschedule/"

    response = post_json(api, url, {"token": booking.manage_token,
                                    "occurrence": group["thursday"].pk})  # fmt: skip

    assert response.status_code == 200, response.json()
    assert response.json()["starts_at"] == "2030-06-06T16:00:00Z"
    assert response.json()["staff"] == "Ben"
    assert snapshot(booking)[0] == group["thursday"].pk


@pytest.mark.parametrize(
    ("target", "status", "code", "field"),
    [
        ("none", 400, "missing", "occurrence"),
        ("start only", 400, "missing", "occurrence"),
        ("unknown", 404, "not_found", "occurrence"),
        ("text", 400, "invalid", "occurrence"),
        ("full", 409, "session_full", None),
        ("same", 409, "invalid_transition", None),
    ],
)
def test_bad_seat_moves_are_refused_and_change_nothing(api, group, customer, target, status,
                                                       code, field):  # fmt: skip
    booking = seat(group["tuesday"], customer)
    for n in range(3):
        seat(group["thursday"], other_customer(n))
    body = {
        "none": {},
        "start only": {"start": "2030-06-06T16:00:00Z"},
        "unknown": {"occurrence": 99_999_999},
        "text": {"occurrence": "next week"},
        "full": {"occurrence": group["thursday"].pk},
        "same": {"occurrence": group["tuesday"].pk},
    }[target]
    before = snapshot(booking)

    response = post_json(api, f"/api/v1/bookings/{booking.reference}/reschedule/",
                         {"token": booking.manage_token, **body})  # fmt: skip

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert error.get("field") == field
    assert snapshot(booking) == before


def test_a_wrong_token_cannot_move_a_seat(api, group, customer):
    booking = seat(group["tuesday"], customer)
    response = post_json(api, f"/api/v1/bookings/{booking.reference}/reschedule/",
                         {"token": "x" * 43, "occurrence": group["thursday"].pk})  # fmt: skip
    assert response.status_code == 404
    assert snapshot(booking)[0] == group["tuesday"].pk


def test_refusals_speak_the_customers_language(api, group, customer):
    booking = seat(group["tuesday"], customer)
    response = api.post(
        f"/api/v1/bookings/{booking.reference}/reschedule/",
        json.dumps({"token": booking.manage_token, "occurrence": group["tuesday"].pk}),
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr",
    )  # fmt: skip
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "La réservation est déjà dans cette séance."


def test_the_manage_page_offers_to_move_a_seat(api, group, customer):
    booking = seat(group["tuesday"], customer)
    response = api.get(f"/widget/bookings/{booking.reference}/",
                       {"token": booking.manage_token})  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reschedulable"] is True
    assert body["occurrence_id"] == group["tuesday"].pk


# ---------------------------------------------------------------------------
# Back office
# ---------------------------------------------------------------------------
@pytest.fixture
def desk(tenant_alpha, monkeypatch):
    monkeypatch.setattr(views_base, "now", lambda: NOW)
    return member_client(tenant_alpha, make_member(tenant_alpha, "front_desk", name="Fran Desk"))


def test_the_team_moves_a_seat_from_the_booking_page(desk, group, customer):
    booking = seat(group["tuesday"], customer)
    for n in range(3):
        seat(group["friday"], other_customer(n))  # full: not offered
    detail = desk.get(f"/bookings/{booking.reference}/")
    assert f'href="/bookings/{booking.reference}/move/"' in detail.content.decode()

    page = desk.get(f"/bookings/{booking.reference}/move/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{group["thursday"].pk}"' in html and "3 seats left" in html
    assert f'value="{group["friday"].pk}"' not in html  # full
    assert f'value="{group["tuesday"].pk}"' not in html  # its own session

    moved = desk.post(f"/bookings/{booking.reference}/move/",
                      {"occurrence": group["thursday"].pk}, follow=True)  # fmt: skip
    assert moved.status_code == 200
    assert "moved to the session of Thursday 06 June at 18:00 with Ben" in moved.content.decode()
    assert snapshot(booking)[0] == group["thursday"].pk
    event = BookingEvent.objects.filter(booking=booking).order_by("-pk").first()
    assert event.action == "creneau.booking.rescheduled" and event.actor_label == "Fran Desk"


@pytest.mark.parametrize("value", ["", "abc", "99999999", "9" * 40])
def test_the_team_gets_a_clear_error_for_a_bad_choice(desk, group, customer, value):
    booking = seat(group["tuesday"], customer)
    before = snapshot(booking)
    response = desk.post(f"/bookings/{booking.reference}/move/", {"occurrence": value})
    assert response.status_code == 400
    assert "Choose the session to move this seat to." in response.content.decode()
    assert snapshot(booking) == before


def test_the_team_is_told_when_the_session_filled_meanwhile(desk, group, customer):
    booking = seat(group["tuesday"], customer)
    for n in range(3):
        seat(group["thursday"], other_customer(n))
    response = desk.post(f"/bookings/{booking.reference}/move/",
                         {"occurrence": group["thursday"].pk})  # fmt: skip
    assert response.status_code == 400
    assert "This session is full." in response.content.decode()
    assert snapshot(booking)[0] == group["tuesday"].pk


def test_staff_members_cannot_move_seats(tenant_alpha, group, customer):
    staff = member_client(tenant_alpha, make_member(tenant_alpha, "staff", name="Sam Staff"))
    booking = seat(group["tuesday"], customer)
    response = staff.post(f"/bookings/{booking.reference}/move/",
                          {"occurrence": group["thursday"].pk})  # fmt: skip
    assert response.status_code in (403, 404)
    assert snapshot(booking)[0] == group["tuesday"].pk


# ---------------------------------------------------------------------------
# Contention: real threads, real PostgreSQL
# ---------------------------------------------------------------------------
def test_ten_seats_racing_into_two_free_seats_move_exactly_two(alpha_committed):
    with tenant_context(alpha_committed):
        group = build_catalogue(capacity=12)
        tuesday = Occurrence.objects.create(
            service=group["service"], staff=group["ada"], starts_at=paris(2030, 6, 4, 18),
            ends_at=paris(2030, 6, 4, 19), capacity=12,
        )  # fmt: skip
        thursday = Occurrence.objects.create(
            service=group["service"], staff=group["ben"], starts_at=paris(2030, 6, 6, 18),
            ends_at=paris(2030, 6, 6, 19), capacity=3,
        )  # fmt: skip
        seat(thursday, other_customer(100))
        movers = [seat(tuesday, other_customer(n)) for n in range(10)]
    barrier = threading.Barrier(len(movers))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def move(booking: Booking) -> None:
        try:
            with tenant_context(alpha_committed):
                barrier.wait()
                try:
                    booking_move_seat(booking=booking, occurrence=thursday,
                                               actor=CUSTOMER, now=NOW)  # fmt: skip
                    outcome = "moved"
                except SessionFull:
                    outcome = "full"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=move, args=(b,)) for b in movers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == Counter({"moved": 2, "full": 8})
    with tenant_context(alpha_committed):
        assert Booking.objects.filter(occurrence=thursday, status="confirmed").count() == 3
        assert Booking.objects.filter(occurrence=tuesday, status="confirmed").count() == 8
