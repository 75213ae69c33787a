"""Tenant-schema records of payments (created only in tenant schemas): booking payments, their
refunds, their history, and promo codes."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PaymentKind(models.TextChoices):
    FULL = "full", "Paid in full"
    DEPOSIT = "deposit", "Deposit"


class PaymentStatus(models.TextChoices):
    """Our view of a booking payment; `intent_status` keeps Stripe's own word."""

    PENDING = "pending", "Waiting for the payment provider"  # reserved, no PaymentIntent yet
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    CANCELED = "canceled", "Canceled"  # never paid; the PaymentIntent was canceled


PAID_STATUSES = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


class BookingPayment(models.Model):
    """The online payment of one booking: a destination charge on the platform."""

    booking = models.OneToOneField(
        "scheduling.Booking", on_delete=models.PROTECT, related_name="payment"
    )
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    currency = models.CharField(max_length=3)
    price_minor = models.PositiveBigIntegerField()
    # The promo code's discount, frozen when the hold was made (on the price).
    promo_code = models.ForeignKey(
        "PromoCode", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    discount_minor = models.PositiveBigIntegerField(default=0)
    amount_minor = models.PositiveBigIntegerField(help_text="Charged online")
    fee_minor = models.PositiveBigIntegerField(help_text="Platform application fee")
    balance_due_minor = models.PositiveBigIntegerField(help_text="To pay at the venue")
    balance_paid_at = models.DateTimeField(null=True, blank=True)
    paid_minor = models.PositiveBigIntegerField(default=0)
    refunded_minor = models.PositiveBigIntegerField(default=0)
    fee_refunded_minor = models.PositiveBigIntegerField(default=0)
    destination_account_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=80, unique=True)
    payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=200, blank=True)
    intent_status = models.CharField(max_length=40, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)  # Stripe's decline message, shown to the customer
    provider_message = models.TextField(blank=True)  # why the PaymentIntent could not be made
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_minor__lte=models.F("amount_minor")), name="payment_fee_le_amount"
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__lte=models.F("paid_minor")),
                name="payment_refund_le_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment of {self.booking_id}"

    @property
    def net_minor(self) -> int:
        """What the business keeps: paid − refunded − (fee − fee refunded)."""
        return (
            self.paid_minor
            - self.refunded_minor
            - (self.fee_minor - self.fee_refunded_minor if self.paid_minor else 0)
        )


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # reserved; Stripe not reached yet (retried by a task)
    SUCCEEDED = "succeeded", "Refunded"
    # Refused by Stripe (not retried), or reported failed by Stripe after it was made (card
    # closed…): then re-issued as a new refund (`replaced_by`), which the retry task sends.
    FAILED = "failed", "Failed"


class RefundOrigin(models.TextChoices):
    CANCELLATION = "cancellation", "Cancellation"
    STAFF = "staff", "Staff refund"
    SLOT_LOST = "slot_lost", "Paid after the hold expired, slot taken"
    BOOKING_GONE = "booking_gone", "Paid for a cancelled booking"
    STRIPE = "stripe", "Made in Stripe"


class PaymentRefund(models.Model):
    payment = models.ForeignKey(BookingPayment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.PositiveBigIntegerField()
    fee_refunded_minor = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    origin = models.CharField(max_length=16, choices=RefundOrigin.choices)
    reason = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    stripe_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The refund this one re-issues (Stripe reported it failed); one-to-one: re-issued once.
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_positive")
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk} of payment {self.payment_id}"


# A cancellation whose policy refunded nothing (recorded instead of a refund).
NO_REFUND_ACTION = "creneau.payment.no_refund"


class PaymentEvent(models.Model):
    """History of a payment: dotted actions (`creneau.payment.succeeded`), who, and details."""

    payment = models.ForeignKey(BookingPayment, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=80)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.action}"


class PromoKind(models.TextChoices):
    PERCENT = "percent", "Percentage"
    FIXED = "fixed", "Fixed amount"


class PromoCode(models.Model):
    """A discount on online payments; a use is taken by a live hold or a confirmed booking."""

    code = models.CharField(max_length=40)
    kind = models.CharField(max_length=8, choices=PromoKind.choices)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_minor = models.PositiveBigIntegerField(null=True, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    max_per_customer = models.PositiveIntegerField(null=True, blank=True)
    services = models.ManyToManyField(
        "scheduling.Service", blank=True, related_name="+", help_text="Empty: every service."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(models.functions.Upper("code"), name="promo_code_unique"),
            models.CheckConstraint(
                condition=(
                    Q(kind="percent", percent__gte=1, percent__lte=100, amount_minor__isnull=True)
                    | Q(kind="fixed", amount_minor__gte=1, percent__isnull=True)
                ),
                name="promo_value_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.code
