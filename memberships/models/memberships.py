"""Recurring memberships (tenant schema): what the business offers, who is a member, each paid
period. A membership is a Stripe subscription on the platform paid to the business's connected
account (docs/decisions/0014-membership-charges.md).

An offer's life is draft → on sale → retired; its price and credit rules are fixed once it is on
sale (a membership copies them when the customer joins), so retiring or editing an offer never
touches existing members.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.models import Customer, Service


class MembershipOfferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ON_SALE = "on_sale", _("On sale")
    RETIRED = "retired", _("Retired")


class BillingInterval(models.TextChoices):
    WEEK = "week", _("Weekly")
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class MembershipOffer(models.Model):
    """A recurring plan: a price per week/month/year and the credits each period gives.

    `credits_per_period` NULL is unlimited, optionally capped per day and/or week;
    `rollover_max` credits left at the end of a period move to the next (0: none);
    `member_discount_percent` is the member price on services the plan does not cover.
    """

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=MembershipOfferStatus.choices, default=MembershipOfferStatus.DRAFT
    )
    price_minor = models.PositiveBigIntegerField(validators=[MinValueValidator(1)])
    currency = models.CharField(max_length=3)
    interval = models.CharField(
        max_length=5, choices=BillingInterval.choices, default=BillingInterval.MONTH
    )
    credits_per_period = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    cap_per_day = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    cap_per_week = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    rollover_max = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(1000)])
    services = models.ManyToManyField(Service, related_name="+")
    joining_fee_minor = models.PositiveBigIntegerField(default=0)
    minimum_periods = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(36)])
    member_discount_percent = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    stripe_product_id = models.CharField(max_length=64, blank=True)
    stripe_price_id = models.CharField(max_length=64, blank=True)
    display_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_order", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits_per_period__isnull=True)
                | Q(cap_per_day__isnull=True, cap_per_week__isnull=True),
                name="membership_offer_caps_only_when_unlimited",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_unlimited(self) -> bool:
        return self.credits_per_period is None


class MembershipStatus(models.TextChoices):
    INCOMPLETE = "incomplete", _("Awaiting first payment")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Payment failed")
    ENDED = "ended", _("Ended")


LIVE_MEMBERSHIP_STATUSES = (
    MembershipStatus.INCOMPLETE,
    MembershipStatus.ACTIVE,
    MembershipStatus.PAST_DUE,
)


class Membership(models.Model):
    """One customer's membership of one offer: a Stripe subscription and its state, as last read
    from Stripe (`membership_sync`). The offer's rules are copied at joining time."""

    offer = models.ForeignKey(MembershipOffer, on_delete=models.PROTECT, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.INCOMPLETE
    )
    # Copied from the offer when joining.
    name = models.CharField(max_length=120)
    price_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=5, choices=BillingInterval.choices)
    credits_per_period = models.PositiveIntegerField(null=True, blank=True)
    cap_per_day = models.PositiveIntegerField(null=True, blank=True)
    cap_per_week = models.PositiveIntegerField(null=True, blank=True)
    rollover_max = models.PositiveIntegerField(default=0)
    joining_fee_minor = models.PositiveBigIntegerField(default=0)
    minimum_periods = models.PositiveIntegerField(default=0)
    fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    # Stripe.
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    client_secret = models.CharField(max_length=200, blank=True)  # the first invoice's
    destination_account_id = models.CharField(max_length=64)
    stripe_status = models.CharField(max_length=24, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    commitment_ends_at = models.DateTimeField(null=True, blank=True)
    # The failed invoice the customer was last emailed about (one email per failed invoice).
    payment_failed_notified_invoice = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "offer"],
                condition=Q(status__in=["incomplete", "active", "past_due"]),
                name="membership_one_live_per_customer_and_offer",
            ),
        ]
        indexes = [models.Index(fields=["status", "offer"], name="membership_status_idx")]

    def __str__(self) -> str:
        return f"{self.name} — {self.customer}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_MEMBERSHIP_STATUSES


class MembershipPeriod(models.Model):
    """One paid invoice of a membership (first or renewal) and the credits it granted; the row
    is unique per invoice, so a duplicated `invoice.paid` grants nothing more."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="periods")
    invoice_id = models.CharField(max_length=64, unique=True)
    billing_reason = models.CharField(max_length=32)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    amount_paid_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    payment_intent_id = models.CharField(max_length=64, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    credits_granted = models.PositiveIntegerField(null=True, blank=True)  # NULL: unlimited
    credits_rolled_over = models.PositiveIntegerField(default=0)
    grant_id = models.BigIntegerField(null=True, blank=True)
    refunded_minor = models.PositiveBigIntegerField(default=0)
    refund_id = models.CharField(max_length=64, blank=True)
    paid_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["period_start", "pk"]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.period_start:%Y-%m-%d}"
