"""The one way to build a client for the configured Stripe (the platform's account): booking
payments (connect_payments.gateway) and platform billing (billing.gateway) both call it.

Local Stripe and real Stripe differ only by settings, read at each call so that tests can
override them; one client per configuration, so HTTP connections are reused.
"""

from __future__ import annotations

import functools

import stripe
from django.conf import settings


def configured_stripe_client() -> stripe.StripeClient:
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
        # Bounded connect and read waits on every call: a hanging Stripe costs a request at most
        # (connect + read) × (1 + retries) seconds, and the caller's StripeError path answers.
        http_client=stripe.RequestsClient(timeout=timeout),
        **kwargs,
    )
