"""Demo data of payments for `make run`: the demo tenant gets an onboarded connected account in
local Stripe, so its online-payment services can be booked and paid at once."""

import json
import logging
import urllib.request

import stripe
from django.conf import settings

from tenants.models import Tenant

from .models import ConnectedAccount
from .selectors import connected_account_of
from .services.accounts import connected_account_create, connected_account_refresh

logger = logging.getLogger(__name__)


def demo_connected_account_ensure(*, tenant: Tenant, email: str) -> bool:
    """Local Stripe only (STRIPE_API_BASE set). Returns True when it changed something."""
    base = settings.STRIPE_API_BASE.rstrip("/")
    if not base:
        return False
    existing = connected_account_of(tenant)
    if existing is not None:
        try:
            refreshed = connected_account_refresh(account_id=existing.account_id)
        except stripe.InvalidRequestError:
            # Local Stripe's state file was removed: this account no longer exists there.
            ConnectedAccount.objects.filter(pk=existing.pk).delete()
        else:
            if refreshed is not None and refreshed.charges_enabled:
                return False
    account = connected_account_create(tenant=tenant, email=email)
    request = urllib.request.Request(  # noqa: S310 - the local Stripe server's URL
        f"{base}/_local/accounts/{account.account_id}/complete_onboarding",
        data=json.dumps({}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local server
        response.read()
    connected_account_refresh(account_id=account.account_id)
    return True
