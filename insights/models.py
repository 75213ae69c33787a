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
    # The booking's appointment, service and staff member (since insights 0004), so the rebooking
    # rate of a period reads these rows alone.
    starts_at = models.DateTimeField(null=True, db_index=True)
    service_id = models.BigIntegerField(null=True)
    staff_id = models.BigIntegerField(null=True)

    class Meta:
        db_table = "insights_completedbookingrebooked"

    def __str__(self) -> str:
        return f"booking {self.booking_id} rebooked: {self.rebooked}"


class PlatformActivity(models.Model):
    """The operator's platform-wide figures, per tenant, day (UTC) and currency: public schema.

    Triggers on each tenant's bookings, payments and refunds (insights/platform_activity.py) add
    one signed *delta* row per statement, never updating a shared row, so no booking ever waits
    on another's counter; a periodic task folds the deltas into one `compacted` row per tenant,
    day and currency. Reads sum both kinds: exact at once, no lag. The console never reads a
    tenant schema for these figures.
    """

    tenant_id = models.BigIntegerField(db_index=True)
    day = models.DateField(db_index=True)
    currency = models.CharField(max_length=3)
    bookings = models.IntegerField(default=0)  # made that day, not cancelled
    gross_minor = models.BigIntegerField(default=0)  # paid online that day
    fee_minor = models.BigIntegerField(default=0)  # platform fees of those payments
    refunded_minor = models.BigIntegerField(default=0)  # refunds that succeeded that day
    fee_refunded_minor = models.BigIntegerField(default=0)
    failed_refunds = models.IntegerField(default=0)
    compacted = models.BooleanField(default=False)

    class Meta:
        db_table = "insights_platformactivity"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "day", "currency"],
                condition=models.Q(compacted=True),
                name="platformactivity_one_compacted_row",
            )
        ]

    def __str__(self) -> str:
        return f"tenant {self.tenant_id} on {self.day}: {self.bookings} bookings"


class BookingDay(models.Model):
    """Bookings per local day (the business's time zone), service and staff member, once per
    date basis: `appointment` (the day the appointment starts) and `booked` (the day it was
    booked). Kept by triggers on `scheduling_booking` (insights/daily/), rebuilt by
    `rebuild_dashboard_aggregates`; a year of figures reads about 365 × services × staff rows."""

    basis = models.CharField(max_length=12)
    day = models.DateField()
    service_id = models.BigIntegerField()
    staff_id = models.BigIntegerField()
    bookings = models.IntegerField(default=0)  # confirmed, completed, no-show
    no_shows = models.IntegerField(default=0)
    attended = models.IntegerField(default=0)  # completed + no-show
    completed = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    value_minor = models.BigIntegerField(default=0)  # price of the counted bookings
    occupied_seconds = models.BigIntegerField(default=0)  # counted one-to-one bookings' length

    class Meta:
        db_table = "insights_bookingday"
        constraints = [
            models.UniqueConstraint(
                fields=["basis", "day", "service_id", "staff_id"], name="bookingday_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.basis} {self.day}: {self.bookings} bookings"


class MoneyDay(models.Model):
    """Money per local day, service and staff member, once per date basis: `moved` (the day the
    money moved: paid, balance recorded, refunded) and `appointment` (the day of the appointment
    it belongs to; money of no appointment, passes and memberships, on the day it moved). Service
    and staff are empty for passes and memberships. Fees are net of the fees refunds gave back."""

    basis = models.CharField(max_length=12)
    day = models.DateField()
    service_id = models.BigIntegerField(null=True)
    staff_id = models.BigIntegerField(null=True)
    gross_minor = models.BigIntegerField(default=0)
    refunds_minor = models.BigIntegerField(default=0)
    fees_minor = models.BigIntegerField(default=0)

    class Meta:
        db_table = "insights_moneyday"
        constraints = [
            models.UniqueConstraint(
                fields=["basis", "day", "service_id", "staff_id"],
                name="moneyday_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.basis} {self.day}: {self.gross_minor} gross"


class MembershipRefundMoment(models.Model):
    """When a membership period's refund was recorded (memberships keeps the amount, not the
    time): written by a trigger on the period's update, so refunds count on their own day."""

    period_id = models.BigIntegerField(primary_key=True)
    refunded_at = models.DateTimeField()

    class Meta:
        db_table = "insights_membershiprefundmoment"

    def __str__(self) -> str:
        return f"period {self.period_id} refunded {self.refunded_at:%Y-%m-%d}"


class CustomerDay(models.Model):
    """Counted bookings per local day, customer, service and staff member, once per date basis
    (`appointment`, `booked`): the customers of a period are the distinct customers of its rows,
    without reading the bookings. Kept with `insights_bookingday` by the same triggers."""

    basis = models.CharField(max_length=12)
    day = models.DateField()
    customer_id = models.BigIntegerField()
    service_id = models.BigIntegerField()
    staff_id = models.BigIntegerField()
    bookings = models.IntegerField(default=0)

    class Meta:
        db_table = "insights_customerday"
        constraints = [
            models.UniqueConstraint(
                fields=["basis", "day", "customer_id", "service_id", "staff_id"],
                name="customerday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.basis} {self.day}: customer {self.customer_id}"
