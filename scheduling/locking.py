"""The one lock order of scheduling, as code: every transition takes its row locks through here.

Always in this order, to avoid deadlocks: StaffMember row → Resource row → Occurrence row →
Booking rows. Contenders for one staff member queue on its row; without that lock, concurrent
inserts checked by the exclusion constraint wait on each other and PostgreSQL aborts some of them
as deadlocks (seen in the race tests). Call these inside `transaction.atomic()`.

Overlaps are refused by PostgreSQL's exclusion constraints; `is_exclusion_violation` recognises
SQLSTATE 23P01 so the services map it to SlotTaken in one way.
"""

from __future__ import annotations

from django.db import IntegrityError
from psycopg import errors as pg_errors

from scheduling.models import Booking, Occurrence, Resource, StaffMember


def lock_staff_and_resource(*, staff_id: int, resource_id: int | None) -> None:
    """First and second in the order: the staff member's row, then the resource's if any."""
    StaffMember.objects.select_for_update().filter(pk=staff_id).exists()
    if resource_id is not None:
        Resource.objects.select_for_update().filter(pk=resource_id).exists()


def lock_occurrence(occurrence_id: int) -> Occurrence:
    """Third: a group session's row (its seats are counted under this lock)."""
    return Occurrence.objects.select_for_update().get(pk=occurrence_id)


def lock_booking(booking_id: int) -> Booking:
    """Last: the booking's own row."""
    return Booking.objects.select_for_update().get(pk=booking_id)


def is_exclusion_violation(error: IntegrityError) -> bool:
    """An insert or update refused by an exclusion constraint (the time is taken)."""
    return isinstance(error.__cause__, pg_errors.ExclusionViolation)
