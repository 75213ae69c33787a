"""Back-office pages of passes and credits: offers (owners and managers), pass sales and
refunds (amounts: owners and managers only), customers' credits and booking with a credit
(front desk and up); another business's customer is a 404."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from memberships.models import CreditEntry, PassOffer
from scheduling.models import Booking
from scheduling.services.customers import customer_upsert
from tenants.roles import Role
from tests.factories import make_member, member_client
from tests.scheduling.conftest import build_catalogue

from .conftest import grant_credits


@pytest.fixture
def alpha_data(tenant_alpha):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Chloé Client", email="chloe@example.test")
        grant_credits(customer, credits=3, services=[catalogue["service"]])
    return {"catalogue": catalogue, "customer": customer}


def client_as(tenant, role):
    return member_client(tenant, make_member(tenant, role), verified=True)


def test_owner_creates_an_offer_and_puts_it_on_sale(tenant_alpha, owner_alpha, alpha_data):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    service = alpha_data["catalogue"]["service"]
    response = client.post("/passes/", {
        "name": "10-class pass", "credits": "10", "validity_days": "90",
        "validity_starts": "purchase", "services": [service.pk], "price": "120.00",
    })  # fmt: skip
    assert response.status_code == 302
    with tenant_context(tenant_alpha):
        offer = PassOffer.objects.get()
        assert (offer.status, offer.price_minor, offer.currency) == ("draft", 12000, "EUR")
    client.post(f"/passes/{offer.pk}/status/", {"status": "on_sale"})
    page = client.get("/passes/").content.decode()
    assert "On sale" in page and "€120.00" in page


def test_offer_form_errors_are_shown_not_a_500(tenant_alpha, owner_alpha, alpha_data):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    response = client.post("/passes/", {"name": "x", "credits": "0", "validity_days": "90",
                                        "validity_starts": "purchase", "price": "abc"})  # fmt: skip
    assert response.status_code == 400
    with tenant_context(tenant_alpha):
        assert PassOffer.objects.count() == 0


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.STAFF])
def test_offers_and_sales_are_for_owners_and_managers(tenant_alpha, alpha_data, role):
    client = client_as(tenant_alpha, role)
    assert client.get("/passes/").status_code == 403
    assert client.get("/passes/sales/").status_code == 403


def test_front_desk_books_a_customer_with_a_credit_and_sees_no_amounts(tenant_alpha, alpha_data):
    client = client_as(tenant_alpha, Role.FRONT_DESK)
    customer, catalogue = alpha_data["customer"], alpha_data["catalogue"]
    page = client.get(f"/credits/{customer.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Book with a credit" in text and "€" not in text and "Adjust credits" not in text
    response = client.post(f"/credits/{customer.pk}/book/", {
        "service": catalogue["service"].pk, "starts_at": "2030-06-04 10:00",
    })  # fmt: skip
    assert response.status_code == 302
    with tenant_context(tenant_alpha):
        booking = Booking.objects.get()
        assert (booking.status, booking.payment_mode, booking.source) == (
            "confirmed",
            "credit",
            "staff",
        )
        assert booking.starts_at.isoformat() == "2030-06-04T08:00:00+00:00"  # Paris time
        assert CreditEntry.objects.filter(kind="held").count() == 1
    assert (
        client.post(f"/credits/{customer.pk}/adjust/", {"delta": 5, "reason": "x"}).status_code
        == 403
    )


def test_manager_adjusts_credits_with_a_reason(tenant_alpha, alpha_data):
    client = client_as(tenant_alpha, Role.MANAGER)
    customer = alpha_data["customer"]
    with tenant_context(tenant_alpha):
        grant = customer.credit_grants.get()
    client.post(
        f"/credits/{customer.pk}/adjust/", {"grant": grant.pk, "delta": "-5", "reason": "Oops"}
    )
    with tenant_context(tenant_alpha):
        assert CreditEntry.objects.filter(kind="adjusted").count() == 0  # refused: only 3 left
    client.post(
        f"/credits/{customer.pk}/adjust/", {"grant": grant.pk, "delta": "2", "reason": "Gift"}
    )
    with tenant_context(tenant_alpha):
        grant.refresh_from_db()
        assert grant.remaining == 5
    assert "Gift" in client.get(f"/credits/{customer.pk}/").content.decode()


def test_a_customer_of_another_business_is_not_found(tenant_beta, owner_beta, alpha_data):
    client = member_client(tenant_beta, owner_beta, verified=True)
    assert client.get(f"/credits/{alpha_data['customer'].pk}/").status_code == 404
