"""A paused subscription stops new online bookings at every customer entry point (hosted page,
widget, public API: friendly 503), keeps customers' manage links and the team's back office,
and suspension keeps precedence."""

from __future__ import annotations

import pytest

from billing.access import booking_paused_by_subscription
from billing.models import SubscriptionStatus, TenantSubscription
from tenants import ports
from tests.factories import client_for, member_client

pytestmark = pytest.mark.django_db


def _status(tenant, status: str, *, complimentary: bool = False) -> None:
    TenantSubscription.objects.update_or_create(
        tenant=tenant, defaults={"status": status, "complimentary": complimentary}
    )


def test_billing_registers_the_booking_pause_port() -> None:
    assert ports.booking_pause_registered()
    assert ports._booking_paused is booking_paused_by_subscription


@pytest.mark.parametrize("status", ["paused", "unpaid", "canceled"])
def test_paused_subscription_stops_new_bookings_with_a_friendly_503(tenant_alpha, status) -> None:
    _status(tenant_alpha, status)
    customer = client_for(tenant_alpha)

    page = customer.get("/book/")
    assert page.status_code == 503
    assert "not taking online bookings right now" in page.content.decode()

    api = customer.post("/api/v1/bookings/", data={}, content_type="application/json")
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "booking_paused"
    assert customer.get("/api/v1/availability/").status_code == 503


def test_customers_keep_their_manage_links_and_the_team_its_back_office(
    tenant_alpha, owner_alpha
) -> None:
    _status(tenant_alpha, SubscriptionStatus.PAUSED)
    # An unknown booking answers 404 (the view ran), not the pause's 503.
    assert client_for(tenant_alpha).get("/api/v1/bookings/NOPE/").status_code == 404
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    assert owner.get("/").status_code == 200


@pytest.mark.parametrize(
    ("status", "complimentary"),
    [("trialing", False), ("active", False), ("past_due", False), ("canceled", True)],
)
def test_trial_active_grace_and_complimentary_keep_booking_open(
    tenant_alpha, status, complimentary
) -> None:
    _status(tenant_alpha, status, complimentary=complimentary)
    assert client_for(tenant_alpha).get("/book/").status_code == 200


def test_suspension_keeps_precedence(tenant_alpha) -> None:
    _status(tenant_alpha, SubscriptionStatus.PAUSED)
    tenant_alpha.status, tenant_alpha.suspended_reason = "suspended", "Fraud check"
    tenant_alpha.save(update_fields=["status", "suspended_reason"])
    api = client_for(tenant_alpha).post(
        "/api/v1/bookings/", data={}, content_type="application/json"
    )
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "business_suspended"
