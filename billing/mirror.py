"""Keeps the platform's Stripe objects in dj-stripe's tables (Customer, Subscription, Invoice,
Product, Price): every Stripe answer billing acts on is synced here.

dj-stripe calls the `stripe` module's globals, not our `StripeClient`: with local Stripe
(STRIPE_API_BASE set) the module's `api_base` must point at it too, or dj-stripe's follow-up
reads (the owner account, related objects) would go to api.stripe.com.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings


def _djstripe_api_key() -> str:
    base = settings.STRIPE_API_BASE.rstrip("/")
    if base:
        stripe.api_base = base
        stripe.connect_api_base = base
    # dj-stripe checks the key's shape (sk_test_ + 24 alphanumerics); local Stripe accepts any.
    return settings.STRIPE_SECRET_KEY or "sk_test_" + "LocalStripeWithoutKey000000"


def mirror(model_name: str, data: Any) -> Any:
    """Sync one Stripe object (an SDK object or its dict) into dj-stripe's model `model_name`."""
    from djstripe import models as djstripe_models

    model = getattr(djstripe_models, model_name)
    api_key = _djstripe_api_key()
    if model_name in EXPAND_DISCOUNTS and any(
        isinstance(d, str) for d in data.get("discounts") or []
    ):
        # Stripe sends discounts as ids; dj-stripe syncs only expanded ones (and the revenue
        # page reads the coupon from the stored copy): re-read the object with them expanded.
        resource = getattr(stripe, model_name)
        data = resource.retrieve(data["id"], api_key=api_key, expand=EXPAND_DISCOUNTS[model_name])
    return model.sync_from_stripe_data(data, api_key=api_key)


EXPAND_DISCOUNTS = {
    "Invoice": ["discounts", "discounts.source.coupon"],
    "Subscription": ["discounts", "discounts.source.coupon"],
}
