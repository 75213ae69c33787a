"""Waitlist fixtures: a class of two seats paid online (alpha, Europe/Paris, June 2030), local
Stripe and alpha's onboarded account (the payments tests' fixtures), and helpers that fill the
class and run the outbox's after-commit tasks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from scheduling.models import Booking, Occurrence, PaymentMode
from scheduling.services.bookings import booking_confirm, booking_take_seat
from scheduling.services.customers import customer_upsert
from tests.connect_payments.conftest import (  # noqa: F401  (fixtures)
    alpha,
    alpha_account,
    fee_plan,
    sdk,
    stripe_base_url,
    stripe_settings,
    webhooks,
)
from tests.scheduling.conftest import build_catalogue, paris

TUESDAY_SIX_PM = paris(2030, 6, 4, 18)


def build_yoga(*, seats: int = 2, payment_mode: str = PaymentMode.ONLINE_FULL) -> dict[str, Any]:
    """The shared catalogue's service as a class of `seats` at 20.00, one session on Tuesday
    4 June 2030 18:00 with Ada, and a second on Thursday with Ben."""
    catalogue = build_catalogue(capacity=seats)
    service = catalogue["service"]
    service.name = "Yoga"
    service.price_minor = 2000
    service.payment_mode = payment_mode
    service.save(update_fields=["name", "price_minor", "payment_mode"])
    catalogue["session"] = Occurrence.objects.create(
        service=service, staff=catalogue["ada"], starts_at=TUESDAY_SIX_PM,
        ends_at=paris(2030, 6, 4, 19), capacity=seats,
    )  # fmt: skip
    catalogue["thursday"] = Occurrence.objects.create(
        service=service, staff=catalogue["ben"], starts_at=paris(2030, 6, 6, 18),
        ends_at=paris(2030, 6, 6, 19), capacity=seats,
    )  # fmt: skip
    return catalogue


def fill(session: Occurrence, *, prefix: str = "member") -> list[Booking]:
    """Confirmed seats for every place of the session."""
    bookings = []
    for n in range(session.capacity):
        customer = customer_upsert(name=f"Member {n}", email=f"{prefix}{n}@example.test")
        booking = booking_take_seat(occurrence=session, customer=customer)
        bookings.append(booking_confirm(booking=booking))
    return bookings


def offer_links(outbox: list | None = None) -> list[str]:
    """The offer links of the offer emails sent so far (path and query)."""
    links = []
    for message in outbox if outbox is not None else mail.outbox:
        for line in message.body.splitlines():
            if "/book/waitlist/offer/" in line:
                links.append(line.strip().split("localhost", 1)[1])
    return links


@pytest.fixture
def yoga(alpha):  # noqa: F811  (the payments tests' tenant-schema fixture)
    return build_yoga()
