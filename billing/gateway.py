"""Billing's client for the platform's own Stripe account (subscriptions, invoices, prices).

Built by common.stripe_client, like the booking payments' client (connect_payments.gateway, which
billing may not import: it sits above billing).
"""

from __future__ import annotations

import hashlib

import stripe

from common.stripe_client import configured_stripe_client


def billing_stripe_client() -> stripe.StripeClient:
    """A client for the configured Stripe (the same one booking payments use)."""
    return configured_stripe_client()


def billing_idempotency_key(*parts: object) -> str:
    """A stable key for one billing operation: the same parts always give the same key."""
    text = "billing:" + ":".join(str(part) for part in parts)
    return "creneau-" + hashlib.sha256(text.encode()).hexdigest()[:40]
