"""Calendar files: a booking's `.ics` for its customer, the staff feed, the subscription page.

Files are parsed back with icalendar and checked field by field.
"""

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from icalendar import Calendar

from scheduling.actors import SYSTEM
from scheduling.calendar_files import ICS_STATUS
from scheduling.models import Booking, BookingStatus, Occurrence, PaymentMode, StaffMember
from scheduling.services.bookings import booking_confirm, booking_reschedule
from scheduling.services.customers import customer_upsert
from tests.factories import client_for, make_member, member_client

from .conftest import paris

TEN_AM = paris(2030, 6, 4, 10)
_references = itertools.count(1)


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def catalogue(catalogue):
    """Paid at the venue: holds through the public API need no payment set-up (the files do not
    depend on how a booking is paid)."""
    catalogue["service"].payment_mode = PaymentMode.PAY_AT_VENUE
    catalogue["service"].save(update_fields=["payment_mode"])
    return catalogue


def hold(api, catalogue, **overrides) -> dict:
    body = {
        "service": catalogue["service"].pk,
        "start": TEN_AM.isoformat(),
        "staff": catalogue["ada"].pk,
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
        **overrides,
    }
    response = api.post("/api/v1/bookings/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.json()
    return response.json()


def parse_events(response) -> tuple[Calendar, list]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return calendar, list(calendar.walk("VEVENT"))


def booking_ics(api, body: dict, **headers):
    return api.get(
        f"/api/v1/bookings/{body['reference']}/calendar.ics",
        {"token": body["manage_token"]},
        **headers,
    )


# ---------------------------------------------------------------------------
# A booking's file
# ---------------------------------------------------------------------------
def test_booking_file_has_utc_times_summary_location_and_reference(api, catalogue):
    body = hold(api, catalogue)

    response = booking_ics(api, body)

    calendar, [event] = parse_events(response)
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["method"]) == "PUBLISH"
    assert event.decoded("dtstart") == datetime(2030, 6, 4, 8, 0, tzinfo=UTC)
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == datetime(2030, 6, 4, 9, 0, tzinfo=UTC)
    assert b"DTSTART:20300604T080000Z" in response.content
    assert str(event["summary"]) == "Massage — Alpha Studio"
    assert str(event["location"]) == "Alpha Studio"
    assert body["reference"] in str(event["description"])
    assert "Ada" in str(event["description"])
    manage = f"http://alpha.localhost/manage/{body['reference']}/?token={body['manage_token']}"
    assert str(event["url"]) == manage
    assert manage in str(event["description"])
    assert body["reference"] in str(event["uid"])
    assert str(event["status"]) == "TENTATIVE"  # held, not yet paid
    assert int(event["sequence"]) == 0
    assert 'filename="' + body["reference"] + '.ics"' in response["Content-Disposition"]


def test_uid_is_stable_and_status_follows_the_booking(api, catalogue):
    body = hold(api, catalogue)
    _, [held] = parse_events(booking_ics(api, body))
    booking = Booking.objects.get(reference=body["reference"])

    booking_confirm(booking=booking)
    _, [confirmed] = parse_events(booking_ics(api, body))
    booking_reschedule(booking=booking, new_start=paris(2030, 6, 5, 14), actor=SYSTEM)
    _, [moved] = parse_events(booking_ics(api, body))
    cancel = api.post(
        f"/api/v1/bookings/{body['reference']}/cancel/",
        json.dumps({"token": body["manage_token"]}),
        content_type="application/json",
    )
    assert cancel.status_code == 200
    response = booking_ics(api, body)
    _, [cancelled] = parse_events(response)

    assert str(held["uid"]) == str(confirmed["uid"]) == str(moved["uid"]) == str(cancelled["uid"])
    assert str(confirmed["status"]) == "CONFIRMED"
    assert moved.decoded("dtstart") == datetime(2030, 6, 5, 12, 0, tzinfo=UTC)
    assert int(moved["sequence"]) == 1  # calendar apps replace the event they imported
    assert b"STATUS:CANCELLED" in response.content
    assert str(cancelled["status"]) == "CANCELLED"
    assert int(cancelled["sequence"]) == 2


def test_booking_file_needs_the_right_token_like_the_json_detail(api, catalogue):
    body = hold(api, catalogue)
    url = f"/api/v1/bookings/{body['reference']}/calendar.ics"
    token = body["manage_token"]
    wrong_token = ("y" if token[0] == "x" else "x") + token[1:]

    responses = [
        api.get(url, {"token": wrong_token}),
        api.get(url),
        api.get("/api/v1/bookings/ALP-0000/calendar.ics", {"token": token}),
        # Calendar apps ask for text/calendar: the error still comes back (in JSON), not a 406.
        api.get(url, {"token": wrong_token}, HTTP_ACCEPT="text/calendar"),
    ]

    for response in responses:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert responses[0].json() == api.get(f"/api/v1/bookings/{body['reference']}/").json()


def test_a_booking_file_of_one_business_is_not_found_on_another_host(api, catalogue, tenant_beta):
    body = hold(api, catalogue)

    response = booking_ics(client_for(tenant_beta), body)

    assert response.status_code == 404


# ---------------------------------------------------------------------------
# Staff feed
# ---------------------------------------------------------------------------
def make_booking(catalogue, customer, *, starts_at: datetime, status: str = "confirmed",
                 staff_key: str = "ada", occurrence: Occurrence | None = None,
                 hold_expires_at: datetime | None = None) -> Booking:  # fmt: skip
    """A booking row as the services leave it (the feed only reads rows)."""
    ends_at = starts_at + timedelta(hours=1)
    if status == "held" and hold_expires_at is None:
        hold_expires_at = timezone.now() + timedelta(minutes=10)
    return Booking.objects.create(
        reference=f"ALP-T{next(_references):03d}",
        service=catalogue["service"], staff=catalogue[staff_key], customer=customer,
        occurrence=occurrence, starts_at=starts_at, ends_at=ends_at,
        occupied=DateTimeTZRange(starts_at, ends_at, "[)"), status=status,
        hold_expires_at=hold_expires_at, price_minor=4500, currency="EUR",
        payment_mode="online_full", source="staff",
    )  # fmt: skip


def feed_url(staff: StaffMember) -> str:
    return f"/api/v1/feeds/staff/{staff.ics_token}.ics"


def test_staff_feed_holds_their_active_bookings_in_the_window_and_no_contact_data(
    api, catalogue, customer
):
    now = timezone.now().replace(microsecond=0)
    day = timedelta(days=1)
    included = {
        "confirmed": make_booking(catalogue, customer, starts_at=now + 2 * day),
        "held": make_booking(catalogue, customer, starts_at=now + 3 * day, status="held"),
        "completed": make_booking(
            catalogue, customer, starts_at=now - 29 * day, status="completed"
        ),  # fmt: skip
    }
    excluded = [
        make_booking(catalogue, customer, starts_at=now + 4 * day, status="cancelled"),
        make_booking(
            catalogue,
            customer,
            starts_at=now + 5 * day,
            status="held",
            hold_expires_at=now - timedelta(minutes=1),
        ),  # fmt: skip
        make_booking(catalogue, customer, starts_at=now + 6 * day, status="expired"),
        make_booking(catalogue, customer, starts_at=now - 31 * day),
        make_booking(catalogue, customer, starts_at=now + 366 * day),
        make_booking(catalogue, customer, starts_at=now + 2 * day, staff_key="ben"),
    ]

    response = api.get(feed_url(catalogue["ada"]))

    calendar, events = parse_events(response)
    assert str(calendar["x-wr-calname"]) == "Ada — Alpha Studio"
    uids = {str(event["uid"]) for event in events}
    assert len(events) == 3
    for booking in included.values():
        assert any(booking.reference in uid for uid in uids)
    for booking in excluded:
        assert not any(booking.reference in uid for uid in uids)
    by_ref = {b.reference: e for b in included.values() for e in events
              if f"-{b.reference}@" in str(e["uid"])}  # fmt: skip
    confirmed = by_ref[included["confirmed"].reference]
    assert str(confirmed["summary"]) == "Massage — Chloé Client"
    assert confirmed.decoded("dtstart") == included["confirmed"].starts_at
    assert str(by_ref[included["held"].reference]["status"]) == "TENTATIVE"
    text = response.content.decode()
    assert "chloe@example.test" not in text
    assert customer.phone not in text and "612345678" not in text
    assert "no-referrer" == response["Referrer-Policy"]


def test_seats_of_one_session_are_one_event_with_participants(api, catalogue, customer):
    start = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    session = Occurrence.objects.create(
        service=catalogue["service"], staff=catalogue["ada"], starts_at=start,
        ends_at=start + timedelta(hours=1), capacity=8,
    )  # fmt: skip
    other = customer_upsert(name="Omar Other", email="omar@example.test")
    make_booking(catalogue, customer, starts_at=start, occurrence=session)
    make_booking(catalogue, other, starts_at=start, occurrence=session)

    _, [event] = parse_events(api.get(feed_url(catalogue["ada"])))

    assert str(event["summary"]) == "Massage — 2/8 booked"
    assert str(event["uid"]).startswith(f"session-{session.pk}@")
    assert "Chloé Client" in str(event["description"])
    assert "Omar Other" in str(event["description"])


def test_unknown_or_inactive_feed_is_404(api, catalogue):
    catalogue["ben"].is_active = False
    catalogue["ben"].save()

    unknown = api.get("/api/v1/feeds/staff/not-a-token.ics")
    inactive = api.get(feed_url(catalogue["ben"]))

    for response in (unknown, inactive):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_feed_token_of_one_business_is_unknown_on_another(catalogue, tenant_beta):
    response = client_for(tenant_beta).get(feed_url(catalogue["ada"]))

    assert response.status_code == 404


# ---------------------------------------------------------------------------
# Subscription page
# ---------------------------------------------------------------------------
@pytest.fixture
def staff_user(tenant_alpha, catalogue):
    user = make_member(tenant_alpha, "staff", name="Ada Lovelace")
    StaffMember.objects.filter(pk=catalogue["ada"].pk).update(user=user)
    catalogue["ada"].refresh_from_db()
    return user


def test_staff_member_sees_only_their_own_feed_link(tenant_alpha, catalogue, staff_user):
    client = member_client(tenant_alpha, staff_user)

    response = client.get("/calendar/subscribe/")

    assert response.status_code == 200
    text = response.content.decode()
    assert f"http://alpha.localhost/api/v1/feeds/staff/{catalogue['ada'].ics_token}.ics" in text
    assert f"webcal://alpha.localhost/api/v1/feeds/staff/{catalogue['ada'].ics_token}.ics" in text
    assert catalogue["ben"].ics_token not in text


def test_staff_member_resets_their_link_and_the_old_one_stops_working(
    api, tenant_alpha, catalogue, staff_user
):
    client = member_client(tenant_alpha, staff_user)
    old_url = feed_url(catalogue["ada"])
    assert api.get(old_url).status_code == 200

    response = client.post(f"/calendar/subscribe/{catalogue['ada'].pk}/reset/")

    assert response.status_code == 302
    catalogue["ada"].refresh_from_db()
    assert api.get(old_url).status_code == 404
    assert api.get(feed_url(catalogue["ada"])).status_code == 200
    assert catalogue["ada"].ics_token in client.get("/calendar/subscribe/").content.decode()


def test_staff_member_cannot_reset_someone_elses_link(tenant_alpha, catalogue, staff_user):
    client = member_client(tenant_alpha, staff_user)
    before = catalogue["ben"].ics_token

    response = client.post(f"/calendar/subscribe/{catalogue['ben'].pk}/reset/")

    assert response.status_code == 404
    catalogue["ben"].refresh_from_db()
    assert catalogue["ben"].ics_token == before


def test_owner_sees_and_resets_every_staff_members_link(tenant_alpha, owner_alpha, catalogue):
    client = member_client(tenant_alpha, owner_alpha)
    text = client.get("/calendar/subscribe/").content.decode()
    assert catalogue["ada"].ics_token in text and catalogue["ben"].ics_token in text
    before = catalogue["ben"].ics_token

    response = client.post(f"/calendar/subscribe/{catalogue['ben'].pk}/reset/")

    assert response.status_code == 302
    catalogue["ben"].refresh_from_db()
    assert catalogue["ben"].ics_token != before


def test_member_without_staff_profile_is_told_so(tenant_alpha, catalogue):
    desk = make_member(tenant_alpha, "front_desk")

    response = member_client(tenant_alpha, desk).get("/calendar/subscribe/")

    assert response.status_code == 200
    assert "not linked to a staff profile" in response.content.decode()
    assert catalogue["ada"].ics_token not in response.content.decode()


def test_reset_is_post_only_and_anonymous_visitors_sign_in_first(tenant_alpha, catalogue,
                                                                  owner_alpha):  # fmt: skip
    anonymous = client_for(tenant_alpha).post(f"/calendar/subscribe/{catalogue['ada'].pk}/reset/")
    by_get = member_client(tenant_alpha, owner_alpha).get(
        f"/calendar/subscribe/{catalogue['ada'].pk}/reset/"
    )

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/account/login/")
    assert by_get.status_code == 405
    before = catalogue["ada"].ics_token
    catalogue["ada"].refresh_from_db()
    assert catalogue["ada"].ics_token == before


def test_status_mapping_covers_every_booking_status():
    assert set(ICS_STATUS) == set(BookingStatus)
