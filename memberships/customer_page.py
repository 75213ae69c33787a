"""Credits and memberships on a customer's back-office page (registered through
`scheduling.ports.register_customer_section` by `back_office.register_back_office`): what is
left and until when, each membership's status and next renewal, no amounts; links to the
credits page and the member's page for the roles that may open them."""

from __future__ import annotations

from django.utils.translation import gettext

from scheduling.models import Customer
from scheduling.ports import CustomerSection
from tenants.roles import Permission, role_allows

from .models.memberships import Membership, MembershipStatus
from .selectors.credits import credit_balances_of


def credits_customer_section(customer: Customer, role: str) -> CustomerSection | None:
    balances = credit_balances_of(customer=customer)
    if not balances:
        return None
    return CustomerSection(
        key="credits",
        title=gettext("Credits"),
        template="memberships/customer_section_credits.html",
        context={
            "balances": balances,
            # The ledger, adjustments and booking with a credit live on the credits page.
            "can_open": role_allows(role, Permission.MANAGE_BOOKINGS),
        },
        order=20,
    )


def memberships_customer_section(customer: Customer, role: str) -> CustomerSection | None:
    memberships = list(
        Membership.objects.filter(customer=customer)
        .exclude(status=MembershipStatus.INCOMPLETE, stripe_subscription_id__isnull=True)
        .order_by("-created_at")[:20]
    )
    if not memberships:
        return None
    return CustomerSection(
        key="memberships",
        title=gettext("Memberships"),
        template="memberships/customer_section_memberships.html",
        context={
            "memberships": memberships,
            "can_open": role_allows(role, Permission.VIEW_ALL_CUSTOMERS),
        },
        order=30,
    )
