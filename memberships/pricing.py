"""Member prices: `scheduling.ports.Pricing` answered from the customer's active memberships.

A membership offer's `member_discount_percent` is a percentage off the service's price, on the
services the offer does not cover (those it covers are booked with its credits). Only an
**active** membership counts: one whose payment failed (past due), awaiting its first payment,
or ended gives no member price. With several memberships the lowest price wins. The discount is
rounded half-up to the cent (the member pays `price − discount`); a member price is never 0
(the offer form allows 1–99 %, and a 100 % stored by older code counts as 99 %), so a service
paid online always has something to pay online.

Scheduling asks only for a customer a signed-in account session identifies, or one the team
chose (docs/memberships.md, "Member prices").
"""

from __future__ import annotations

from common.money import percent_of
from scheduling.models import Customer, Service
from scheduling.ports import MemberPrice

from .models import Membership, MembershipStatus

MAX_PERCENT_OFF = 99


def member_price_of(*, price_minor: int, percent_off: int) -> int:
    """The member price of `price_minor` at `percent_off` % off (half-up), at least 1 minor unit
    for a priced service."""
    percent = min(max(percent_off, 0), MAX_PERCENT_OFF)
    discount = percent_of(amount_minor=price_minor, basis_points=percent * 100)
    return max(price_minor - discount, 1 if price_minor > 0 else 0)


class MembershipPricing:
    def member_price_for(self, *, customer: Customer, service: Service) -> MemberPrice | None:
        if service.price_minor <= 0 or service.payment_mode == "free":
            return None
        memberships = (
            Membership.objects.filter(
                customer=customer,
                status=MembershipStatus.ACTIVE,
                offer__member_discount_percent__isnull=False,
            )
            .exclude(offer__services=service)  # covered: booked with the membership's credits
            .select_related("offer")
        )
        best: MemberPrice | None = None
        for membership in memberships:
            percent = min(membership.offer.member_discount_percent or 0, MAX_PERCENT_OFF)
            price = member_price_of(price_minor=service.price_minor, percent_off=percent)
            if price < service.price_minor and (best is None or price < best.price_minor):
                best = MemberPrice(
                    price_minor=price,
                    normal_minor=service.price_minor,
                    percent_off=percent,
                    label=membership.name,
                )
        return best
