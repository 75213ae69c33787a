"""Staff API with API keys: authentication, listing, booking, cancelling; the API keys page."""

import itertools
import json
from datetime import timedelta

import pytest
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django_tenants.utils import tenant_context

from scheduling.actors import SYSTEM
from scheduling.models import ApiKey, Booking, BookingStatus, Customer, Occurrence
from scheduling.selectors.integrations import api_key_hash
from scheduling.services.bookings import booking_complete
from scheduling.services.integrations import api_key_create, api_key_revoke
from tests.factories import client_for, make_member, member_client

from .conftest import build_catalogue, paris

TEN_AM = paris(2030, 6, 4, 10)
BOOKINGS = "/api/v1/staff/bookings/"
_references = itertools.count(1)


@pytest.fixture
def secret(alpha_schema) -> str:
    return api_key_create(name="Zapier", created_by_user_id=None).secret


@pytest.fixture
def staff_api(tenant_alpha, secret):
    return client_for(tenant_alpha), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def get(staff_api, url: str, params: dict | None = None):
    client, headers = staff_api
    return client.get(url, params or {}, **headers)


def post(staff_api, url: str, body: dict):
    client, headers = staff_api
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def assert_error(response, status: int, code: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error.get("field") == field
    return error


def create_body(catalogue, **overrides) -> dict:
    return {
        "service": catalogue["service"].pk,
        "start": TEN_AM.isoformat(),
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
        **overrides,
    }


def row(catalogue, customer, *, starts_at, status="confirmed", staff_key="ada") -> Booking:
    """A booking row as the services leave it, for tests about reading and cancelling."""
    ends_at = starts_at + timedelta(hours=1)
    return Booking.objects.create(
        reference=f"ALP-S{next(_references):03d}", service=catalogue["service"],
        staff=catalogue[staff_key],
        customer=customer, starts_at=starts_at, ends_at=ends_at,
        occupied=DateTimeTZRange(starts_at, ends_at, "[)"), status=status,
        hold_expires_at=timezone.now() + timedelta(minutes=10) if status == "held" else None,
        price_minor=4500, currency="EUR", payment_mode="online_full", source="widget",
        policy_snapshot=catalogue["service"].cancellation_policy,
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------
def test_no_key_is_401_with_the_error_shape_and_a_bearer_challenge(tenant_alpha, catalogue):
    response = client_for(tenant_alpha).get(BOOKINGS)

    error = assert_error(response, 401, code="not_authenticated")
    assert "Bearer" in error["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer crn_live_unknownunknownunknownunknownunknown12", "Bearer", "Bearer a b",
     "Bearer caf\u00e9"],
)  # fmt: skip
def test_unknown_or_malformed_keys_are_401(tenant_alpha, catalogue, header):
    response = client_for(tenant_alpha).get(BOOKINGS, HTTP_AUTHORIZATION=header)

    assert_error(response, 401, code="invalid_api_key")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_is_401(staff_api, secret):
    assert get(staff_api, BOOKINGS).status_code == 200
    api_key_revoke(key=ApiKey.objects.get(), actor_user_id=None)

    assert_error(get(staff_api, BOOKINGS), 401, code="invalid_api_key")


def test_a_key_of_beta_is_401_on_alphas_host_and_back(tenant_alpha, tenant_beta, secret):
    with tenant_context(tenant_beta):
        beta_secret = api_key_create(name="Beta tool", created_by_user_id=None).secret

    on_alpha = client_for(tenant_alpha).get(BOOKINGS, HTTP_AUTHORIZATION=f"Bearer {beta_secret}")
    on_beta = client_for(tenant_beta).get(BOOKINGS, HTTP_AUTHORIZATION=f"Bearer {secret}")
    own = client_for(tenant_beta).get(BOOKINGS, HTTP_AUTHORIZATION=f"Bearer {beta_secret}")

    assert_error(on_alpha, 401, code="invalid_api_key")
    assert_error(on_beta, 401, code="invalid_api_key")
    assert own.status_code == 200


def test_only_the_hash_is_stored_and_use_is_recorded(staff_api, secret):
    key = ApiKey.objects.get()
    assert key.secret_hash == api_key_hash(secret)
    assert secret not in (key.secret_hash, key.prefix, key.name)
    assert secret.startswith(key.prefix) and secret.startswith("crn_live_")
    assert key.last_used_at is None

    get(staff_api, BOOKINGS)

    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_signed_in_session_does_not_open_the_staff_api(tenant_alpha, owner_alpha, catalogue):
    client = member_client(tenant_alpha, owner_alpha, verified=True)

    assert_error(client.get(BOOKINGS), 401, code="not_authenticated")


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------
def test_list_filters_by_dates_status_and_staff(staff_api, catalogue, customer):
    tuesday = row(catalogue, customer, starts_at=paris(2030, 6, 4, 10))
    late_tuesday = row(catalogue, customer, starts_at=paris(2030, 6, 4, 23, 30), staff_key="ben")
    row(catalogue, customer, starts_at=paris(2030, 6, 5, 10), status="cancelled")
    row(catalogue, customer, starts_at=paris(2030, 6, 6, 10), status="held")

    tuesday_only = get(staff_api, BOOKINGS, {"start": "2030-06-04", "end": "2030-06-04"}).json()
    by_staff = get(staff_api, BOOKINGS, {"staff": catalogue["ben"].pk}).json()
    active = get(staff_api, BOOKINGS, {"status": "held,confirmed"}).json()
    cancelled = get(staff_api, BOOKINGS, {"status": "cancelled", "start": "2030-06-05"}).json()

    # 23:30 in Paris is 21:30 UTC: dates are the business's, not UTC's.
    assert [b["reference"] for b in tuesday_only["results"]] == [
        tuesday.reference, late_tuesday.reference
    ]  # fmt: skip
    assert [b["reference"] for b in by_staff["results"]] == [late_tuesday.reference]
    assert active["count"] == 3
    assert [b["status"] for b in cancelled["results"]] == ["cancelled"]
    first = tuesday_only["results"][0]
    assert first["customer"] == {"name": "Chloé Client", "email": "chloe@example.test",
                                 "phone": "+33612345678"}  # fmt: skip
    assert first["service"] == {"id": catalogue["service"].pk, "name": "Massage"}
    assert first["staff"] == {"id": catalogue["ada"].pk, "name": "Ada"}
    assert first["starts_at"] == "2030-06-04T08:00:00Z"


def test_list_is_paginated(staff_api, catalogue, customer):
    made = [row(catalogue, customer, starts_at=paris(2030, 6, 4, 9) + timedelta(hours=2 * i))
            for i in range(5)]  # fmt: skip

    first = get(staff_api, BOOKINGS, {"page_size": 2}).json()
    last = get(staff_api, BOOKINGS, {"page_size": 2, "page": 3}).json()
    beyond = get(staff_api, BOOKINGS, {"page_size": 2, "page": 4}).json()

    assert first["count"] == 5
    assert [b["reference"] for b in first["results"]] == [made[0].reference, made[1].reference]
    assert first["previous"] is None
    assert "page=2" in first["next"] and "page_size=2" in first["next"]
    assert [b["reference"] for b in last["results"]] == [made[4].reference]
    assert last["next"] is None
    assert "page=2" in last["previous"]
    assert beyond["results"] == [] and beyond["count"] == 5


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"status": "booked"}, 400, "status"),
        ({"status": ","}, 400, "status"),
        ({"start": "2030-13-01"}, 400, "start"),
        ({"start": "2030-06-05", "end": "2030-06-04"}, 400, "end"),
        ({"page": 0}, 400, "page"),
        ({"page_size": 201}, 400, "page_size"),
        ({"staff": "ada"}, 400, "staff"),
        ({"staff": 999999}, 404, "staff"),
    ],
)
def test_bad_list_queries_are_refused_with_a_message(staff_api, catalogue, params, status, field):
    assert_error(get(staff_api, BOOKINGS, params), status, field=field)


# ---------------------------------------------------------------------------
# Booking
# ---------------------------------------------------------------------------
def test_create_confirms_at_once_with_source_api_and_an_audit_trail(staff_api, catalogue):
    response = post(staff_api, BOOKINGS, create_body(catalogue, staff=catalogue["ben"].pk,
                                                     notes="Regular"))  # fmt: skip

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["hold_expires_at"] is None
    assert body["staff"]["name"] == "Ben"
    assert body["source"] == "api"
    assert body["notes"] == "Regular"
    booking = Booking.objects.get(reference=body["reference"])
    assert booking.status == BookingStatus.CONFIRMED
    actions = list(booking.events.values_list("action", "actor_label"))
    key = ApiKey.objects.get()
    assert [a for a, _ in actions] == ["creneau.booking.held", "creneau.booking.confirmed"]
    assert all(key.prefix in label for _, label in actions)


def test_create_on_a_taken_time_is_409_and_writes_nothing(staff_api, catalogue, customer):
    row(catalogue, customer, starts_at=TEN_AM)
    body = create_body(catalogue, staff=catalogue["ada"].pk,
                       customer={"name": "New", "email": "new@example.test"})  # fmt: skip

    response = post(staff_api, BOOKINGS, body)

    assert_error(response, 409, code="slot_taken")
    assert Booking.objects.count() == 1
    assert not Customer.objects.filter(email="new@example.test").exists()


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"start": "2030-06-04T10:00:00"}, 400, "invalid", "start"),
        ({"start": None}, 400, "missing", "start"),
        ({"start": paris(2030, 6, 4, 20).isoformat()}, 400, "outside_working_hours", None),
        ({"service": 999999}, 404, "not_found", "service"),
        ({"staff": 999999}, 404, "not_found", "staff"),
        ({"occurrence": 1}, 400, "invalid", "occurrence"),
        ({"customer": {"name": "X", "email": "nope"}}, 400, "invalid", "customer.email"),
    ],
)
def test_bad_creates_are_refused_and_write_nothing(staff_api, catalogue, overrides, status, code,
                                                   field):  # fmt: skip
    body = {k: v for k, v in create_body(catalogue, **overrides).items() if v is not None}

    assert_error(post(staff_api, BOOKINGS, body), status, code=code, field=field)
    assert Booking.objects.count() == 0
    assert Customer.objects.count() == 0


def test_create_takes_a_confirmed_seat_in_a_group_session_until_full(staff_api, alpha_schema):
    group = build_catalogue(capacity=2)
    session = Occurrence.objects.create(
        service=group["service"], staff=group["ada"], starts_at=paris(2030, 6, 4, 18),
        ends_at=paris(2030, 6, 4, 19), capacity=2,
    )  # fmt: skip

    def seat(n: int):
        return post(staff_api, BOOKINGS, {
            "service": group["service"].pk, "occurrence": session.pk,
            "customer": {"name": f"Yogi {n}", "email": f"yogi{n}@example.test"},
        })  # fmt: skip

    made = [seat(1), seat(2)]
    full = seat(3)
    no_session = post(staff_api, BOOKINGS, create_body(group))

    assert [r.status_code for r in made] == [201, 201]
    assert {r.json()["occurrence"] for r in made} == {session.pk}
    assert {r.json()["status"] for r in made} == {"confirmed"}
    assert_error(full, 409, code="session_full")
    assert_error(no_session, 400, code="missing", field="occurrence")


# ---------------------------------------------------------------------------
# Detail and cancelling
# ---------------------------------------------------------------------------
def test_detail_by_reference(staff_api, catalogue, customer):
    booking = row(catalogue, customer, starts_at=TEN_AM)

    found = get(staff_api, f"{BOOKINGS}{booking.reference}/")
    unknown = get(staff_api, f"{BOOKINGS}ALP-ZZZZ/")

    assert found.status_code == 200
    assert found.json()["reference"] == booking.reference
    assert_error(unknown, 404, code="not_found")


def test_business_cancel_refunds_in_full_where_the_customer_would_get_nothing(
    staff_api, tenant_alpha, catalogue, customer
):
    soon = timezone.now() + timedelta(hours=3)  # inside the policy's 0 % tier for customers
    by_business = row(catalogue, customer, starts_at=soon)
    by_customer = row(catalogue, customer, starts_at=soon, staff_key="ben")

    response = post(staff_api, f"{BOOKINGS}{by_business.reference}/cancel/", {"reason": "Ill"})
    customer_view = client_for(tenant_alpha).post(
        f"/api/v1/bookings/{by_customer.reference}/cancel/",
        json.dumps({"token": by_customer.manage_token}), content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    result = response.json()
    assert result["booking"]["status"] == "cancelled"
    assert result["refund_percent"] == 100
    assert result["refund_reason"] == "business_cancelled"
    assert result["refund_minor"] == 0  # nothing was paid online for this booking
    assert customer_view.json()["refund_percent"] == 0
    event = by_business.events.get(action="creneau.booking.cancelled")
    assert event.reason == "Ill"
    assert "API key" in event.actor_label


def test_cancel_twice_answers_the_same_and_a_completed_booking_is_409(
    staff_api, catalogue, customer
):
    booking = row(catalogue, customer, starts_at=TEN_AM)
    past = row(catalogue, customer, starts_at=timezone.now() - timedelta(hours=3))
    booking_complete(booking=past, actor=SYSTEM)

    first = post(staff_api, f"{BOOKINGS}{booking.reference}/cancel/", {})
    second = post(staff_api, f"{BOOKINGS}{booking.reference}/cancel/", {})
    completed = post(staff_api, f"{BOOKINGS}{past.reference}/cancel/", {})
    unknown = post(staff_api, f"{BOOKINGS}ALP-ZZZZ/cancel/", {})

    assert first.status_code == second.status_code == 200
    assert first.json()["booking"]["status"] == second.json()["booking"]["status"] == "cancelled"
    assert_error(completed, 409, code="invalid_transition")
    assert_error(unknown, 404, code="not_found")
    assert booking.events.filter(action="creneau.booking.cancelled").count() == 1


def test_reschedule_moves_an_appointment_with_an_audit_trail(staff_api, catalogue, customer):
    booking = row(catalogue, customer, starts_at=TEN_AM)
    row(catalogue, customer, starts_at=paris(2030, 6, 5, 14), staff_key="ben")  # Ben is busy

    moved = post(staff_api, f"{BOOKINGS}{booking.reference}/reschedule/",
                 {"start": paris(2030, 6, 5, 14).isoformat()})  # fmt: skip
    to_ben = {"start": paris(2030, 6, 5, 14).isoformat(), "staff": catalogue["ben"].pk}
    taken = post(staff_api, f"{BOOKINGS}{booking.reference}/reschedule/", to_ben)

    assert moved.status_code == 200, moved.json()
    assert moved.json()["starts_at"] == "2030-06-05T12:00:00Z"
    assert moved.json()["staff"]["id"] == catalogue["ada"].pk  # the free one
    assert_error(taken, 409, code="slot_taken")
    booking.refresh_from_db()
    assert booking.starts_at == paris(2030, 6, 5, 14) and booking.staff == catalogue["ada"]
    event = booking.events.get(action="creneau.booking.rescheduled")
    assert "API key" in event.actor_label


def test_reschedule_moves_a_seat_to_another_session(staff_api, alpha_schema, customer):
    group = build_catalogue(capacity=2)
    tuesday, thursday = (
        Occurrence.objects.create(
            service=group["service"],
            staff=group[who],
            starts_at=paris(2030, 6, day, 18),
            ends_at=paris(2030, 6, day, 19),
            capacity=2,
        )  # fmt: skip
        for day, who in ((4, "ada"), (6, "ben"))
    )
    made = post(staff_api, BOOKINGS, {
        "service": group["service"].pk, "occurrence": tuesday.pk,
        "customer": {"name": "Yogi", "email": "yogi@example.test"},
    })  # fmt: skip
    assert made.status_code == 201, made.json()
    reference = made.json()["reference"]

    moved = post(staff_api, f"{BOOKINGS}{reference}/reschedule/", {"occurrence": thursday.pk})
    missing = post(staff_api, f"{BOOKINGS}{reference}/reschedule/",
                   {"start": paris(2030, 6, 6, 18).isoformat()})  # fmt: skip

    assert moved.status_code == 200, moved.json()
    assert moved.json()["starts_at"] == "2030-06-06T16:00:00Z"
    assert moved.json()["staff"]["id"] == group["ben"].pk
    assert Booking.objects.get(reference=reference).occurrence_id == thursday.pk
    assert_error(missing, 400, code="missing", field="occurrence")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({}, 400, "missing", "start"),
        ({"start": "tomorrow"}, 400, "invalid", "start"),
        ({"start": "2030-06-05T14:00:00"}, 400, "invalid", "start"),  # no offset
        ({"start": "2030-06-09T14:00:00+02:00"}, 400, "outside_working_hours", None),  # Sunday
    ],
)
def test_bad_reschedules_are_refused_and_change_nothing(staff_api, catalogue, customer, body,
                                                        status, code, field):  # fmt: skip
    booking = row(catalogue, customer, starts_at=TEN_AM)
    response = post(staff_api, f"{BOOKINGS}{booking.reference}/reschedule/", body)
    unknown = post(staff_api, f"{BOOKINGS}ALP-ZZZZ/reschedule/", {"start": TEN_AM.isoformat()})

    assert_error(response, status, code=code, field=field)
    assert_error(unknown, 404, code="not_found")
    booking.refresh_from_db()
    assert booking.starts_at == TEN_AM
    assert not booking.events.filter(action="creneau.booking.rescheduled").exists()


def test_schema_documents_the_staff_api_with_its_security_scheme(tenant_alpha):
    schema = json.loads(client_for(tenant_alpha).get("/api/schema/", {"format": "json"}).content)

    scheme = schema["components"]["securitySchemes"]["apiKey"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    for path, method in [("/api/v1/staff/bookings/", "get"), ("/api/v1/staff/bookings/", "post"),
                         ("/api/v1/staff/bookings/{reference}/cancel/", "post"),
                         ("/api/v1/staff/bookings/{reference}/reschedule/", "post")]:  # fmt: skip
        assert schema["paths"][path][method]["security"] == [{"apiKey": []}]
    assert "/api/v1/feeds/staff/{token}.ics" in schema["paths"]
    assert "/api/v1/bookings/{reference}/calendar.ics" in schema["paths"]


# ---------------------------------------------------------------------------
# API keys page
# ---------------------------------------------------------------------------
def test_api_keys_page_needs_a_manager_with_a_second_factor(tenant_alpha, owner_alpha):
    staff = make_member(tenant_alpha, "staff")

    unverified = member_client(tenant_alpha, owner_alpha).get("/settings/api-keys/")
    staff_page = member_client(tenant_alpha, staff, verified=True).get("/settings/api-keys/")
    verified = member_client(tenant_alpha, owner_alpha, verified=True).get("/settings/api-keys/")

    assert unverified.status_code == 302  # to verify (or enrol) a second factor
    assert staff_page.status_code == 403
    assert verified.status_code == 200


def test_owner_creates_a_key_shown_once_then_revokes_it(tenant_alpha, owner_alpha, catalogue):
    client = member_client(tenant_alpha, owner_alpha, verified=True)

    created = client.post("/settings/api-keys/", {"name": "Website sync"})

    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert key.name == "Website sync"
    assert key.created_by_user_id == owner_alpha.pk
    text = created.content.decode()
    secret = text.split('aria-label="New API key"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert secret.startswith(key.prefix) and api_key_hash(secret) == key.secret_hash
    assert secret not in client.get("/settings/api-keys/").content.decode()
    api = client_for(tenant_alpha)
    assert api.get(BOOKINGS, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200

    revoked = client.post(f"/settings/api-keys/{key.pk}/revoke/")

    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api.get(BOOKINGS, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_a_key_needs_a_name(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)

    response = client.post("/settings/api-keys/", {"name": "   "})

    assert response.status_code == 400
    assert "name" in response.content.decode()
    with tenant_context(tenant_alpha):
        assert not ApiKey.objects.exists()
