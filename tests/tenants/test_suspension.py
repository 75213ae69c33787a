"""A suspended business: no new bookings and no back office, but the customers who already
booked can still open their manage link, cancel under the policy and reach the business."""

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from scheduling.actors import Actor
from scheduling.models import Booking
from scheduling.services.bookings import booking_confirm, booking_hold
from scheduling.services.customers import customer_upsert
from tests.factories import client_for, member_client
from tests.widgets.conftest import build_widget_catalogue
from widgets.models import Branding

PARIS = ZoneInfo("Europe/Paris")
DESK = Actor("Desk", user_id=None)


@pytest.fixture
def booked(tenant_alpha):
    """A confirmed haircut three days ahead, a business with contact details, then suspended."""
    with tenant_context(tenant_alpha):
        catalogue = build_widget_catalogue()
        Branding.objects.update_or_create(
            defaults={"contact_phone": "+33 1 23 45 67 89", "contact_email": "hello@alpha.test"}
        )
        day = timezone.now().astimezone(PARIS).date() + timedelta(days=3)
        start = datetime.combine(day, time(10), PARIS)
        customer = customer_upsert(name="Chloé Client", email="chloe@example.test")
        booking = booking_hold(service=catalogue["haircut"], starts_at=start, customer=customer)
        booking = booking_confirm(booking=booking, actor=DESK)
    tenant_alpha.status, tenant_alpha.suspended_reason = "suspended", "Unpaid invoices"
    tenant_alpha.save(update_fields=["status", "suspended_reason"])
    return {"booking": booking, "catalogue": catalogue}


def test_a_customer_of_a_suspended_business_still_sees_the_booking_and_the_contacts(
    tenant_alpha, booked
):
    booking = booked["booking"]
    customer = client_for(tenant_alpha)
    token = booking.manage_token
    page = customer.get(f"/manage/{booking.reference}/?token={token}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "+33 1 23 45 67 89" in body and "hello@alpha.test" in body
    assert "Unpaid invoices" not in body
    api = customer.get(f"/api/v1/bookings/{booking.reference}/?token={token}")
    assert api.status_code == 200 and api.json()["reference"] == booking.reference
    helper = customer.get(f"/widget/bookings/{booking.reference}/?token={token}")
    assert helper.status_code == 200
    # The manage page offers cancelling, not moving: a move would be refused.
    assert (helper.json()["changeable"], helper.json()["reschedulable"]) == (True, False)
    ics = customer.get(f"/api/v1/bookings/{booking.reference}/calendar.ics?token={token}")
    assert ics.status_code == 200
    # The token is still checked.
    assert customer.get(f"/api/v1/bookings/{booking.reference}/?token=nope").status_code == 404


def test_a_customer_of_a_suspended_business_can_cancel(tenant_alpha, booked):
    booking = booked["booking"]
    response = client_for(tenant_alpha).post(
        f"/api/v1/bookings/{booking.reference}/cancel/",
        json.dumps({"token": booking.manage_token, "reason": "Cannot come"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    with tenant_context(tenant_alpha):
        assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_a_suspended_business_takes_no_new_or_moved_bookings(tenant_alpha, booked, owner_alpha):
    booking, haircut = booked["booking"], booked["catalogue"]["haircut"]
    customer = client_for(tenant_alpha)
    assert customer.get("/book/").status_code == 503
    refused = customer.post(
        "/api/v1/bookings/",
        json.dumps({"service": haircut.pk, "start": booking.starts_at.isoformat(),
                    "customer": {"name": "New", "email": "new@example.test"}}),
        content_type="application/json",
    )  # fmt: skip
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "business_suspended"
    for path in (f"/api/v1/availability/?service={haircut.pk}", "/api/v1/services/",
                 f"/widget/days/?service={haircut.pk}"):  # fmt: skip
        assert customer.get(path).status_code == 503, path
    moved = customer.post(
        f"/api/v1/bookings/{booking.reference}/reschedule/",
        json.dumps({"token": booking.manage_token, "start": booking.starts_at.isoformat()}),
        content_type="application/json",
    )
    assert moved.status_code == 503
    assert member_client(tenant_alpha, owner_alpha).get("/").status_code == 503
