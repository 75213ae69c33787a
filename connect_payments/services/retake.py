"""Expired → confirmed when a payment arrives after the hold ran out and the time is still free.

moves to scheduling.services.bookings (issue #11): the scheduling helper writes it there with the
same signature, under scheduling's one lock order; this copy goes at the merge.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from psycopg import errors as pg_errors

from scheduling.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    Occurrence,
    Resource,
    StaffMember,
)
from scheduling.services.bookings import SYSTEM, booking_expire


def _is_exclusion_violation(error: IntegrityError) -> bool:
    return isinstance(error.__cause__, pg_errors.ExclusionViolation)


# moves to scheduling.services.bookings (issue #11)
def booking_retake_after_late_payment(*, booking: Booking, now: datetime | None = None) -> bool:
    """Expired → confirmed when the slot is still free (a payment arrived after the hold ran out).

    scheduling.services has no transition out of `expired`, so this is the smallest one, with the
    same conditional update, locks and BookingEvent as scheduling's own transitions. Returns False
    when the time was taken meanwhile (the caller refunds).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            StaffMember.objects.select_for_update().filter(pk=booking.staff_id).exists()
            if booking.resource_id:
                Resource.objects.select_for_update().filter(pk=booking.resource_id).exists()
            if booking.occurrence_id:
                occurrence = Occurrence.objects.select_for_update().get(pk=booking.occurrence_id)
                taken = Booking.objects.filter(
                    occurrence=occurrence, status__in=ACTIVE_STATUSES
                ).count()
                if occurrence.is_cancelled or taken >= occurrence.capacity:
                    return False
            else:
                overlap = Q(occupied__overlap=booking.occupied) & (
                    Q(staff_id=booking.staff_id)
                    | (Q(resource_id=booking.resource_id) if booking.resource_id else Q(pk__in=[]))
                )
                stale = list(
                    Booking.objects.select_for_update()
                    .filter(overlap, status=BookingStatus.HELD, hold_expires_at__lte=now)
                    .values_list("pk", flat=True)
                )
                if stale:
                    booking_expire(booking_ids=stale, now=now)
                if booking.resource_id and not booking.resource_exclusive:
                    resource = Resource.objects.get(pk=booking.resource_id)
                    in_use = Booking.objects.filter(
                        resource_id=resource.pk,
                        status__in=ACTIVE_STATUSES,
                        occupied__overlap=booking.occupied,
                    ).count()
                    if in_use >= resource.quantity:
                        return False
            updated = Booking.objects.filter(pk=booking.pk, status=BookingStatus.EXPIRED).update(
                status=BookingStatus.CONFIRMED, hold_expires_at=None
            )
            if updated != 1:
                return False
            BookingEvent.objects.create(
                booking_id=booking.pk,
                actor_label=SYSTEM.label,
                action="creneau.booking.confirmed",
                from_status=BookingStatus.EXPIRED,
                to_status=BookingStatus.CONFIRMED,
                reason="Paid after the hold expired; the time was still free.",
            )
    except IntegrityError as error:
        if _is_exclusion_violation(error):
            return False
        raise
    return True
