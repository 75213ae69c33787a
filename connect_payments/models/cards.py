"""Tenant-schema records of cards on file: the business's customers at Stripe, their saved
cards, the consent given with a booking, and the no-show / late-cancellation fees charged.

The Stripe Customer and its PaymentMethods live on the platform's account, because fees are
destination charges made on the platform (docs/decisions/0015-cards-on-file.md).
"""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.link_tokens import link_token

FEE_PAY_TOKEN_PURPOSE = "fee-pay"


def _new_secret() -> str:
    return secrets.token_urlsafe(24)


class CardCustomer(models.Model):
    """One of the business's customers as a Stripe Customer of the platform (made once)."""

    customer = models.OneToOneField(
        "scheduling.Customer", on_delete=models.PROTECT, related_name="card_customer"
    )
    stripe_customer_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stripe_customer_id


class SavedCard(models.Model):
    """A card the customer saved for off-session fees: only what staff may see (brand, last
    four digits, expiry) and Stripe's id; `removed_at` once detached at Stripe."""

    owner = models.ForeignKey(CardCustomer, on_delete=models.PROTECT, related_name="cards")
    payment_method_id = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # Stripe's card fingerprint: the same card saved again is this row, not a second one.
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "fingerprint"], name="saved_card_fingerprint")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.brand.title()} •••• {self.last4}"


class CardSetupStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the card"
    SAVED = "saved", "Card saved"
    FAILED = "failed", "Card not saved"


class CardSetup(models.Model):
    """What the customer agreed to for one booking, and the SetupIntent that saved the card.

    The consent's exact text, its wording version and time are kept with the fees it names,
    frozen: a later change of the service's fees never changes what this customer agreed to.

    A consent given before there is a booking (joining a waitlist) has a `request_key`
    ("waitlist-entry-12") instead; the booking made from it later gets its own row, a copy of
    this consent and card (`card_setup_for_booking`).
    """

    booking = models.OneToOneField(
        "scheduling.Booking", null=True, blank=True, on_delete=models.PROTECT,
        related_name="card_setup",
    )  # fmt: skip
    request_key = models.CharField(max_length=60, unique=True, null=True, blank=True)
    owner = models.ForeignKey(CardCustomer, on_delete=models.PROTECT, related_name="setups")
    currency = models.CharField(max_length=3)
    no_show_fee_minor = models.PositiveBigIntegerField(default=0)
    late_cancel_fee_minor = models.PositiveBigIntegerField(default=0)
    late_window_hours = models.PositiveIntegerField(null=True, blank=True)
    consent_text = models.TextField()
    consent_version = models.CharField(max_length=20)
    consented_at = models.DateTimeField()
    setup_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(
        max_length=10, choices=CardSetupStatus.choices, default=CardSetupStatus.PENDING
    )
    card = models.ForeignKey(
        SavedCard, null=True, blank=True, on_delete=models.PROTECT, related_name="setups"
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    saved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(booking__isnull=False) | Q(request_key__isnull=False),
                name="card_setup_for_something",
            )
        ]

    def __str__(self) -> str:
        return f"Card setup of {self.booking_id or self.request_key}"


class FeeKind(models.TextChoices):
    NO_SHOW = "no_show", "No-show fee"
    LATE_CANCELLATION = "late_cancel", "Late-cancellation fee"


class FeeStatus(models.TextChoices):
    PENDING = "pending", "Being charged"  # reserved after commit; the outbox task charges it
    PAID = "paid", "Charged"
    AWAITING_CUSTOMER = "awaiting_customer", "Fee awaiting the customer"  # bank asked for 3DS
    FAILED = "failed", "Charge failed"
    WAIVED = "waived", "Waived"
    REFUNDED = "refunded", "Refunded"


class FeeCharge(models.Model):
    """The fee of one booking (one per booking: a booking is a no-show or cancelled, not both),
    charged off-session as a destination charge to the business with the platform fee."""

    booking = models.OneToOneField(
        "scheduling.Booking", on_delete=models.PROTECT, related_name="fee_charge"
    )
    setup = models.ForeignKey(CardSetup, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=12, choices=FeeKind.choices)
    status = models.CharField(max_length=20, choices=FeeStatus.choices, default=FeeStatus.PENDING)
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    application_fee_minor = models.PositiveBigIntegerField()
    destination_account_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=80, unique=True)
    payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=200, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    refund_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    # The customer's pay link (authentication asked): token derived from this, never stored.
    link_secret = models.CharField(max_length=64, default=_new_secret)
    customer_asked_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="fee_positive"),
            models.CheckConstraint(
                condition=Q(application_fee_minor__lte=models.F("amount_minor")),
                name="fee_platform_fee_le_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.booking_id}"

    @property
    def pay_token(self) -> str:
        return link_token(FEE_PAY_TOKEN_PURPOSE, str(self.pk), self.link_secret)


class FeeEvent(models.Model):
    """History of a fee (dotted actions: `creneau.fee.charged`, `.waived`), who, and why."""

    fee = models.ForeignKey(FeeCharge, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=80)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.fee_id} {self.action}"
