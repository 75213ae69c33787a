"""The saved-card section of a customer's back-office page (registered in
`ConnectPaymentsConfig.ready()` through `scheduling.ports.register_customer_section`): brand and
last four digits only, for every role that may open the customer."""

from __future__ import annotations

from django.utils.translation import gettext

from scheduling.models import Customer
from scheduling.ports import CustomerSection

from .models import SavedCard


def saved_cards_customer_section(customer: Customer, role: str) -> CustomerSection | None:
    cards = list(
        SavedCard.objects.filter(owner__customer=customer, removed_at__isnull=True).only(
            "brand", "last4", "exp_month", "exp_year"
        )
    )
    if not cards:
        return None
    return CustomerSection(
        key="saved_cards",
        title=gettext("Saved card"),
        template="connect_payments/customer_saved_cards.html",
        context={"cards": cards},
        order=40,
    )
