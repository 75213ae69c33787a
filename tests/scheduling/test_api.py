"""The public booking API on a business's host: services, availability, holds, self-service.

Views use the real clock; the bookings here are in June 2030, inside the catalogue's horizon.
"""

import json

import pytest
from django_tenants.utils import tenant_context

from scheduling.models import Booking, BookingStatus, Customer, Service
from tests.factories import client_for

from .conftest import build_catalogue, paris


@pytest.fixture
def catalogue(alpha_schema):
    """The shared catalogue, paid at the venue: these tests are about booking, and alpha has no
    Stripe account (a service paid online is refused until it has; see tests/connect_payments)."""
    built = build_catalogue()
    built["service"].payment_mode = "pay_at_venue"
    built["service"].save(update_fields=["payment_mode"])
    return built


TUESDAY = "2030-06-04"
TEN_AM = paris(2030, 6, 4, 10)  # 08:00 UTC


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


def post_json(client, url: str, body) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


def booking_body(catalogue, **overrides) -> dict:
    body = {
        "service": catalogue["service"].pk,
        "start": TEN_AM.isoformat(),
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    }
    body.update(overrides)
    return body


def hold(api, catalogue, **overrides) -> dict:
    response = post_json(api, "/api/v1/bookings/", booking_body(catalogue, **overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def assert_error(response, status: int, code: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error["field"] == field
    return error


# ---------------------------------------------------------------------------
# Services and availability
# ---------------------------------------------------------------------------
def test_services_lists_active_services_with_staff_and_tenant_currency(api, catalogue):
    Service.objects.create(name="Retired", duration_minutes=30, is_active=False)

    response = api.get("/api/v1/services/")

    assert response.status_code == 200
    [service] = response.json()
    assert service["name"] == "Massage"
    assert service["price_minor"] == 4500
    assert service["currency"] == "EUR"
    assert service["duration_minutes"] == 60
    assert service["capacity"] == 1
    assert {s["display_name"] for s in service["staff"]} == {"Ada", "Ben"}


def test_availability_shows_local_times_in_the_requested_zone(api, catalogue):
    ada = catalogue["ada"]
    response = api.get(
        "/api/v1/availability/",
        {"service": catalogue["service"].pk, "start": TUESDAY, "end": TUESDAY,
         "staff": ada.pk, "tz": "America/New_York"},
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["time_zone"] == "America/New_York"
    assert body["tenant_time_zone"] == "Europe/Paris"
    first = body["slots"][0]
    assert first["start"] == "2030-06-04T07:00:00Z"  # 09:00 in Paris
    assert first["end"] == "2030-06-04T08:00:00Z"
    assert first["local_start"] == "2030-06-04T03:00:00-04:00"
    assert {slot["staff_id"] for slot in body["slots"]} == {ada.pk}


def test_availability_body_is_what_its_documented_serializer_renders(api, catalogue):
    """The view writes its JSON by hand for speed; it must stay what the schema documents."""
    from datetime import UTC, date
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer

    from scheduling.api.serializers import AvailabilitySerializer
    from scheduling.selectors.availability import available_slots

    service = catalogue["service"]
    response = api.get(
        "/api/v1/availability/",
        {"service": service.pk, "start": "2030-06-03", "end": "2030-06-09",
         "tz": "America/New_York"},
    )  # fmt: skip
    assert response.status_code == 200, response.json()

    found = available_slots(
        service=service, start_date=date(2030, 6, 3), end_date=date(2030, 6, 9),
        now=timezone.now(),
    )  # fmt: skip
    assert len(found) > 20
    new_york = ZoneInfo("America/New_York")
    documented = AvailabilitySerializer(
        {
            "service": service.pk, "start": date(2030, 6, 3), "end": date(2030, 6, 9),
            "time_zone": "America/New_York", "tenant_time_zone": "Europe/Paris",
            "slots": [
                {"start": slot.start_utc.astimezone(UTC), "end": slot.end_utc.astimezone(UTC),
                 "local_start": slot.start_utc.astimezone(new_york).isoformat(),
                 "staff_id": slot.staff_id}
                for slot in found
            ],
        }
    ).data  # fmt: skip
    assert response.content == JSONRenderer().render(documented)


def test_availability_defaults_to_the_business_zone_and_hides_held_times(api, catalogue):
    hold(api, catalogue, staff=catalogue["ada"].pk)

    response = api.get(
        "/api/v1/availability/",
        {"service": catalogue["service"].pk, "start": TUESDAY, "end": TUESDAY,
         "staff": catalogue["ada"].pk},
    )  # fmt: skip

    body = response.json()
    assert body["time_zone"] == "Europe/Paris"
    local_starts = [slot["local_start"] for slot in body["slots"]]
    # Held 10:00-11:00 plus a 15-minute buffer: a 09:00 start would run into it.
    assert local_starts[0] == "2030-06-04T11:15:00+02:00"


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"service": None}, 400, "service"),  # None: left out of the query
        ({"service": "abc"}, 400, "service"),
        ({"start": "2030-13-01"}, 400, "start"),
        ({"start": "04/06/2030"}, 400, "start"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, 400, "start"),
        ({"end": "2030-06-03"}, 400, "end"),
        ({"end": "2030-09-05"}, 400, "end"),  # 94 days
        ({"tz": "Mars/Olympus"}, 400, "tz"),
        ({"tz": "../../etc/passwd"}, 400, "tz"),
        ({"service": 999999}, 404, "service"),
        ({"staff": 999999}, 404, "staff"),
    ],
)
def test_availability_refuses_bad_queries_with_a_message(api, catalogue, params, status, field):
    query = {"service": catalogue["service"].pk, "start": TUESDAY, "end": TUESDAY, **params}

    response = api.get(
        "/api/v1/availability/", {key: value for key, value in query.items() if value is not None}
    )

    assert_error(response, status, field=field)


def test_availability_of_exactly_93_days_is_accepted(api, catalogue):
    response = api.get(
        "/api/v1/availability/",
        {"service": catalogue["service"].pk, "start": TUESDAY, "end": "2030-09-04"},
    )
    assert response.status_code == 200


# ---------------------------------------------------------------------------
# Holds
# ---------------------------------------------------------------------------
def test_hold_returns_201_with_reference_and_manage_token(api, catalogue, tenant_alpha):
    body = hold(api, catalogue, staff=catalogue["ada"].pk, notes="Firm pressure")

    assert body["status"] == "held"
    assert body["starts_at"] == "2030-06-04T08:00:00Z"
    assert body["ends_at"] == "2030-06-04T09:00:00Z"
    assert body["hold_expires_at"]
    assert body["price_minor"] == 4500
    assert body["currency"] == "EUR"
    with tenant_context(tenant_alpha):
        booking = Booking.objects.get(reference=body["reference"])
        assert booking.manage_token == body["manage_token"]
        assert booking.source == "api"
        assert booking.notes == "Firm pressure"
        assert booking.customer.email == "chloe@example.test"


@pytest.mark.parametrize(
    ("extra", "source", "embedded_on"),
    [
        ({"source": "page"}, "page", ""),
        ({"source": "widget", "embedded_on": "HTTPS://Salon.example/"}, "widget",
         "https://salon.example"),
        # Not on the business's list (or not an address): booked anyway, labelled "Widget".
        ({"source": "widget", "embedded_on": "https://stranger.example"}, "widget", ""),
        ({"source": "widget", "embedded_on": "not a website"}, "widget", ""),
        ({"source": "widget"}, "widget", ""),
    ],
)  # fmt: skip
def test_a_hold_records_where_the_customer_booked(api, catalogue, tenant_alpha, extra, source,
                                                  embedded_on):  # fmt: skip
    from widgets.models import Branding

    Branding.objects.create(allowed_origins=["https://salon.example"])
    body = hold(api, catalogue, **extra)
    with tenant_context(tenant_alpha):
        booking = Booking.objects.get(reference=body["reference"])
    assert (booking.source, booking.embedded_on) == (source, embedded_on)
    expected = f"Widget on {embedded_on}" if embedded_on else booking.get_source_display()
    assert booking.source_label == expected


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"source": "staff"}, "source"),  # the team's own pages are not reached through here
        ({"source": ["page"]}, "source"),
        ({"source": "page", "embedded_on": "https://salon.example"}, "embedded_on"),
        ({"source": "widget", "embedded_on": "x" * 256}, "embedded_on"),
    ],
)
def test_a_hold_with_a_wrong_source_is_a_clear_400(api, catalogue, extra, field):
    response = post_json(api, "/api/v1/bookings/", booking_body(catalogue, **extra))
    assert_error(response, 400, "invalid", field)
    assert not Booking.objects.exists()


def test_second_hold_of_the_same_staff_and_time_is_409_slot_taken(api, catalogue, tenant_alpha):
    hold(api, catalogue, staff=catalogue["ada"].pk)
    other = {"name": "Other", "email": "other@example.test"}

    body = booking_body(catalogue, staff=catalogue["ada"].pk, customer=other)
    response = post_json(api, "/api/v1/bookings/", body)

    assert_error(response, 409, code="slot_taken")
    with tenant_context(tenant_alpha):
        assert Booking.objects.count() == 1
        assert not Customer.objects.filter(email="other@example.test").exists()


def test_any_staff_holds_go_to_the_free_member_then_409(api, catalogue):
    first = hold(api, catalogue)
    second = hold(api, catalogue, customer={"name": "B", "email": "b@example.test"})

    body = booking_body(catalogue, customer={"name": "C", "email": "c@example.test"})
    third = post_json(api, "/api/v1/bookings/", body)

    assert first["reference"] != second["reference"]
    assert_error(third, 409, code="slot_taken")


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"start": "2030-06-04T10:00:00"}, 400, "invalid", "start"),  # no offset
        ({"start": "tomorrow"}, 400, "invalid", "start"),
        ({"start": paris(2030, 6, 4, 10, 7).isoformat()}, 400, "slot_not_on_grid", None),
        ({"start": paris(2030, 6, 4, 20).isoformat()}, 400, "outside_working_hours", None),
        ({"start": paris(2020, 6, 2, 10).isoformat()}, 400, "slot_in_past", None),
        ({"start": paris(2030, 6, 9, 10).isoformat()}, 400, "outside_working_hours", None),  # Sun
        ({"customer": {"name": "X", "email": "not-an-email"}}, 400, "invalid", "customer.email"),
        ({"customer": {"email": "x@example.test"}}, 400, "missing", "customer.name"),
        ({"customer": {"name": "X", "email": "x@example.test", "phone": "12"}}, 400,
         "invalid_customer", None),
        ({"customer": None}, 400, "missing", "customer"),
        ({"service": "massage"}, 400, "invalid", "service"),
        ({"service": 999999}, 404, "not_found", "service"),
        ({"staff": 999999}, 404, "not_found", "staff"),
    ],
)  # fmt: skip
def test_bad_holds_are_refused_and_write_nothing(
    api, catalogue, tenant_alpha, overrides, status, code, field
):
    response = post_json(api, "/api/v1/bookings/", booking_body(catalogue, **overrides))

    assert_error(response, status, code=code, field=field)
    with tenant_context(tenant_alpha):
        assert Booking.objects.count() == 0
        assert Customer.objects.count() == 0


def test_malformed_json_is_a_400(api, catalogue):
    response = api.post("/api/v1/bookings/", "{not json", content_type="application/json")
    assert_error(response, 400, code="parse_error")


@pytest.mark.parametrize("depth", [100_000, 2_000])
def test_a_deeply_nested_body_is_a_400_and_writes_nothing(api, catalogue, tenant_alpha, depth):
    nested = "[" * depth + "]" * depth
    response = api.post("/api/v1/bookings/", nested, content_type="application/json")
    assert_error(response, 400, code="parse_error")
    body = '{"service": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    response = api.post("/api/v1/bookings/", body, content_type="application/json")
    assert_error(response, 400, code="parse_error")
    with tenant_context(tenant_alpha):
        assert Booking.objects.count() == 0


def test_group_service_hold_needs_a_session(api, catalogue, tenant_alpha):
    """Group services book seats in sessions (tests/scheduling/test_api_sessions.py)."""
    with tenant_context(tenant_alpha):
        catalogue["service"].capacity = 8
        catalogue["service"].save()

    response = post_json(api, "/api/v1/bookings/", booking_body(catalogue))

    error = assert_error(response, 400, code="missing", field="occurrence")
    assert "group" in error["message"]


# ---------------------------------------------------------------------------
# Managing a booking with its token
# ---------------------------------------------------------------------------
def test_booking_status_needs_the_right_token(api, catalogue):
    body = hold(api, catalogue)
    url = f"/api/v1/bookings/{body['reference']}/"

    found = api.get(url, {"token": body["manage_token"]})
    token = body["manage_token"]
    wrong_token = ("y" if token[0] == "x" else "x") + token[1:]  # always differs from the real one
    wrong = api.get(url, {"token": wrong_token})
    missing = api.get(url)
    unknown = api.get("/api/v1/bookings/ALP-0000/", {"token": token})  # 0 is never in a reference

    assert found.status_code == 200
    assert found.json()["status"] == "held"
    assert found.json()["service"] == "Massage"
    assert "manage_token" not in found.json()
    for response in (wrong, missing, unknown):
        assert_error(response, 404, code="not_found")
    assert wrong.json() == unknown.json()


def test_customer_cancels_with_the_token(api, catalogue, tenant_alpha):
    body = hold(api, catalogue)
    url = f"/api/v1/bookings/{body['reference']}/cancel/"

    refused = post_json(api, url, {"token": "wrong"})
    response = post_json(api, url, {"token": body["manage_token"], "reason": "Ill"})

    assert_error(refused, 404)
    assert response.status_code == 200, response.json()
    result = response.json()
    assert result["booking"]["status"] == "cancelled"
    assert result["refund_percent"] == 100  # more than 48 hours ahead
    assert result["refund_minor"] == 0  # nothing paid yet
    with tenant_context(tenant_alpha):
        booking = Booking.objects.get(reference=body["reference"])
        assert booking.status == BookingStatus.CANCELLED
        assert booking.events.last().reason == "Ill"


def test_customer_reschedules_with_the_token(api, catalogue, tenant_alpha):
    body = hold(api, catalogue, staff=catalogue["ada"].pk)
    url = f"/api/v1/bookings/{body['reference']}/reschedule/"
    new_start = paris(2030, 6, 5, 14)

    refused = post_json(api, url, {"token": "wrong", "start": new_start.isoformat()})
    response = post_json(api, url, {"token": body["manage_token"], "start": new_start.isoformat()})

    assert_error(refused, 404)
    assert response.status_code == 200, response.json()
    assert response.json()["starts_at"] == "2030-06-05T12:00:00Z"
    assert response.json()["ends_at"] == "2030-06-05T13:00:00Z"
    with tenant_context(tenant_alpha):
        assert Booking.objects.get(reference=body["reference"]).starts_at == new_start


def test_reschedule_onto_a_taken_time_is_409_and_keeps_the_booking(api, catalogue, tenant_alpha):
    ada = catalogue["ada"].pk
    mine = hold(api, catalogue, staff=ada)
    hold(api, catalogue, staff=ada, start=paris(2030, 6, 4, 14).isoformat(),
         customer={"name": "B", "email": "b@example.test"})  # fmt: skip
    url = f"/api/v1/bookings/{mine['reference']}/reschedule/"

    taken = post_json(api, url, {"token": mine["manage_token"], "staff": ada,
                                 "start": paris(2030, 6, 4, 14).isoformat()})  # fmt: skip
    off_grid = post_json(api, url, {"token": mine["manage_token"],
                                    "start": paris(2030, 6, 4, 14, 5).isoformat()})  # fmt: skip

    assert_error(taken, 409, code="slot_taken")
    assert_error(off_grid, 400, code="slot_not_on_grid")
    with tenant_context(tenant_alpha):
        assert Booking.objects.get(reference=mine["reference"]).starts_at == TEN_AM


def test_a_cancelled_booking_cannot_be_rescheduled(api, catalogue):
    body = hold(api, catalogue)
    base = f"/api/v1/bookings/{body['reference']}"
    post_json(api, f"{base}/cancel/", {"token": body["manage_token"]})

    move = {"token": body["manage_token"], "start": paris(2030, 6, 5, 14).isoformat()}
    response = post_json(api, f"{base}/reschedule/", move)

    assert_error(response, 409, code="invalid_transition")


def test_a_booking_of_one_business_is_not_found_on_another_host(api, catalogue, tenant_beta):
    body = hold(api, catalogue)

    response = client_for(tenant_beta).get(
        f"/api/v1/bookings/{body['reference']}/", {"token": body["manage_token"]}
    )

    assert_error(response, 404, code="not_found")


# ---------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------
def test_schema_documents_the_booking_endpoints(api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/bookings/" in paths
    assert "/api/v1/availability/" in paths
    assert "/api/v1/bookings/{reference}/reschedule/" in paths
