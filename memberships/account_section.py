"""Memberships' section of the customer's account page (`scheduling.ports.AccountSection`):
credits with their expiry dates, and the passes bought with their receipts."""

from __future__ import annotations

from scheduling.models import Customer
from scheduling.ports import AccountSection

from .exceptions import lazy_text as _
from .models import PassPurchase, PassPurchaseStatus
from .selectors.credits import credit_balances_of


def credits_account_section(customer: Customer) -> AccountSection | None:
    balances = credit_balances_of(customer=customer)
    purchases = list(
        PassPurchase.objects.filter(customer=customer)
        .exclude(status__in=(PassPurchaseStatus.PENDING, PassPurchaseStatus.CANCELED))
        .prefetch_related("refunds")
    )
    return AccountSection(
        key="credits",
        title=_("Your credits and passes"),
        template="memberships/account_credits.html",
        context={"balances": balances, "purchases": purchases},
        order=20,
    )
