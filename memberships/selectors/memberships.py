"""Reads of memberships: the customer's account-page section (`scheduling.ports.AccountSection`,
registered in `MembershipsConfig.ready()`), and what the booking page links to."""

from __future__ import annotations

from scheduling.models import Customer
from scheduling.ports import AccountSection

from ..exceptions import lazy_text as _
from ..models.memberships import (
    Membership,
    MembershipOffer,
    MembershipOfferStatus,
    MembershipStatus,
)


def memberships_account_section(customer: Customer) -> AccountSection | None:
    """The customer's memberships (status, next renewal, a link to manage each), or an
    invitation to join when the business sells some; None when there is nothing to show."""
    memberships = list(
        Membership.objects.filter(customer=customer)
        .exclude(status=MembershipStatus.INCOMPLETE, stripe_subscription_id__isnull=True)
        .order_by("-created_at")[:20]
    )
    on_sale = MembershipOffer.objects.filter(status=MembershipOfferStatus.ON_SALE).exists()
    if not memberships and not on_sale:
        return None
    return AccountSection(
        key="memberships",
        title=_("Your memberships"),
        template="memberships/account_memberships.html",
        context={"memberships": memberships, "on_sale": on_sale},
        order=30,
    )


def offers_on_sale() -> dict[str, bool]:
    """Whether the business sells passes and memberships right now (the booking page links to
    `/my/passes/` and `/my/memberships/` only then)."""
    from ..models.passes import PassOffer, PassOfferStatus

    return {
        "passes": PassOffer.objects.filter(status=PassOfferStatus.ON_SALE).exists(),
        "memberships": MembershipOffer.objects.filter(
            status=MembershipOfferStatus.ON_SALE
        ).exists(),
    }
