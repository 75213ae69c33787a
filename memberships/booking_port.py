"""Memberships' side of scheduling's ports: credits for holds, and the reactions to transitions.

`MembershipCredits` answers `scheduling.ports.Credits` (the widget's "book with a credit" and
the hold taking it). `credit_on_booking_transition` is registered with
`scheduling.ports.register_booking_transition` and runs inside each transition's transaction:

| transition                         | credit                                                |
|------------------------------------|-------------------------------------------------------|
| held → confirmed                   | spent                                                 |
| held → cancelled, held → expired   | returned (the booking never happened)                 |
| confirmed → cancelled              | returned when the policy refunds 100 % (in policy, or |
|                                    | cancelled by the business), else kept (forfeited)     |
| confirmed → no_show                | kept (forfeited)                                      |
| confirmed → completed              | stays spent                                           |
| rescheduled (same status)          | stays; refused past the credit's expiry date, or into |
|                                    | a day / week already at the grant's cap               |

A credit is indivisible: a policy tier refunding 50 % of money keeps the credit.
"""

from __future__ import annotations

from datetime import datetime

from scheduling.exceptions import InvalidTransition
from scheduling.models import Booking, BookingEvent, BookingStatus, Customer, Service
from scheduling.ports import BookingTransition, CreditOffer

from .exceptions import CreditCapReached
from .models import CreditGrant
from .selectors.credits import cap_refusal, credit_of_booking, usable_grant_for
from .services.credits import credit_forfeit, credit_hold, credit_return, credit_spend


def _label_of(grant: CreditGrant) -> str:
    purchase = getattr(grant, "pass_purchase", None)
    if purchase is not None:
        return purchase.name
    return grant.get_source_kind_display()


class MembershipCredits:
    """`scheduling.ports.Credits` through the credit ledger."""

    def offer_for(
        self, *, customer: Customer, service: Service, starts_at: datetime
    ) -> CreditOffer | None:
        grant = usable_grant_for(customer=customer, service=service, starts_at=starts_at)
        if grant is None:
            return None
        return CreditOffer(
            label=_label_of(grant), remaining=grant.remaining, expires_at=grant.expires_at
        )

    def take_for_hold(self, *, booking: Booking, now: datetime) -> None:
        credit_hold(booking=booking, now=now)


def _cancel_refund_percent(booking_id: int) -> int:
    event = (
        BookingEvent.objects.filter(booking_id=booking_id, to_status=BookingStatus.CANCELLED)
        .order_by("-pk")
        .values_list("data", flat=True)
        .first()
    )
    return int((event or {}).get("refund_percent") or 0)


def credit_on_booking_transition(transition: BookingTransition) -> None:
    """React to one booking transition (see the table above); no-op for bookings without a
    credit, and for a reaction already applied (spend and return are once per booking)."""
    if not transition.from_status:
        return  # the hold itself: the credit was taken by take_for_hold
    held = credit_of_booking(booking_id=transition.booking_id)
    if held is None:
        return
    booking = Booking.objects.get(pk=transition.booking_id)
    if transition.from_status == transition.to_status:  # moved to another time
        expires_at = held.grant.expires_at
        if expires_at is not None and booking.starts_at >= expires_at:
            raise InvalidTransition(
                "The credit this booking was paid with expires before the new time."
            )
        # The grant's row lock serialises this with holds counting the same day or week.
        grant = CreditGrant.objects.select_for_update().get(pk=held.grant_id)
        refusal = cap_refusal(grant, starts_at=booking.starts_at, exclude_booking_id=booking.pk)
        if refusal:
            raise CreditCapReached(refusal)
        return
    to, origin = transition.to_status, transition.from_status
    if to in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
        credit_spend(booking=booking)
    elif to == BookingStatus.EXPIRED or (to == BookingStatus.CANCELLED and origin == "held"):
        credit_return(booking=booking, reason="The booking was not completed.",
                      actor=transition.actor)  # fmt: skip
    elif to == BookingStatus.CANCELLED:
        if _cancel_refund_percent(booking.pk) >= 100:
            credit_return(booking=booking, reason="Cancelled within the cancellation policy.",
                          actor=transition.actor)  # fmt: skip
        else:
            credit_forfeit(booking=booking, reason="Cancelled too late: the credit is used.")
    elif to == BookingStatus.NO_SHOW:
        credit_forfeit(booking=booking, reason="No-show: the credit is used.")
