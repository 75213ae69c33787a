"""The one decision of what a tenant may do given its platform subscription.

Every entry point (hosted page, widget API, staff API, back office) asks `booking_access_of`;
operator suspension is decided before it by tenants and keeps precedence.
"""

from __future__ import annotations

from django.db import models

from tenants.models import Tenant

from .models import SubscriptionStatus, TenantSubscription


class BookingAccess(models.TextChoices):
    FULL = "full", "Full access"
    GRACE = "grace", "Payment overdue: full access while Stripe retries"
    PAUSED = "paused", "Online booking paused until the subscription is paid"


_BY_STATUS = {
    # No subscription yet: the trial is being created after signup (outbox); never block it.
    SubscriptionStatus.NONE: BookingAccess.FULL,
    SubscriptionStatus.TRIALING: BookingAccess.FULL,
    SubscriptionStatus.ACTIVE: BookingAccess.FULL,
    SubscriptionStatus.PAST_DUE: BookingAccess.GRACE,
    SubscriptionStatus.INCOMPLETE: BookingAccess.GRACE,
    SubscriptionStatus.UNPAID: BookingAccess.PAUSED,
    SubscriptionStatus.PAUSED: BookingAccess.PAUSED,
    SubscriptionStatus.CANCELED: BookingAccess.PAUSED,
    SubscriptionStatus.INCOMPLETE_EXPIRED: BookingAccess.PAUSED,
}


def booking_access_for(*, status: str, complimentary: bool = False) -> BookingAccess:
    """Pure: a status (Stripe's) and the operator's complimentary flag → the access level."""
    if complimentary:
        return BookingAccess.FULL
    return _BY_STATUS.get(SubscriptionStatus(status), BookingAccess.PAUSED)


def booking_access_of(tenant: Tenant) -> BookingAccess:
    row = (
        TenantSubscription.objects.filter(tenant_id=tenant.pk)
        .values("status", "complimentary")
        .first()
    )
    if row is None:
        return BookingAccess.FULL
    return booking_access_for(status=row["status"], complimentary=row["complimentary"])


def booking_paused_by_subscription(tenant: Tenant) -> bool:
    """tenants' port (`tenants.ports.booking_paused`): customers' entry points refuse new
    bookings with a friendly 503 while this is true."""
    return booking_access_of(tenant) == BookingAccess.PAUSED
