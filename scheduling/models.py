"""What a business sells and when (tenant schema): services, staff, resources, hours, bookings.

Double booking is impossible by construction: PostgreSQL exclusion constraints over the occupied
range (start - buffer_before, end + buffer_after) of active bookings, per staff member and per
exclusive resource. Capacity > 1 (resources with several units, group seats) is counted under a
row lock in the booking service.
"""

import secrets

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.link_tokens import link_token


def new_token() -> str:
    return secrets.token_urlsafe(24)


MANAGE_TOKEN_PURPOSE = "booking-manage"
FEED_TOKEN_PURPOSE = "staff-feed"


class PaymentMode(models.TextChoices):
    ONLINE_FULL = "online_full", "Pay online in full"
    ONLINE_DEPOSIT = "online_deposit", "Pay a deposit online"
    PAY_AT_VENUE = "pay_at_venue", "Pay at the venue"
    FREE = "free", "Free"


class CardOnFile(models.TextChoices):
    """Whether a service asks for a card on file (docs/payments.md, "Cards on file and fees")."""

    BUSINESS_DEFAULT = "default", "As the business default"
    REQUIRED = "required", "Require a card on file, with this service's fees"
    OFF = "off", "No card on file"


class CardFeeFields(models.Model):
    """The no-show and late-cancellation fees: each a fixed amount or a percentage of the price
    (at most one of the two; neither: no fee). On a service and on the business's settings."""

    no_show_fee_fixed_minor = models.PositiveBigIntegerField(null=True, blank=True)
    no_show_fee_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    late_cancel_fee_fixed_minor = models.PositiveBigIntegerField(null=True, blank=True)
    late_cancel_fee_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        abstract = True


def card_fee_constraints(model: str) -> list[models.BaseConstraint]:
    """One amount or one percentage per fee, the percentage between 1 and 100."""
    return [
        models.CheckConstraint(
            condition=(
                Q(**{f"{fee}_fee_percent__isnull": True})
                | (
                    Q(**{f"{fee}_fee_fixed_minor__isnull": True})
                    & Q(**{f"{fee}_fee_percent__gte": 1, f"{fee}_fee_percent__lte": 100})
                )
            ),
            name=f"{model}_{fee}_fee_one_kind",
        )
        for fee in ("no_show", "late_cancel")
    ]


class Resource(models.Model):
    """Rooms, chairs, courts: a booking of a service that needs one takes one unit."""

    name = models.CharField(max_length=120)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffMember(models.Model):
    display_name = models.CharField(max_length=120)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The team member's account, when they sign in to see their own calendar.",
    )
    colour = models.CharField(max_length=7, default="#2f5d50")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the business's.")
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveIntegerField(default=0)
    # The feed URL's token is derived from this and SECRET_KEY (common/link_tokens.py), never
    # stored; a feed URL issued before that is kept as a SHA-256 until the token is rotated.
    ics_secret = models.CharField(max_length=64, default=new_token)
    ics_token_legacy_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["display_order", "display_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def ics_token(self) -> str:
        """The secret of the staff member's calendar feed URL: `<id>-<derived token>`."""
        return f"{self.pk}-{link_token(FEED_TOKEN_PURPOSE, str(self.pk), self.ics_secret)}"


class Service(CardFeeFields):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=80, blank=True)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])
    price_minor = models.PositiveBigIntegerField(default=0)
    payment_mode = models.CharField(
        max_length=20, choices=PaymentMode.choices, default=PaymentMode.PAY_AT_VENUE
    )
    deposit_fixed_minor = models.PositiveBigIntegerField(null=True, blank=True)
    deposit_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    capacity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    minimum_notice_minutes = models.PositiveIntegerField(default=60)
    maximum_advance_days = models.PositiveIntegerField(default=90)
    slot_interval_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(5)]
    )
    staff = models.ManyToManyField(StaffMember, related_name="services", blank=True)
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="services"
    )
    # [{"hours_before": 48, "refund_percent": 100}, ...] — scheduling.cancellation_policy
    cancellation_policy = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveIntegerField(default=0)
    # The fees (CardFeeFields) count only when this is REQUIRED; BUSINESS_DEFAULT takes the
    # business's (SchedulingSettings). Charged by connect_payments (services/card_fees.py).
    card_on_file = models.CharField(
        max_length=10, choices=CardOnFile.choices, default=CardOnFile.BUSINESS_DEFAULT
    )

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(payment_mode="online_deposit")
                | Q(deposit_fixed_minor__isnull=False)
                | Q(deposit_percent__isnull=False),
                name="service_deposit_defined",
            ),
            *card_fee_constraints("service"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """A staff member's weekly interval in the business's wall-clock time (several per day)."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])  # 0 = Monday
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["staff", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")) | Q(end="00:00"),
                name="working_hours_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.weekday} {self.start}-{self.end}"


class DateOverride(models.Model):
    """Special hours on one date, or a closed day. Without staff: a business-wide holiday."""

    staff = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="date_overrides"
    )
    date = models.DateField()
    start = models.TimeField(null=True, blank=True)  # empty start and end: closed that day
    end = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date", "start"]

    def __str__(self) -> str:
        return f"{self.staff or 'Everyone'} {self.date}"

    @property
    def is_closed(self) -> bool:
        return self.start is None


class TimeOff(models.Model):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="time_off_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} off {self.starts_at:%Y-%m-%d}"


class GroupSchedule(models.Model):
    """A recurring class (every Tuesday 18:00 for 10 weeks) that generates occurrences."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="group_schedules")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])
    start_time = models.TimeField()
    first_date = models.DateField()
    weeks = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(104)])
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    def __str__(self) -> str:
        return f"{self.service} weekly from {self.first_date}"


class Occurrence(models.Model):
    """One session of a group service; customers take seats up to its capacity."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="occurrences")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="occurrences")
    schedule = models.ForeignKey(
        GroupSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    is_cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "staff", "starts_at"], name="occurrence_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.starts_at:%Y-%m-%d %H:%M}"


class Customer(models.Model):
    name = models.CharField(max_length=150)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)  # E.164, validated by the service layer
    notes = models.TextField(blank=True)
    marketing_consent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(models.functions.Lower("email"), name="customer_email_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class CustomerSignInLink(models.Model):
    """A one-time sign-in link of a customer account (scheduling/services/customer_sign_in.py).

    The token is derived from `nonce` and SECRET_KEY (common/link_tokens.py) and only its
    SHA-256 is stored: a copy of the database opens no account. The row lives in the business's
    schema, so a link of one business means nothing to another. Single use, short expiry.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64, default=new_token)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"], name="signin_customer_idx")]

    def __str__(self) -> str:
        return f"Sign-in link of customer {self.customer_id}"


class BookingStatus(models.TextChoices):
    HELD = "held", "Held"
    CONFIRMED = "confirmed", "Confirmed"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


ACTIVE_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED)

# A booking paid with a credit of a pass or membership (the credits port, scheduling/ports.py):
# nothing is due online or at the venue. Only bookings take it, never a service.
PAID_WITH_CREDIT = "credit"
BOOKING_PAYMENT_MODES = [*PaymentMode.choices, (PAID_WITH_CREDIT, "Paid with a credit")]


class BookingSource(models.TextChoices):
    """Where a booking was made: the widget on a website, the hosted booking page, the team's
    own pages, or the API (a client of the public or staff API)."""

    WIDGET = "widget", "Widget"
    BOOKING_PAGE = "page", "Booking page"
    STAFF = "staff", "Staff"
    API = "api", "API"


class Booking(models.Model):
    reference = models.CharField(max_length=16, unique=True)
    # The customer's manage token is derived from this, the reference and SECRET_KEY
    # (common/link_tokens.py), never stored; a token issued before is kept as a SHA-256.
    manage_secret = models.CharField(max_length=64, default=new_token)
    manage_token_legacy_hash = models.CharField(max_length=64, blank=True)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="bookings")
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    # Set when the resource has a single unit: the exclusion constraint covers it.
    resource_exclusive = models.BooleanField(default=False)
    occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    occupied = DateTimeRangeField(help_text="[start - buffer before, end + buffer after)")
    status = models.CharField(max_length=12, choices=BookingStatus.choices, db_index=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    price_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    payment_mode = models.CharField(max_length=20, choices=BOOKING_PAYMENT_MODES)
    policy_snapshot = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=BookingSource.choices)
    # For a widget booking, the website it was embedded on (an origin the business allowed).
    embedded_on = models.CharField(max_length=255, blank=True, default="")
    notes = models.TextField(blank=True)
    # The language the customer booked in (the widget's or booking page's); empty: the
    # business's language (team-made bookings). The customer's emails are written in it.
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            ExclusionConstraint(
                name="booking_staff_no_overlap",
                expressions=[
                    ("staff", RangeOperators.EQUAL),
                    ("occupied", RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["held", "confirmed"], occurrence__isnull=True),
            ),
            ExclusionConstraint(
                name="booking_resource_no_overlap",
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    ("occupied", RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["held", "confirmed"], resource_exclusive=True),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="booking_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_expires_at__isnull=False),
                name="booking_hold_has_expiry",
            ),
        ]
        indexes = [models.Index(fields=["staff", "starts_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def manage_token(self) -> str:
        """The secret of the customer's links (manage page, API), derived, never stored."""
        return link_token(MANAGE_TOKEN_PURPOSE, self.reference, self.manage_secret)

    @property
    def source_label(self) -> str:
        """What the back office shows: "Widget on https://www.salon.example", "Booking page"."""
        if self.source == BookingSource.WIDGET and self.embedded_on:
            return f"Widget on {self.embedded_on}"
        return self.get_source_display()


class BookingEvent(models.Model):
    """Audit row of every booking transition: who, when, from → to, why."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    actor_user_id = models.BigIntegerField(null=True, blank=True)  # public tenants.User id
    actor_label = models.CharField(max_length=150, blank=True)  # "customer", "system", a name
    action = models.CharField(max_length=60)  # dotted: creneau.booking.confirmed
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.action}"


class SchedulingSettings(CardFeeFields):
    """Per-tenant booking settings (one row), with the business's default card-on-file fees."""

    hold_minutes = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(2), MaxValueValidator(60)]
    )
    reference_prefix = models.CharField(max_length=4, blank=True)
    require_phone = models.BooleanField(default=False)
    card_on_file_required = models.BooleanField(default=False)

    class Meta:
        constraints = card_fee_constraints("settings")

    def __str__(self) -> str:
        return "Scheduling settings"


class ApiKey(models.Model):
    """A business's key to the staff API (`scheduling.staff_api`).

    Only the SHA-256 of the secret is stored: the secret is shown once, at creation. SHA-256 (not
    a slow password hash) is enough because the secret is random with ~238 bits of entropy, and it
    lets a request find its key with one indexed lookup. Keys live in the tenant schema, so a key
    can only ever open its own business's API.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=24, help_text="Start of the key, shown to tell keys apart")
    secret_hash = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the whole key
    created_by_user_id = models.BigIntegerField(null=True, blank=True)  # public tenants.User id
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class NotificationKind(models.TextChoices):
    CONFIRMED = "confirmed", "Booking confirmed"
    CANCELLED = "cancelled", "Booking cancelled"
    RESCHEDULED = "rescheduled", "Booking moved"
    REMINDER = "reminder", "Reminder"
    REFUNDED = "refunded", "Refund sent"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationLog(models.Model):
    """One message to a customer about a booking (`scheduling.notifications`).

    The unique (booking, kind, channel, key) row is claimed before sending, so a retried task or
    an event delivered twice never sends the same message twice. `key` tells apart messages of one
    kind: the reminded start, the reschedule's audit row, the refund; empty for the once-only
    confirmation and cancellation.
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    channel = models.CharField(
        max_length=8, choices=NotificationChannel.choices, default=NotificationChannel.EMAIL
    )
    key = models.CharField(max_length=64, blank=True)
    recipient = models.CharField(max_length=254)
    # The start the message told the customer about (reminders are due again after a move).
    booking_starts_at = models.DateTimeField()
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "channel", "key"], name="notification_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.kind} {self.status}"
