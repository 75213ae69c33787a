"""The staff back office of bookings through its pages: calendar, list, booking page, actions.

The pages' clock (`scheduling.views.base.now`) is pinned to the fixtures' NOW (Monday 2030-06-03
08:00 Paris) unless a test moves it; bookings are made through the services with the same `now`.
"""

import os
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from scheduling import calendar_layout
from scheduling.actors import CUSTOMER, Actor
from scheduling.exceptions import SlotTaken
from scheduling.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    Customer,
    Occurrence,
    Resource,
    Service,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from scheduling.services.bookings import (
    booking_cancel,
    booking_confirm,
    booking_hold,
    booking_reschedule,
    booking_take_seat,
)
from scheduling.services.customers import customer_upsert
from scheduling.views import base as views_base
from scheduling.views import bookings as views_bookings
from tests.factories import host_of, make_member, member_client, signed_in

from .conftest import NOW, PARIS, build_catalogue, paris

SYSTEM_DESK = Actor("Setup", user_id=None)
TAKEN = "That time was just taken"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    clock = {"now": NOW}
    monkeypatch.setattr(views_base, "now", lambda: clock["now"])
    return clock


@pytest.fixture
def desk_user(tenant_alpha):
    return make_member(tenant_alpha, "front_desk", name="Fran Desk")


@pytest.fixture
def desk(tenant_alpha, desk_user):
    return member_client(tenant_alpha, desk_user)


@pytest.fixture
def staff_user(tenant_alpha):
    return make_member(tenant_alpha, "staff", name="Ada Lovelace")


def book(catalogue, customer, start, staff="ada", *, now=NOW, confirm=True) -> Booking:
    booking = booking_hold(
        service=catalogue["service"], starts_at=start, customer=customer,
        staff_id=catalogue[staff].pk, now=now, source="staff", actor=SYSTEM_DESK,
    )  # fmt: skip
    if confirm:
        booking = booking_confirm(booking=booking, actor=SYSTEM_DESK)
    return booking


def column_html(content: str, staff_pk: int) -> str:
    """The HTML of one staff column of the day view."""
    html = content.decode() if isinstance(content, bytes) else content
    start = html.index(f'data-staff="{staff_pk}"')
    following = html.find('class="cal-col"', start)
    return html[start : following if following != -1 else len(html)]


def week_sections(content: bytes) -> list[str]:
    return content.decode().split('<section class="cal-weekday')[1:]


def block_style(content: bytes, reference: str) -> str:
    match = re.search(
        rf'<a class="cal-booking[^"]*"[^>]*style="([^"]*)"\s+data-reference="{reference}"',
        content.decode(),
    )
    assert match, f"{reference} is not on the day view"
    return match.group(1)


def block_status(html: str, reference: str) -> str:
    """The status class of a booking's block on the day view."""
    match = re.search(
        rf'<a class="cal-booking status-(\w+)"[^>]*data-reference="{reference}"', html
    )
    assert match, f"{reference} is not on the day view"
    return match.group(1)


def new_booking_data(catalogue, **overrides) -> dict:
    data = {
        "service": catalogue["service"].pk,
        "staff": catalogue["ada"].pk,
        "date": "2030-06-04",
        "slot": "10:00",
        "time": "",
        "name": "Paul Phone",
        "email": "paul@example.test",
        "phone": "06 12 34 56 78",
        "notes": "Called at 9",
        "book": "1",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------
def test_day_view_shows_that_days_bookings_at_their_paris_wall_time(desk, catalogue, customer):
    tuesday = book(catalogue, customer, paris(2030, 6, 4, 10))  # 08:00 UTC
    wednesday = book(catalogue, customer, paris(2030, 6, 5, 10))
    response = desk.get("/calendar/?view=day&date=2030-06-04")
    assert response.status_code == 200
    ada_column = column_html(response.content, catalogue["ada"].pk)
    assert tuesday.reference in ada_column
    assert "10:00–11:00" in ada_column
    assert wednesday.reference not in response.content.decode()
    assert tuesday.reference not in column_html(response.content, catalogue["ben"].pk)
    # Window 08:00–20:00 (12 h): 10:00 is 2/12 down the column and lasts 1/12 of it.
    style = block_style(response.content, tuesday.reference)
    assert "--top:16.667%" in style and "--height:8.333%" in style
    # Working hours 09:00–18:00 are the unshaded part of each column.
    assert 'class="cal-open" style="--top:8.333%;--height:75.000%"' in ada_column


def test_day_view_on_the_spring_forward_day_places_bookings_by_local_date(
    desk, catalogue, customer
):
    ada = catalogue["ada"]
    WorkingHours.objects.create(staff=ada, weekday=6, start=time(0), end=time(0))  # all Sunday
    march = paris(2030, 3, 1, 8)
    after_midnight = book(catalogue, customer, paris(2030, 3, 31, 0, 30), now=march)
    after_the_gap = book(catalogue, customer, paris(2030, 3, 31, 3, 30), now=march)
    assert after_midnight.starts_at.astimezone(ZoneInfo("UTC")).date() == date(2030, 3, 30)

    sunday = desk.get("/calendar/?view=day&date=2030-03-31")
    html = sunday.content.decode()
    assert "this day has 23 hours" in html
    assert "00:30–01:30" in html and "03:30–04:30" in html
    # Ada works all day, so the grid spans 00:00–24:00 on the wall clock.
    assert "--top:14.583%" in block_style(sunday.content, after_the_gap.reference)  # 03:30
    saturday = desk.get("/calendar/?view=day&date=2030-03-30").content.decode()
    assert after_midnight.reference not in saturday
    assert after_the_gap.reference not in saturday


def test_day_view_on_the_fall_back_day_has_25_hours(desk, catalogue, customer):
    WorkingHours.objects.create(staff=catalogue["ben"], weekday=6, start=time(9), end=time(18))
    booking = book(catalogue, customer, paris(2030, 10, 27, 10), staff="ben")
    html = desk.get("/calendar/?view=day&date=2030-10-27").content.decode()
    assert "this day has 25 hours" in html
    assert booking.reference in column_html(html, catalogue["ben"].pk)
    assert "10:00–11:00" in html


def test_tapping_a_free_half_hour_starts_a_booking_there(desk, catalogue):
    html = desk.get("/calendar/?date=2030-06-04").content.decode()
    ben = catalogue["ben"].pk
    url = f"/bookings/new/?date=2030-06-04&amp;staff={ben}&amp;slot=14%3A30"
    assert f'href="{url}"' in column_html(html, ben)
    # No service chosen yet: the tapped time waits in the typed-time field.
    form = desk.get(url.replace("&amp;", "&")).content.decode()
    assert f'<option value="{ben}" selected>' in form
    assert re.search(r'value="other" id="slot-other"\s+checked', form)
    assert 'name="time" value="14:30"' in form
    # Once the service is known, the tapped time is ticked among the free times.
    service = catalogue["service"].pk
    with_service = desk.get(url.replace("&amp;", "&") + f"&service={service}").content.decode()
    assert re.search(r'value="14:30"\s+checked', with_service)


def test_week_view_lists_each_booking_under_its_local_day(desk, catalogue, customer):
    tuesday = book(catalogue, customer, paris(2030, 6, 4, 10))
    wednesday = book(catalogue, customer, paris(2030, 6, 5, 16), staff="ben")
    next_monday = book(catalogue, customer, paris(2030, 6, 10, 10))
    response = desk.get("/calendar/?view=week&date=2030-06-05")
    assert response.status_code == 200
    days = week_sections(response.content)
    assert len(days) == 7
    assert "Mon 3 Jun" in days[0] and "Sun 9 Jun" in days[6]
    assert tuesday.reference in days[1] and "10:00–11:00" in days[1]
    assert wednesday.reference in days[2] and "16:00–17:00" in days[2]
    assert next_monday.reference not in response.content.decode()


def test_cancelled_bookings_are_hidden_unless_asked_for(desk, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    booking_cancel(booking=booking, actor=SYSTEM_DESK, by_business=True, now=NOW)
    assert booking.reference not in desk.get("/calendar/?date=2030-06-04").content.decode()
    shown = desk.get("/calendar/?date=2030-06-04&show_cancelled=on").content.decode()
    assert block_status(shown, booking.reference) == "cancelled"


def test_day_view_shades_time_off_and_merges_the_seats_of_a_class(desk, catalogue, customer):
    TimeOff.objects.create(staff=catalogue["ben"], starts_at=paris(2030, 6, 4, 13),
                           ends_at=paris(2030, 6, 4, 15), reason="Dentist")  # fmt: skip
    yoga = Service.objects.create(name="Yoga", duration_minutes=60, capacity=8)
    session = Occurrence.objects.create(
        service=yoga, staff=catalogue["ada"], starts_at=paris(2030, 6, 4, 18),
        ends_at=paris(2030, 6, 4, 19), capacity=8,
    )  # fmt: skip
    for email in ("one@example.test", "two@example.test", "three@example.test"):
        seat_holder = customer_upsert(name=email, email=email)
        booking_take_seat(occurrence=session, customer=seat_holder, now=NOW)
    html = desk.get("/calendar/?date=2030-06-04").content.decode()
    ben_column = column_html(html, catalogue["ben"].pk)
    assert "Off · Dentist" in ben_column
    ada_column = column_html(html, catalogue["ada"].pk)
    assert ada_column.count('class="cal-booking') == 1
    assert "3 booked" in ada_column and "18:00–19:00" in ada_column


def test_calendar_filters_by_resource(desk, catalogue, customer):
    room = Resource.objects.create(name="Cabin")
    facial = Service.objects.create(
        name="Facial", duration_minutes=30, resource=room, maximum_advance_days=3650
    )
    facial.staff.add(catalogue["ben"])
    massage = book(catalogue, customer, paris(2030, 6, 4, 10))
    in_cabin = booking_hold(service=facial, starts_at=paris(2030, 6, 4, 14),
                                     customer=customer, now=NOW)  # fmt: skip
    html = desk.get(f"/calendar/?date=2030-06-04&resource={room.pk}").content.decode()
    assert in_cabin.reference in html and massage.reference not in html
    assert block_status(html, in_cabin.reference) == "held"


def test_front_desk_sees_everyone_and_can_filter_by_staff(desk, catalogue, customer):
    ada_booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    ben_booking = book(catalogue, customer, paris(2030, 6, 4, 11), staff="ben")
    everyone = desk.get("/calendar/?date=2030-06-04").content.decode()
    assert ada_booking.reference in everyone and ben_booking.reference in everyone
    only_ben = desk.get(f"/calendar/?date=2030-06-04&staff={catalogue['ben'].pk}")
    html = only_ben.content.decode()
    assert ben_booking.reference in html and ada_booking.reference not in html
    # The previous / next links keep the filter.
    assert (
        f"staff={catalogue['ben'].pk}" in html.split('aria-label="Next day"')[0].rsplit("<a", 1)[1]
    )


def test_staff_member_sees_only_their_own_calendar(tenant_alpha, staff_user, catalogue, customer):
    ada = catalogue["ada"]
    ada.user = staff_user
    ada.save()
    own = book(catalogue, customer, paris(2030, 6, 4, 10))
    other = book(catalogue, customer, paris(2030, 6, 4, 10), staff="ben")
    client = member_client(tenant_alpha, staff_user)
    for url in ("/calendar/?date=2030-06-04", f"/calendar/?date=2030-06-04&staff={other.staff_id}"):
        html = client.get(url).content.decode()
        assert own.reference in html
        assert other.reference not in html
        assert 'name="staff"' not in html and 'name="resource"' not in html
    week = client.get("/calendar/?view=week&date=2030-06-04").content.decode()
    assert own.reference in week and other.reference not in week
    assert client.get(f"/bookings/{own.reference}/").status_code == 200
    assert client.get(f"/bookings/{other.reference}/").status_code == 404


def test_staff_member_without_a_profile_gets_a_friendly_message(
    tenant_alpha, staff_user, catalogue
):
    response = member_client(tenant_alpha, staff_user).get("/calendar/")
    assert response.status_code == 200
    assert "not linked to a staff profile" in response.content.decode()


def test_staff_member_cannot_act_on_bookings(tenant_alpha, staff_user, catalogue, customer):
    catalogue["ada"].user = staff_user
    catalogue["ada"].save()
    held = book(catalogue, customer, paris(2030, 6, 4, 10), confirm=False)
    client = member_client(tenant_alpha, staff_user)
    for action in ("confirm", "complete", "no-show", "cancel", "move"):
        assert client.post(f"/bookings/{held.reference}/{action}/").status_code == 403, action
    assert client.get("/bookings/new/").status_code == 403
    assert client.get("/bookings/").status_code == 403
    held.refresh_from_db()
    assert held.status == BookingStatus.HELD
    page = client.get(f"/bookings/{held.reference}/").content.decode()
    assert 'action="/bookings/' not in page and f"/bookings/{held.reference}/cancel/" not in page


def test_bad_calendar_parameters_are_reported_not_a_500(desk, catalogue):
    for query in ("date=yesterday", "date=9999-12-31", "staff=abc", "view=month&staff=999999"):
        response = desk.get(f"/calendar/?{query}")
        assert response.status_code == 200, query
        assert 'class="errorlist"' in response.content.decode(), query


# ---------------------------------------------------------------------------
# Booking list and page
# ---------------------------------------------------------------------------
def test_list_shows_upcoming_soonest_first_then_past_and_filters(
    desk, pinned_clock, catalogue, customer
):
    later = book(catalogue, customer, paris(2030, 6, 6, 10))
    sooner = book(catalogue, customer, paris(2030, 6, 4, 10))
    other = customer_upsert(name="Zoé Autre", email="zoe@example.test")
    zoe = booking_confirm(
        booking=booking_hold(
            service=catalogue["service"], starts_at=paris(2030, 6, 5, 10), customer=other,
            staff_id=catalogue["ben"].pk, now=NOW,
        ),
        actor=SYSTEM_DESK,
    )  # fmt: skip
    pinned_clock["now"] = paris(2030, 6, 5, 12)  # Tuesday's is past, Thursday's upcoming
    html = desk.get("/bookings/").content.decode()
    order = [html.index(b.reference) for b in (later, zoe, sooner)]
    assert order == sorted(order)

    by_name = desk.get("/bookings/?q=zo%C3%A9").content.decode()
    assert zoe.reference in by_name and later.reference not in by_name
    by_reference = desk.get(f"/bookings/?q={sooner.reference.lower()}").content.decode()
    assert sooner.reference in by_reference and zoe.reference not in by_reference
    by_day = desk.get("/bookings/?date_from=2030-06-06&date_to=2030-06-06").content.decode()
    assert later.reference in by_day and zoe.reference not in by_day
    by_staff = desk.get(f"/bookings/?staff={catalogue['ben'].pk}").content.decode()
    assert zoe.reference in by_staff and later.reference not in by_staff
    booking_cancel(booking=later, actor=SYSTEM_DESK, by_business=True, now=NOW)
    cancelled = desk.get("/bookings/?status=cancelled").content.decode()
    assert later.reference in cancelled and zoe.reference not in cancelled


def test_list_paginates_and_reports_bad_filters(desk, catalogue, customer, monkeypatch):
    monkeypatch.setattr(views_bookings, "BOOKINGS_PER_PAGE", 2)
    made = [book(catalogue, customer, paris(2030, 6, 4, hour)) for hour in (9, 11, 13)]
    first = desk.get("/bookings/").content.decode()
    second = desk.get("/bookings/?page=2").content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert made[2].reference in second and made[2].reference not in first
    backwards = desk.get("/bookings/?date_from=2030-06-05&date_to=2030-06-01&page=x")
    assert backwards.status_code == 200
    assert "The end date is before the start date." in backwards.content.decode()


def test_booking_page_shows_details_and_history(desk, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    booking_reschedule(booking=booking, new_start=paris(2030, 6, 4, 14), now=NOW,
                                actor=Actor("Fran Desk", user_id=None),
                                staff_id=catalogue["ben"].pk)  # fmt: skip
    html = desk.get(f"/bookings/{booking.reference}/").content.decode()
    for expected in ("Chloé Client", "chloe@example.test", "+33612345678", "Massage", "Ben",
                     "14:00–15:00", "Pay online in full", "<dt>Source</dt><dd>Staff</dd>",
                     "Europe/Paris", "created as held", "held → confirmed",
                     "moved Tue 04 Jun 10:00 (Ada) → Tue 04 Jun 14:00 (Ben)"):  # fmt: skip
        assert expected in html, expected
    # The price line is for roles that see money; the front desk sees what to collect.
    assert "Pay online in full · €45.00" not in html
    assert "€45.00 to collect at the venue" in html
    assert f'href="/bookings/{booking.reference}/cancel/"' in html  # the front desk may act
    assert f'href="/bookings/{booking.reference}/move/"' in html


def test_owner_sees_the_price(tenant_alpha, owner_alpha, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    assert "€45.00" in client.get(f"/bookings/{booking.reference}/").content.decode()


def test_booking_of_another_business_is_404(tenant_alpha, tenant_beta, owner_alpha, desk):
    with tenant_context(tenant_beta):
        beta = build_catalogue()
        customer = customer_upsert(name="Bea", email="bea@example.test")
        booking = book(
            beta, customer, datetime(2030, 6, 4, 10, tzinfo=ZoneInfo("America/New_York"))
        )
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    assert client.get(f"/bookings/{booking.reference}/").status_code == 404
    assert desk.post(f"/bookings/{booking.reference}/cancel/").status_code == 404
    with tenant_context(tenant_beta):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CONFIRMED


# ---------------------------------------------------------------------------
# New booking for a phoned-in customer
# ---------------------------------------------------------------------------
def test_new_booking_lists_free_times_of_the_chosen_day(desk, catalogue, customer):
    book(catalogue, customer, paris(2030, 6, 4, 10))
    url = f"/bookings/new/?service={catalogue['service'].pk}&staff={catalogue['ada'].pk}"
    html = desk.get(url + "&date=2030-06-04").content.decode()
    assert 'value="09:00"' not in html  # 09:00 + 60 min + 15 min buffer runs into 10:00
    assert 'value="11:15"' in html  # first start after 10:00–11:00 + 15 min buffer
    assert 'value="10:00"' not in html and 'value="10:30"' not in html


def test_new_booking_is_confirmed_at_once_for_the_customer(desk, desk_user, catalogue):
    response = desk.post("/bookings/new/", new_booking_data(catalogue))
    booking = Booking.objects.get(customer__email="paul@example.test")
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.reference}/"
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.source == "staff"
    assert booking.starts_at == paris(2030, 6, 4, 10)
    assert booking.staff == catalogue["ada"]
    assert booking.notes == "Called at 9"
    assert booking.customer.phone == "+33612345678"  # national format read with the FR region
    events = list(booking.events.values_list("action", "actor_label", "actor_user_id"))
    assert events == [
        ("creneau.booking.held", "Fran Desk", desk_user.pk),
        ("creneau.booking.confirmed", "Fran Desk", desk_user.pk),
    ]


def test_new_booking_with_anyone_and_a_typed_time(desk, catalogue):
    data = new_booking_data(catalogue, staff="", slot="other", time="15:30")
    assert desk.post("/bookings/new/", data).status_code == 302
    booking = Booking.objects.get(customer__email="paul@example.test")
    assert booking.starts_at == paris(2030, 6, 4, 15, 30)
    assert booking.staff_id in (catalogue["ada"].pk, catalogue["ben"].pk)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, TAKEN),  # Ada is booked at 10:00 by the test
        ({"date": "2030-06-05", "slot": "other", "time": "10:07"}, "not one of the offered"),
        ({"date": "2030-06-05", "slot": "other", "time": "19:00"}, "outside opening hours"),
        ({"date": "2030-06-05", "phone": "12"}, "This phone number is not valid."),
        ({"date": "2030-06-05", "email": "not-an-email"}, "Enter a valid email address."),
        ({"date": "2030-06-05", "slot": ""}, "Pick one of the available times or type a time."),
        ({"date": "2030-06-02", "slot": "other", "time": "10:00"}, "in the past"),
        ({"date": "2030-06-05", "slot": "9:00"}, "Pick one of the listed times."),
    ],
)
def test_refused_new_booking_is_a_form_error_and_writes_nothing(
    desk, catalogue, customer, overrides, message
):
    book(catalogue, customer, paris(2030, 6, 4, 10))
    customers, bookings = Customer.objects.count(), Booking.objects.count()
    response = desk.post("/bookings/new/", new_booking_data(catalogue, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Customer.objects.count() == customers
    assert Booking.objects.count() == bookings


def test_team_books_a_walk_in_inside_the_online_notice_window(desk, catalogue):
    """Minimum notice protects the team from customers; the team itself may book at short notice."""
    Service.objects.filter(pk=catalogue["service"].pk).update(minimum_notice_minutes=240)
    data = new_booking_data(catalogue, date="2030-06-03", slot="other", time="09:00")
    assert desk.post("/bookings/new/", data).status_code == 302
    booking = Booking.objects.get(customer__email="paul@example.test")
    assert booking.starts_at == paris(2030, 6, 3, 9)
    assert booking.status == "confirmed"


def test_existing_customer_is_not_changed_by_a_refused_booking(desk, catalogue, customer):
    book(catalogue, customer, paris(2030, 6, 4, 10))
    data = new_booking_data(catalogue, email=customer.email, name="Renamed", phone="")
    assert desk.post("/bookings/new/", data).status_code == 400
    customer.refresh_from_db()
    assert customer.name == "Chloé Client"


def test_a_time_skipped_by_the_clocks_is_refused(desk, catalogue):
    WorkingHours.objects.create(staff=catalogue["ada"], weekday=6, start=time(0), end=time(0))
    data = new_booking_data(catalogue, date="2031-03-30", slot="other", time="02:30")
    response = desk.post("/bookings/new/", data)
    assert response.status_code == 400
    assert "does not exist" in response.content.decode()


def test_group_service_is_refused_with_a_clear_message(desk, catalogue):
    group = build_catalogue(capacity=8)["service"]
    response = desk.post("/bookings/new/", new_booking_data(catalogue, service=group.pk))
    assert response.status_code == 400
    assert "group class" in response.content.decode()
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------
# Move
# ---------------------------------------------------------------------------
def test_move_to_another_day_and_staff(desk, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    page = desk.get(f"/bookings/{booking.reference}/move/")
    assert page.status_code == 200 and 'value="11:15"' in page.content.decode()
    data = {"staff": catalogue["ben"].pk, "date": "2030-06-05", "slot": "14:00", "move": "1"}
    response = desk.post(f"/bookings/{booking.reference}/move/", data)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == paris(2030, 6, 5, 14)
    assert booking.staff == catalogue["ben"]
    assert booking.events.last().action == "creneau.booking.rescheduled"


def test_move_lists_times_overlapping_the_bookings_own_current_time(desk, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    html = desk.get(f"/bookings/{booking.reference}/move/").content.decode()
    assert 'value="10:30"' in html  # only the booking itself is in the way


def test_move_to_a_taken_time_leaves_the_booking_untouched(desk, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    book(catalogue, customer, paris(2030, 6, 5, 14))
    events = booking.events.count()
    data = {"staff": catalogue["ada"].pk, "date": "2030-06-05", "slot": "14:00", "move": "1"}
    response = desk.post(f"/bookings/{booking.reference}/move/", data)
    assert response.status_code == 400
    assert TAKEN in response.content.decode()
    booking.refresh_from_db()
    assert booking.starts_at == paris(2030, 6, 4, 10)
    assert booking.staff == catalogue["ada"]
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.events.count() == events


def test_move_when_the_time_is_taken_at_the_last_moment(desk, catalogue, customer, monkeypatch):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))

    def lost_the_race(**kwargs):
        raise SlotTaken()

    monkeypatch.setattr(views_bookings, "booking_reschedule", lost_the_race)
    data = {"staff": catalogue["ada"].pk, "date": "2030-06-05", "slot": "14:00", "move": "1"}
    response = desk.post(f"/bookings/{booking.reference}/move/", data)
    assert response.status_code == 400
    assert TAKEN in response.content.decode()


# ---------------------------------------------------------------------------
# Cancel, confirm, complete, no-show
# ---------------------------------------------------------------------------
def test_cancel_shows_the_policy_outcome_then_cancels_with_a_reason(desk, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))  # 26 h after NOW
    page = desk.get(f"/bookings/{booking.reference}/cancel/").content.decode()
    assert "gets back <strong>100%</strong>" in page  # the business cancels: full refund
    assert "would refund <strong>50%</strong>" in page  # the customer's 24 h tier
    response = desk.post(
        f"/bookings/{booking.reference}/cancel/", {"reason": "Ada is ill"}, follow=True
    )
    assert response.redirect_chain == [(f"/bookings/{booking.reference}/", 302)]
    assert "is due 100% of what they paid back" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    event = BookingEvent.objects.get(booking=booking, action="creneau.booking.cancelled")
    assert event.reason == "Ada is ill"
    assert event.actor_label == "Fran Desk"
    assert event.from_status == BookingStatus.CONFIRMED
    assert event.data == {"refund_percent": 100, "refund_minor": 0}


def test_an_unreadable_policy_snapshot_is_reported_not_a_500(desk, catalogue, customer):
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    Booking.objects.filter(pk=booking.pk).update(policy_snapshot={"not": "a list"})
    page = desk.get(f"/bookings/{booking.reference}/cancel/")
    assert page.status_code == 200
    assert "The cancellation policy cannot be read." in page.content.decode()
    response = desk.post(f"/bookings/{booking.reference}/cancel/", {"reason": ""}, follow=True)
    assert response.status_code == 200
    assert "cannot be read, so it was not cancelled" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_confirm_a_held_booking(desk, catalogue, customer):
    held = book(catalogue, customer, paris(2030, 6, 4, 10), confirm=False)
    response = desk.post(f"/bookings/{held.reference}/confirm/", follow=True)
    assert "is confirmed" in response.content.decode()
    held.refresh_from_db()
    assert held.status == BookingStatus.CONFIRMED and held.hold_expires_at is None


def test_complete_and_no_show_once_the_booking_has_started(desk, pinned_clock, catalogue, customer):
    came = book(catalogue, customer, paris(2030, 6, 4, 10))
    missed = book(catalogue, customer, paris(2030, 6, 4, 10), staff="ben")
    early = desk.post(f"/bookings/{came.reference}/complete/", follow=True)
    assert early.status_code == 200
    assert "once it has started" in early.content.decode()
    came.refresh_from_db()
    assert came.status == BookingStatus.CONFIRMED

    pinned_clock["now"] = paris(2030, 6, 4, 10, 5)
    page = desk.get(f"/bookings/{came.reference}/").content.decode()
    assert "Mark completed" in page and "Mark no-show" in page
    desk.post(f"/bookings/{came.reference}/complete/")
    desk.post(f"/bookings/{missed.reference}/no-show/")
    came.refresh_from_db()
    missed.refresh_from_db()
    assert came.status == BookingStatus.COMPLETED
    assert missed.status == BookingStatus.NO_SHOW
    assert missed.events.last().actor_label == "Fran Desk"
    calendar = desk.get("/calendar/?date=2030-06-04").content.decode()
    assert block_status(calendar, came.reference) == "completed"
    assert block_status(calendar, missed.reference) == "no_show"


def test_a_state_changed_meanwhile_gives_a_message_not_a_500(desk, catalogue, customer):
    held = book(catalogue, customer, paris(2030, 6, 4, 10), confirm=False)
    page = desk.get(f"/bookings/{held.reference}/")  # the desk sees "Confirm"…
    assert f'action="/bookings/{held.reference}/confirm/"' in page.content.decode()
    booking_cancel(booking=held, actor=CUSTOMER, by_business=False, now=NOW)
    response = desk.post(f"/bookings/{held.reference}/confirm/", follow=True)  # …and clicks it
    assert response.status_code == 200
    assert "This booking is cancelled and cannot become confirmed." in response.content.decode()
    for action, message in (("cancel", "nothing to cancel"), ("move", "can be moved")):
        stale = desk.post(f"/bookings/{held.reference}/{action}/", follow=True)
        assert stale.status_code == 200
        assert message in stale.content.decode()
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED


def test_actions_require_the_csrf_token(tenant_alpha, desk_user, catalogue, customer):
    held = book(catalogue, customer, paris(2030, 6, 4, 10), confirm=False)
    client = signed_in(Client(enforce_csrf_checks=True, HTTP_HOST=host_of(tenant_alpha)),
                       desk_user, schema=tenant_alpha.schema_name)  # fmt: skip
    for action in ("confirm", "cancel", "move"):
        assert client.post(f"/bookings/{held.reference}/{action}/").status_code == 403
    assert client.post("/bookings/new/", new_booking_data(catalogue)).status_code == 403
    held.refresh_from_db()
    assert held.status == BookingStatus.HELD
    client.get(f"/bookings/{held.reference}/")
    token = client.cookies["csrftoken"].value
    response = client.post(f"/bookings/{held.reference}/confirm/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == BookingStatus.CONFIRMED


# ---------------------------------------------------------------------------
# Layout arithmetic (pure)
# ---------------------------------------------------------------------------
def test_day_bounds_follow_the_clock_changes():
    for day, hours in ((date(2030, 3, 31), 23), (date(2030, 10, 27), 25), (date(2030, 6, 4), 24)):
        start, end = calendar_layout.day_bounds(day, PARIS)
        assert end - start == timedelta(hours=hours)
        assert start.astimezone(PARIS).time() == time(0)


def test_overlapping_blocks_share_the_width_and_a_fall_back_block_keeps_its_length():
    day = date(2030, 10, 27)
    first_0230 = datetime(2030, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_0230 = datetime(2030, 10, 27, 1, 30, tzinfo=UTC)  # 02:30 CET, an hour later
    placed = calendar_layout.place_on_day(
        [
            ("a", first_0230, second_0230),  # 60 minutes from 02:30 to 02:30 on the wall
            ("b", second_0230, second_0230 + timedelta(minutes=30)),
            ("c", paris(2030, 10, 27, 9), paris(2030, 10, 27, 10)),
        ],
        day=day,
        zone=PARIS,
    )  # fmt: skip
    by_item = {p.item: p for p in placed}
    assert (by_item["a"].top, by_item["a"].bottom) == (150, 210)
    assert (by_item["b"].top, by_item["b"].bottom) == (150, 180)
    assert {by_item["a"].lane, by_item["b"].lane} == {0, 1}
    assert by_item["a"].lanes == by_item["b"].lanes == 2
    assert (by_item["c"].lane, by_item["c"].lanes) == (0, 1)


def test_wall_minutes_are_clamped_to_the_day_and_the_window_covers_whole_hours():
    day = date(2030, 6, 4)
    assert calendar_layout.wall_minute(paris(2030, 6, 3, 23), day, PARIS) == 0
    assert calendar_layout.wall_minute(paris(2030, 6, 5, 1), day, PARIS) == 24 * 60
    assert calendar_layout.visible_window([(7 * 60 + 30, 21 * 60 + 10)]) == (7 * 60, 22 * 60)
    assert calendar_layout.visible_window([]) == (8 * 60, 20 * 60)
    assert calendar_layout.css_percent(11 * 60, (8 * 60, 20 * 60)) == "25.000%"


# ---------------------------------------------------------------------------
# On a phone (Debian's Chromium through Playwright)
# ---------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
STATIC = Path(__file__).resolve().parents[2] / "static"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def _standalone(html: str) -> str:
    """The page with its stylesheets inlined, so the browser needs no server."""
    for sheet in ("css/app.css", "scheduling/calendar.css"):
        tag = f'<link rel="stylesheet" href="/static/{sheet}">'
        assert tag in html, sheet
        html = html.replace(tag, f"<style>{(STATIC / sheet).read_text()}</style>")
    return html


@pytest.mark.browser
def test_pages_fit_a_360_pixel_phone_without_sideways_scrolling(desk, catalogue, customer):
    for name in ("Chloé", "Dominique-Alexandre", "Eve"):  # five columns: more than fit
        extra = StaffMember.objects.create(display_name=name, colour="#8a3ffc")
        catalogue["service"].staff.add(extra)
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    book(catalogue, customer, paris(2030, 6, 5, 11), staff="ben")
    yoga = Service.objects.create(
        name="Evening yoga with a long name", duration_minutes=60, price_minor=1500, capacity=8,
        payment_mode="pay_at_venue",
    )  # fmt: skip
    sessions = [
        Occurrence.objects.create(
            service=yoga,
            staff=catalogue["ada"],
            capacity=8,
            starts_at=paris(2030, 6, day, 18),
            ends_at=paris(2030, 6, day, 19),
        )  # fmt: skip
        for day in (4, 6, 11, 13)
    ]
    seat = booking_take_seat(occurrence=sessions[0], customer=customer, now=NOW)
    pages = {
        name: _standalone(desk.get(url).content.decode())
        for name, url in {
            "day": "/calendar/?date=2030-06-04",
            "week": "/calendar/?view=week&date=2030-06-04",
            "list": "/bookings/",
            "detail": f"/bookings/{booking.reference}/",
            "new": f"/bookings/new/?date=2030-06-04&service={catalogue['service'].pk}",
            "cancel": f"/bookings/{booking.reference}/cancel/",
            "move-seat": f"/bookings/{seat.reference}/move/",
        }.items()
    }
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 360, "height": 740})
        for name, html in pages.items():
            page.set_content(html)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{name} page is {width}px wide"
            page.screenshot(path=str(OUTPUT / f"calendar-360-{name}.png"), full_page=True)
        page.set_content(pages["day"])
        block = page.locator(f'[data-reference="{booking.reference}"]').bounding_box()
        assert block is not None and block["height"] > 20
        scroller = page.evaluate(
            "(() => { const box = document.querySelector('.cal-scroll');"
            " return [box.clientWidth, box.scrollWidth]; })()"
        )
        assert scroller[1] > scroller[0]  # the five columns scroll inside their own box
        wide = browser.new_page(viewport={"width": 1280, "height": 900})
        wide.set_content(pages["week"])
        tops = wide.evaluate(
            "[...document.querySelectorAll('.cal-weekday')].map(e => e.getBoundingClientRect().top)"
        )
        assert len(tops) == 7 and len(set(tops)) == 1  # a wide screen shows the week in a row
        wide.screenshot(path=str(OUTPUT / "calendar-1280-week.png"), full_page=True)
        wide.set_content(pages["day"])
        wide.screenshot(path=str(OUTPUT / "calendar-1280-day.png"), full_page=True)
        browser.close()


def test_booking_page_shows_what_to_collect_at_the_venue(desk, catalogue, customer):
    Service.objects.filter(pk=catalogue["service"].pk).update(payment_mode="pay_at_venue")
    booking = book(catalogue, customer, paris(2030, 6, 4, 10))
    page = desk.get(f"/bookings/{booking.reference}/").content.decode()
    assert "To pay at the venue" in page
    assert "to collect at the venue" in page


@pytest.mark.parametrize(
    ("first_weekday", "monday_first", "sunday_first"),
    [(1, date(2030, 6, 3), date(2030, 6, 3)), (0, date(2030, 6, 2), date(2030, 6, 9))],
)
def test_week_start_follows_the_first_day_of_the_week(first_weekday, monday_first, sunday_first):
    # Monday 3 June and Sunday 9 June 2030.
    assert calendar_layout.week_start(date(2030, 6, 3), first_weekday=first_weekday) == monday_first
    assert calendar_layout.week_start(date(2030, 6, 9), first_weekday=first_weekday) == sunday_first


SUNDAY_MORNING = paris(2030, 6, 9, 10)


@pytest.mark.parametrize(
    ("accept_language", "first_shown", "moved_on"),
    [
        ("fr-FR,fr;q=0.9", "lun 10", True),  # Monday-first: this week is over
        ("en-GB", "Mon 10 Jun", True),
        ("en-US,en;q=0.9", "Sun 9 Jun", False),  # Sunday-first: tomorrow is in this week
        ("", "Mon 10 Jun", True),  # no header: the business is French, ISO's Monday
    ],
)
def test_week_opens_on_a_week_with_bookings_ahead_in_the_locale_week(
    desk, catalogue, customer, pinned_clock, accept_language, first_shown, moved_on
):
    monday = book(catalogue, customer, paris(2030, 6, 10, 10))
    pinned_clock["now"] = SUNDAY_MORNING
    response = desk.get("/calendar/?view=week", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    days = week_sections(response.content)
    assert first_shown in days[0]
    assert monday.reference in response.content.decode()
    assert ('id="cal-next-week"' in response.content.decode()) is moved_on


def test_week_with_a_date_or_bookings_still_ahead_stays_on_that_week(desk, catalogue, customer,
                                                                     pinned_clock):  # fmt: skip
    book(catalogue, customer, paris(2030, 6, 10, 10))
    saturday = book(catalogue, customer, paris(2030, 6, 8, 15))
    pinned_clock["now"] = SUNDAY_MORNING  # Saturday's booking is over
    asked = desk.get("/calendar/?view=week&date=2030-06-09").content.decode()
    assert "Mon 3 Jun" in week_sections(asked.encode())[0] and 'id="cal-next-week"' not in asked
    assert saturday.reference in asked
    pinned_clock["now"] = paris(2030, 6, 8, 9)  # Saturday morning: its booking is ahead
    this_week = desk.get("/calendar/?view=week").content.decode()
    assert "Mon 3 Jun" in week_sections(this_week.encode())[0]
    assert 'id="cal-next-week"' not in this_week


def test_day_view_links_to_the_default_week_from_today(desk, catalogue):
    page = desk.get("/calendar/").content.decode()
    assert 'href="/calendar/?view=week"' in page
    assert (
        'href="/calendar/?view=week&amp;date=2030-06-04"'
        in desk.get("/calendar/?date=2030-06-04").content.decode()
    )
