"""The saved-cards section of the signed-in customer's account page (registered in
`ConnectPaymentsConfig.ready()` through `scheduling.ports.register_account_section`): the cards
the customer saved with this business for its fees, each removable (detached at Stripe)."""

from __future__ import annotations

from django.utils.translation import gettext

from scheduling.models import Customer
from scheduling.ports import AccountSection

from .models import FeeCharge, FeeStatus, SavedCard


def saved_cards_account_section(customer: Customer) -> AccountSection | None:
    cards = list(SavedCard.objects.filter(owner__customer=customer, removed_at__isnull=True))
    awaiting = list(
        FeeCharge.objects.filter(
            booking__customer=customer, status=FeeStatus.AWAITING_CUSTOMER
        ).select_related("booking__service")
    )
    if not cards and not awaiting:
        return None
    return AccountSection(
        key="saved_cards",
        title=gettext("Saved cards"),
        template="connect_payments/account_saved_cards.html",
        context={"cards": cards, "awaiting": awaiting},
        order=40,
    )
