"""Billing's client for the platform's own Stripe account (subscriptions, invoices, prices).

The same settings as the booking payments' client (connect_payments.gateway, which billing may
not import: it sits above billing); local Stripe and real Stripe differ only by settings.
"""

from __future__ import annotations

import functools
import hashlib

import stripe
from django.conf import settings


def billing_stripe_client() -> stripe.StripeClient:
    """A client for the configured Stripe (settings read at each call, so tests can override)."""
    return _client_for(
        settings.STRIPE_SECRET_KEY or "sk_test_local_without_key",
        settings.STRIPE_API_BASE.rstrip("/"),
        settings.STRIPE_API_VERSION,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        (float(settings.STRIPE_CONNECT_TIMEOUT), float(settings.STRIPE_READ_TIMEOUT)),
    )


@functools.lru_cache(maxsize=8)
def _client_for(
    key: str, base: str, version: str, retries: int, timeout: tuple[float, float]
) -> stripe.StripeClient:
    kwargs: dict = {}
    if base:
        kwargs["base_addresses"] = {"api": base, "connect": base, "files": base}
    return stripe.StripeClient(
        key,
        stripe_version=version,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
        **kwargs,
    )


def billing_idempotency_key(*parts: object) -> str:
    """A stable key for one billing operation: the same parts always give the same key."""
    text = "billing:" + ":".join(str(part) for part in parts)
    return "creneau-" + hashlib.sha256(text.encode()).hexdigest()[:40]
