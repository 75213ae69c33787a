"""The request context a route handler receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripe_local.app.store import Store
from stripe_local.core import API_VERSION


@dataclass
class Context:
    """What a handler knows about the request it serves."""

    state: Any  # stripe_local.app.state.State (loose: state.py imports this module)
    account: str | None  # connected account from Stripe-Account, or None for the platform
    key_type: str = "secret"  # "secret" or "publishable"
    request_id: str | None = None
    idempotency_key: str | None = None
    base_url: str = ""
    api_version: str = API_VERSION

    @property
    def store(self) -> Store:
        return self.state.store

    def now(self, customer_id: str | None = None) -> int:
        return self.state.now(customer_id)
