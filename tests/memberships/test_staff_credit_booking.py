"""The back office's new-booking page (/bookings/new/) books a customer with their credit: the
page offers the credit the typed customer has for the service, "Use a credit" holds it (spent at
confirmation), a customer without one gets a form error and nothing is written. Who may: the
roles with `manage_bookings` (owner, manager, front desk; docs/roles.md); the staff role may not
create bookings at all."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from memberships.models import CreditEntry, CreditGrant
from scheduling.models import Booking, Customer
from scheduling.services.customers import customer_upsert
from tests.factories import make_member, member_client
from tests.scheduling.conftest import build_catalogue, paris

from .conftest import grant_credits


@pytest.fixture
def alpha_data(tenant_alpha):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Chloé Client", email="chloe@example.test")
        grant = grant_credits(customer, credits=3, services=[catalogue["service"]])
    return {"catalogue": catalogue, "customer": customer, "grant": grant}


def form_data(catalogue, **overrides) -> dict:
    return {
        "service": catalogue["service"].pk, "staff": catalogue["ada"].pk, "date": "2030-06-04",
        "slot": "10:00", "time": "", "name": "Chloé Client", "email": "Chloe@example.test",
        "phone": "", "notes": "", "book": "1", **overrides,
    }  # fmt: skip


@pytest.mark.parametrize("role", ["owner", "manager", "front_desk"])
def test_the_team_books_a_customer_with_their_credit(tenant_alpha, alpha_data, role):
    client = member_client(tenant_alpha, make_member(tenant_alpha, role), verified=True)
    catalogue = alpha_data["catalogue"]
    page = client.post("/bookings/new/", {**form_data(catalogue), "show_times": "1"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="credit-offer"' in html and "(3 left)" in html
    response = client.post("/bookings/new/", {**form_data(catalogue), "use_credit": "on"})
    assert response.status_code == 302, response.content.decode()
    with tenant_context(tenant_alpha):
        booking = Booking.objects.get()
        assert (booking.status, booking.payment_mode) == ("confirmed", "credit")
        assert booking.starts_at == paris(2030, 6, 4, 10)
        assert CreditGrant.objects.get(pk=alpha_data["grant"].pk).remaining == 2
        assert sorted(CreditEntry.objects.filter(booking=booking).values_list(
            "kind", flat=True)) == ["held", "spent"]  # fmt: skip


def test_no_credit_offer_for_a_customer_without_one(tenant_alpha, alpha_data):
    client = member_client(tenant_alpha, make_member(tenant_alpha, "front_desk"))
    data = form_data(alpha_data["catalogue"], email="paul@example.test", name="Paul")
    html = client.post("/bookings/new/", {**data, "show_times": "1"}).content.decode()
    assert 'id="credit-offer"' not in html


def test_use_credit_without_a_credit_is_a_form_error_and_writes_nothing(tenant_alpha, alpha_data):
    client = member_client(tenant_alpha, make_member(tenant_alpha, "front_desk"))
    data = form_data(alpha_data["catalogue"], email="paul@example.test", name="Paul")
    response = client.post("/bookings/new/", {**data, "use_credit": "on"})
    assert response.status_code == 400
    assert "has no credit covering this service" in response.content.decode()
    with tenant_context(tenant_alpha):
        assert not Booking.objects.exists()
        assert not Customer.objects.filter(email="paul@example.test").exists()


def test_without_use_credit_the_booking_is_not_paid_with_a_credit(tenant_alpha, alpha_data):
    client = member_client(tenant_alpha, make_member(tenant_alpha, "front_desk"))
    assert client.post("/bookings/new/", form_data(alpha_data["catalogue"])).status_code == 302
    with tenant_context(tenant_alpha):
        assert Booking.objects.get().payment_mode != "credit"
        assert CreditGrant.objects.get(pk=alpha_data["grant"].pk).remaining == 3


def test_the_staff_role_cannot_book_with_a_credit(tenant_alpha, alpha_data):
    client = member_client(tenant_alpha, make_member(tenant_alpha, "staff"))
    data = {**form_data(alpha_data["catalogue"]), "use_credit": "on"}
    assert client.post("/bookings/new/", data).status_code == 403
    with tenant_context(tenant_alpha):
        assert not Booking.objects.exists()
        assert CreditGrant.objects.get(pk=alpha_data["grant"].pk).remaining == 3
