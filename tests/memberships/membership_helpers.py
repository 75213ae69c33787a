"""Shared steps of the membership tests: an offer on sale, joining through the first invoice's
PaymentIntent (confirmed with a test card instead of the Payment Element), the test clock, and
relaying Stripe's signed webhooks to /stripe/webhook/ (tests/connect_payments/conftest.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import stripe
from django.db import connection

from memberships.models import CreditGrant, CreditSourceKind, Membership, MembershipOffer
from memberships.services.memberships import (
    OfferTerms,
    membership_join,
    membership_offer_create,
    membership_offer_publish,
)
from tests.scheduling.conftest import NOW

CLOCK_START = int(NOW.timestamp())


def offer_on_sale(services: list[Any], **terms: Any) -> MembershipOffer:
    values: dict[str, Any] = {
        "name": "Monthly 8 classes",
        "price_minor": 6000,
        "currency": "eur",
        "interval": "month",
        "credits_per_period": 8,
        **terms,
    }
    offer = membership_offer_create(
        terms=OfferTerms(**values), service_ids=[service.pk for service in services]
    )
    return membership_offer_publish(offer=offer)


def join_and_pay(
    sdk: stripe.StripeClient, offer: MembershipOffer, customer: Any, *, clock: str
) -> Membership:
    membership = membership_join(offer=offer, customer=customer, test_clock=clock)
    assert membership.client_secret
    sdk.v1.payment_intents.confirm(
        membership.client_secret.split("_secret_")[0], params={"payment_method": "pm_card_visa"}
    )
    return membership


def new_clock(sdk: stripe.StripeClient) -> str:
    return sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": CLOCK_START}).id


def advance(sdk: stripe.StripeClient, clock: str, to: datetime) -> None:
    sdk.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": int(to.timestamp())})


def relay_all(webhooks: Any, captured: Any, event_type: str, object_id: str, tenant: Any) -> int:
    """Relay every signed delivery of `event_type` about `object_id`; back in the tenant."""
    deliveries = webhooks.deliveries(event_type, object_id)
    for delivery in deliveries:
        response = webhooks.relay(delivery, captured=captured)
        assert response.status_code == 200, response.content
    connection.set_tenant(tenant)
    return len(deliveries)


def membership_grants(membership: Membership) -> list[CreditGrant]:
    return list(
        CreditGrant.objects.filter(
            source_kind=CreditSourceKind.MEMBERSHIP, source_id=str(membership.pk)
        ).order_by("valid_from", "pk")
    )
