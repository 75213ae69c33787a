"""Reconciliation of members' subscriptions with Stripe: what lost webhooks left behind.

For every live membership (and those ended in the last days), re-read the subscription and its
paid invoices; a status that differs or a paid period not recorded is repaired (the same
idempotent services the webhooks call) and reported. `manage.py reconcile_memberships` and the
nightly beat task (`memberships.membership_tasks`) run it in each tenant.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import stripe
from django.db.models import Q
from django.utils import timezone

from ..models.memberships import LIVE_MEMBERSHIP_STATUSES, Membership, MembershipPeriod
from .memberships_billing import membership_refresh_all

logger = logging.getLogger(__name__)

RECENTLY_ENDED = timedelta(days=3)


def memberships_reconcile() -> list[str]:
    """Repair the current tenant's memberships from Stripe; one line per repair."""
    since = timezone.now() - RECENTLY_ENDED
    lines: list[str] = []
    memberships = Membership.objects.filter(
        Q(status__in=LIVE_MEMBERSHIP_STATUSES) | Q(ended_at__gte=since)
    ).exclude(stripe_subscription_id__isnull=True)
    for membership in memberships.select_related("customer", "offer"):
        before_status = membership.status
        before_periods = MembershipPeriod.objects.filter(membership=membership).count()
        try:
            after = membership_refresh_all(membership=membership)
        except stripe.StripeError as error:
            lines.append(f"membership {membership.pk}: Stripe unreachable ({type(error).__name__})")
            continue
        added = MembershipPeriod.objects.filter(membership=membership).count() - before_periods
        if after.status != before_status:
            lines.append(f"membership {membership.pk}: {before_status} → {after.status}")
        if added:
            lines.append(f"membership {membership.pk}: {added} paid period(s) recorded")
    if lines:
        logger.info("memberships.reconciled", extra={"repairs": len(lines)})
    return lines
