"""Group sessions through the public API: availability lists sessions with seats, bookings take
seats. Views use the real clock; the sessions here are in June 2030, inside the horizon."""

import json
import threading
from collections import Counter

import pytest
from django.db import connections
from django_tenants.utils import tenant_context

from scheduling.models import Booking, Customer, Occurrence, PaymentMode
from tests.factories import client_for

from .conftest import build_catalogue as build_paid_catalogue
from .conftest import paris

TUESDAY = "2030-06-04"


def build_catalogue(**options) -> dict:
    """The shared catalogue, paid at the venue: these tests are about seats, not payments (a
    service paid online is refused until the business can take payments; see
    tests/connect_payments)."""
    catalogue = build_paid_catalogue(**options)
    catalogue["service"].payment_mode = PaymentMode.PAY_AT_VENUE
    catalogue["service"].save(update_fields=["payment_mode"])
    return catalogue


def post_json(client, url: str, body) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


def assert_error(response, status: int, code: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error.get("field") == field
    return error


def make_session(catalogue: dict, *, day: int = 4, hour: int = 18, capacity: int = 5,
                 staff_key: str = "ada", **extra) -> Occurrence:  # fmt: skip
    return Occurrence.objects.create(
        service=catalogue["service"], staff=catalogue[staff_key],
        starts_at=paris(2030, 6, day, hour), ends_at=paris(2030, 6, day, hour + 1),
        capacity=capacity, **extra,
    )  # fmt: skip


def seat_body(catalogue: dict, occurrence: Occurrence, n: int = 0, **overrides) -> dict:
    body = {
        "service": catalogue["service"].pk,
        "occurrence": occurrence.pk,
        "customer": {"name": f"Yogi {n}", "email": f"yogi{n}@example.test"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def group(alpha_schema):
    return build_catalogue(capacity=5)


# ---------------------------------------------------------------------------
# Availability
# ---------------------------------------------------------------------------
def test_availability_of_a_group_service_lists_sessions_with_seats_left(api, group):
    session = make_session(group, capacity=3)
    Booking.objects.all().delete()
    post_json(api, "/api/v1/bookings/", seat_body(group, session, 1))

    response = api.get(
        "/api/v1/availability/",
        {"service": group["service"].pk, "start": TUESDAY, "end": TUESDAY,
         "tz": "America/New_York"},
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    [slot] = response.json()["slots"]
    assert slot == {
        "start": "2030-06-04T16:00:00Z",
        "end": "2030-06-04T17:00:00Z",
        "local_start": "2030-06-04T12:00:00-04:00",
        "staff_id": group["ada"].pk,
        "occurrence_id": session.pk,
        "seats_left": 2,
    }


def test_full_cancelled_and_out_of_range_sessions_are_not_listed(api, group):
    full = make_session(group, hour=10, capacity=1)
    make_session(group, hour=12, is_cancelled=True)
    make_session(group, day=5, hour=12)  # the next day: outside the query
    open_one = make_session(group, hour=14, capacity=2)
    taken = post_json(api, "/api/v1/bookings/", seat_body(group, full, 1))
    assert taken.status_code == 201, taken.json()

    response = api.get(
        "/api/v1/availability/", {"service": group["service"].pk, "start": TUESDAY, "end": TUESDAY}
    )

    assert [s["occurrence_id"] for s in response.json()["slots"]] == [open_one.pk]
    assert response.json()["slots"][0]["seats_left"] == 2


def test_availability_of_sessions_filters_by_staff(api, group):
    make_session(group, hour=10, staff_key="ada")
    bens = make_session(group, hour=12, staff_key="ben")

    response = api.get(
        "/api/v1/availability/",
        {"service": group["service"].pk, "start": TUESDAY, "end": TUESDAY,
         "staff": group["ben"].pk},
    )  # fmt: skip

    assert [s["occurrence_id"] for s in response.json()["slots"]] == [bens.pk]


def test_appointment_slots_carry_no_session_fields(api, alpha_schema):
    catalogue = build_catalogue()

    response = api.get(
        "/api/v1/availability/",
        {"service": catalogue["service"].pk, "start": TUESDAY, "end": TUESDAY},
    )

    first = response.json()["slots"][0]
    assert "occurrence_id" not in first
    assert "seats_left" not in first


# ---------------------------------------------------------------------------
# Taking seats
# ---------------------------------------------------------------------------
def test_a_seat_is_held_with_reference_token_and_session_times(api, group):
    session = make_session(group)

    response = post_json(api, "/api/v1/bookings/", seat_body(group, session, notes="Mat please"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "held"
    assert body["starts_at"] == "2030-06-04T16:00:00Z"
    assert body["ends_at"] == "2030-06-04T17:00:00Z"
    assert body["staff"] == "Ada"
    assert body["manage_token"]
    booking = Booking.objects.get(reference=body["reference"])
    assert booking.occurrence_id == session.pk
    assert booking.source == "api"
    assert booking.notes == "Mat please"


def test_matching_start_and_staff_are_accepted_for_a_session(api, group):
    session = make_session(group)
    body = seat_body(group, session, start=paris(2030, 6, 4, 18).isoformat(),
                     staff=group["ada"].pk)  # fmt: skip

    response = post_json(api, "/api/v1/bookings/", body)

    assert response.status_code == 201, response.json()


def test_a_full_session_is_409_session_full_and_writes_nothing(api, group):
    session = make_session(group, capacity=2)
    for n in (1, 2):
        assert post_json(api, "/api/v1/bookings/", seat_body(group, session, n)).status_code == 201

    response = post_json(api, "/api/v1/bookings/", seat_body(group, session, 3))

    error = assert_error(response, 409, code="session_full")
    assert "full" in error["message"]
    assert Booking.objects.filter(occurrence=session).count() == 2
    assert not Customer.objects.filter(email="yogi3@example.test").exists()


def test_a_cancelled_seat_frees_it_for_someone_else(api, group):
    session = make_session(group, capacity=1)
    first = post_json(api, "/api/v1/bookings/", seat_body(group, session, 1)).json()
    cancel = post_json(api, f"/api/v1/bookings/{first['reference']}/cancel/",
                       {"token": first["manage_token"]})  # fmt: skip
    assert cancel.status_code == 200

    response = post_json(api, "/api/v1/bookings/", seat_body(group, session, 2))

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("case", "status", "code", "field"),
    [
        ("no_occurrence", 400, "missing", "occurrence"),
        ("unknown", 404, "not_found", "occurrence"),
        ("other_service", 404, "not_found", "occurrence"),
        ("cancelled", 400, "session_cancelled", "occurrence"),
        ("past", 400, "slot_in_past", None),
        ("wrong_start", 400, "invalid", "start"),
        ("wrong_staff", 400, "invalid", "staff"),
        ("bad_id", 400, "invalid", "occurrence"),
    ],
)
def test_bad_seat_requests_are_refused_and_write_nothing(api, group, case, status, code, field):
    session = make_session(group)
    body = seat_body(group, session)
    if case == "no_occurrence":
        del body["occurrence"]
    elif case == "unknown":
        body["occurrence"] = session.pk + 1000
    elif case == "other_service":
        other = build_catalogue(capacity=4)
        other["service"].name = "Pilates"
        other["service"].save()
        body["occurrence"] = make_session(other).pk
    elif case == "cancelled":
        Occurrence.objects.filter(pk=session.pk).update(is_cancelled=True)
    elif case == "past":
        Occurrence.objects.filter(pk=session.pk).update(
            starts_at=paris(2020, 6, 2, 18), ends_at=paris(2020, 6, 2, 19)
        )
    elif case == "wrong_start":
        body["start"] = paris(2030, 6, 4, 17).isoformat()
    elif case == "wrong_staff":
        body["staff"] = group["ben"].pk
    elif case == "bad_id":
        body["occurrence"] = "yoga"

    response = post_json(api, "/api/v1/bookings/", body)

    assert_error(response, status, code=code, field=field)
    assert Booking.objects.count() == 0
    assert Customer.objects.count() == 0


def test_an_occurrence_on_an_appointment_service_is_refused(api, alpha_schema):
    catalogue = build_catalogue()
    body = {
        "service": catalogue["service"].pk,
        "start": paris(2030, 6, 4, 10).isoformat(),
        "occurrence": 1,
        "customer": {"name": "A", "email": "a@example.test"},
    }

    response = post_json(api, "/api/v1/bookings/", body)

    assert_error(response, 400, code="invalid", field="occurrence")
    assert Booking.objects.count() == 0


def test_neither_start_nor_occurrence_is_a_missing_start(api, alpha_schema):
    catalogue = build_catalogue()
    body = {"service": catalogue["service"].pk, "customer": {"name": "A", "email": "a@ex.test"}}

    response = post_json(api, "/api/v1/bookings/", body)

    assert_error(response, 400, code="missing", field="start")


def test_schema_documents_occurrence_and_seats(api):
    schema = json.loads(api.get("/api/schema/", {"format": "json"}).content)

    components = schema["components"]["schemas"]
    assert "occurrence" in components["BookingCreate"]["properties"]
    assert "seats_left" in components["Slot"]["properties"]
    assert "start" not in components["BookingCreate"].get("required", [])


# ---------------------------------------------------------------------------
# Concurrency over HTTP
# ---------------------------------------------------------------------------
def test_twenty_concurrent_http_seat_takers_on_capacity_five_get_exactly_five(alpha_committed):
    with tenant_context(alpha_committed):
        group = build_catalogue(capacity=5)
        session = make_session(group, capacity=5)
    barrier = threading.Barrier(20)
    statuses: Counter = Counter()
    codes: Counter = Counter()
    lock = threading.Lock()

    def take(n: int) -> None:
        client = client_for(alpha_committed)
        try:
            barrier.wait()
            response = post_json(client, "/api/v1/bookings/", seat_body(group, session, n))
            code = response.json().get("error", {}).get("code", "")
        finally:
            connections.close_all()
        with lock:
            statuses[response.status_code] += 1
            codes[code] += 1

    threads = [threading.Thread(target=take, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == Counter({201: 5, 409: 15})
    assert codes == Counter({"": 5, "session_full": 15})
    with tenant_context(alpha_committed):
        assert Booking.objects.filter(occurrence=session, status="held").count() == 5
