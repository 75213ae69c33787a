"""Demo data for `make run`: a 10-class pass of Studio Zen's yoga class, on sale."""

from __future__ import annotations

from scheduling.models import Service

from .models import PassOffer, PassOfferStatus
from .services.passes import pass_offer_save, pass_offer_set_status


def demo_passes_seed() -> bool:
    """Create the demo pass in the current schema; False when passes exist or no class does."""
    if PassOffer.objects.exists():
        return False
    classes = list(
        Service.objects.filter(capacity__gt=1, is_active=True).values_list("pk", flat=True)
    )
    if not classes:
        return False
    offer = pass_offer_save(
        offer=None,
        fields={
            "name": "10-class pass", "description": "Ten yoga classes, valid three months.",
            "credits": 10, "validity_days": 90, "validity_starts": "purchase",
            "price_minor": 12000, "new_customers_only": False, "per_customer_limit": None,
        },
        service_ids=classes,
    )  # fmt: skip
    pass_offer_set_status(offer=offer, status=PassOfferStatus.ON_SALE)
    return True
