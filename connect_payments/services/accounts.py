"""Connect onboarding (public schema): the tenant's Express account, its links, its status."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import Tenant

from .. import gateway
from ..models import ConnectedAccount

logger = logging.getLogger(__name__)


def connected_account_create(*, tenant: Tenant, email: str) -> ConnectedAccount:
    """The tenant's Express account: one per tenant (idempotent locally and at Stripe)."""
    existing = ConnectedAccount.objects.filter(tenant_id=tenant.pk).first()
    if existing is not None:
        return existing
    account = gateway.stripe_client().v1.accounts.create(
        params={
            "type": "express",
            "country": tenant.country,
            "email": email,
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "business_profile": {"name": tenant.name},
            "metadata": {"tenant_schema": tenant.schema_name},
        },
        options={"idempotency_key": gateway.idempotency_key("account.create", tenant.pk)},
    )
    try:
        with transaction.atomic():
            record = ConnectedAccount.objects.create(tenant=tenant, account_id=account.id)
    except IntegrityError:
        return ConnectedAccount.objects.get(tenant_id=tenant.pk)
    logger.info("connect.account_created", extra={"tenant": tenant.schema_name})
    return connected_account_apply(account=account) or record


def connected_account_apply(*, account: Any) -> ConnectedAccount | None:
    """Copy a Stripe account's status onto the map (None for an account we do not know)."""
    requirements = account.requirements or {}
    currently_due = list(requirements.get("currently_due") or [])
    disabled_reason = requirements.get("disabled_reason") or ""
    updated = ConnectedAccount.objects.filter(account_id=account.id).update(
        charges_enabled=bool(account.charges_enabled),
        payouts_enabled=bool(account.payouts_enabled),
        details_submitted=bool(account.details_submitted),
        requirements_currently_due=currently_due,
        requirements_disabled_reason=disabled_reason,
        refreshed_at=timezone.now(),
    )
    if not updated:
        return None
    return ConnectedAccount.objects.get(account_id=account.id)


def connected_account_refresh(*, account_id: str) -> ConnectedAccount | None:
    """Re-read an account from Stripe (its state matters: payments depend on it)."""
    account = gateway.stripe_client().v1.accounts.retrieve(account_id)
    return connected_account_apply(account=account)


def account_link_url(*, account: ConnectedAccount, return_url: str, refresh_url: str) -> str:
    link = gateway.stripe_client().v1.account_links.create(
        params={
            "account": account.account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        }
    )
    return link.url


def dashboard_login_url(*, account: ConnectedAccount) -> str:
    link = gateway.stripe_client().v1.accounts.login_links.create(account.account_id)
    return link.url
