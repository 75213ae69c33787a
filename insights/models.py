"""Aggregates the dashboard reads instead of scanning all bookings (issue #13).

Both tables are kept up to date inside the writing transaction by statement-level triggers on
`scheduling_booking` that insights' migration creates (`insights/aggregates.py`): scheduling
never imports insights. `manage.py rebuild_dashboard_aggregates` recomputes them from the raw
bookings; tests/insights/test_aggregates.py proves the two agree after random writes.
"""

from __future__ import annotations

from django.db import models


class CustomerFirstBooking(models.Model):
    """A customer's first counted booking (confirmed, completed or no-show) ever: the earliest
    appointment and the earliest booked time (each a minimum of its own)."""

    customer_id = models.BigIntegerField(primary_key=True)
    first_starts_at = models.DateTimeField()
    first_created_at = models.DateTimeField()

    class Meta:
        db_table = "insights_customerfirstbooking"

    def __str__(self) -> str:
        return f"customer {self.customer_id} first booked {self.first_created_at:%Y-%m-%d}"


class CompletedBookingRebooked(models.Model):
    """Each completed booking, and whether its customer made another counted booking (booked
    time) within 60 days after its start."""

    booking_id = models.BigIntegerField(primary_key=True)
    customer_id = models.BigIntegerField(db_index=True)
    rebooked = models.BooleanField()

    class Meta:
        db_table = "insights_completedbookingrebooked"

    def __str__(self) -> str:
        return f"booking {self.booking_id} rebooked: {self.rebooked}"
