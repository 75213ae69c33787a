"""Passes and packages (tenant schema): what the business offers, what customers bought.

An offer's life is draft → on sale → retired. A purchase copies what it needs from the offer
(credits, validity, price, services through its grant), so editing or retiring an offer never
touches what customers already bought.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.models import Customer, Service

from .credits import CreditGrant


class PassOfferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ON_SALE = "on_sale", _("On sale")
    RETIRED = "retired", _("Retired")


class ValidityStart(models.TextChoices):
    PURCHASE = "purchase", _("From the purchase")
    FIRST_USE = "first_use", _("From the first booking")


class PassOffer(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=PassOfferStatus.choices, default=PassOfferStatus.DRAFT
    )
    credits = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(500)])
    validity_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(3660)]
    )
    validity_starts = models.CharField(
        max_length=10, choices=ValidityStart.choices, default=ValidityStart.PURCHASE
    )
    services = models.ManyToManyField(Service, related_name="+")
    price_minor = models.PositiveBigIntegerField(validators=[MinValueValidator(1)])
    currency = models.CharField(max_length=3)
    new_customers_only = models.BooleanField(default=False)
    per_customer_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    display_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_order", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class PassPurchaseStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    CANCELED = "canceled", _("Canceled")


class PassPurchase(models.Model):
    """One customer's purchase of one offer: a destination charge, then a credit grant."""

    offer = models.ForeignKey(PassOffer, on_delete=models.PROTECT, related_name="purchases")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="pass_purchases")
    status = models.CharField(
        max_length=10, choices=PassPurchaseStatus.choices, default=PassPurchaseStatus.PENDING
    )
    # Copied from the offer at purchase time.
    name = models.CharField(max_length=120)
    credits = models.PositiveIntegerField()
    validity_days = models.PositiveIntegerField()
    validity_starts = models.CharField(max_length=10, choices=ValidityStart.choices)
    price_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    fee_minor = models.PositiveBigIntegerField(default=0)
    destination_account_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=80, unique=True)
    payment_intent_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    client_secret = models.CharField(max_length=255, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    paid_minor = models.PositiveBigIntegerField(default=0)
    refunded_minor = models.PositiveBigIntegerField(default=0)
    grant = models.OneToOneField(
        CreditGrant, null=True, blank=True, on_delete=models.PROTECT, related_name="pass_purchase"
    )
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_minor__lte=models.F("paid_minor")),
                name="pass_purchase_refund_not_over_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.customer_id}"


class PassRefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class PassRefund(models.Model):
    """A staff refund of a pass: reserved locally (credits removed), then executed in Stripe."""

    purchase = models.ForeignKey(PassPurchase, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.PositiveBigIntegerField(validators=[MinValueValidator(1)])
    credits_removed = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=PassRefundStatus.choices, default=PassRefundStatus.PENDING
    )
    stripe_refund_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    reason = models.CharField(max_length=300, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.get_status_display()}"


class PassRefundMode(models.TextChoices):
    FULL = "full", _("Refund the full price")
    PRO_RATA = "pro_rata", _("Refund pro rata to the unused credits")


class PassSettings(models.Model):
    """One row per business (pk=1): how pass refunds are computed."""

    refund_mode = models.CharField(
        max_length=10, choices=PassRefundMode.choices, default=PassRefundMode.PRO_RATA
    )

    def __str__(self) -> str:
        return self.get_refund_mode_display()
