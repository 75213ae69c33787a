"""How a booking made from a waitlist offer is paid: the small interface acceptance goes through.

Two ways, one interface each:
- `AcceptancePayment` — the customer accepts through the offer link; the place is held and paid
  through the Payment Element, exactly like a booking made on the booking page (the hold, the
  PaymentIntent, the webhook or the return path confirming it). This is what runs today.
- `SavedCardCharger` — automatic mode: the place is booked at once and the customer's saved card
  charged off-session. Cards on file belong to connect_payments (issue #15, part 1); until an
  implementation is registered (`register_saved_card_charger`, in that app's `ready()`), the
  automatic mode is not offered and offers go by link.

Neither is ever called inside a database transaction: both talk to Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from scheduling import ports
from scheduling.models import Booking


class AcceptancePayment(Protocol):
    def after_hold(self, *, booking: Booking) -> dict[str, Any] | None:
        """Once the hold committed: the `payment` object the pay page mounts (None: nothing to
        pay online)."""


class PaymentElementPayment:
    """The booking page's own path (scheduling.ports.Payments, answered by connect_payments)."""

    def after_hold(self, *, booking: Booking) -> dict[str, Any] | None:
        return ports.payments().after_hold(booking=booking)


@dataclass(frozen=True)
class ChargeResult:
    paid: bool
    message: str = ""  # the bank's answer when declined, safe to show


class SavedCardCharger(Protocol):
    def has_saved_card(self, *, email: str) -> bool:
        """Whether this customer left a card for off-session charges."""

    def charge(self, *, booking: Booking, idempotency_key: str) -> ChargeResult:
        """Charge the held booking's amount off-session; a paid charge confirms the booking the
        way a paid PaymentIntent does (and is refunded if the booking is gone meanwhile)."""


_acceptance_payment: AcceptancePayment = PaymentElementPayment()
_saved_card_charger: SavedCardCharger | None = None


def acceptance_payment() -> AcceptancePayment:
    return _acceptance_payment


def register_saved_card_charger(charger: SavedCardCharger | None) -> None:
    global _saved_card_charger
    _saved_card_charger = charger


def saved_card_charger() -> SavedCardCharger | None:
    return _saved_card_charger
