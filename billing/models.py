"""Platform plans, each tenant's subscription state (derived from Stripe Billing), and the
operator's fee overrides. The Stripe objects themselves (Customer, Subscription, Invoice,
Product, Price) live in dj-stripe's tables; `TenantSubscription` links a tenant to them.

Public schema only (billing is a shared app, not a tenant app).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


# django-stubs cannot type Tenant.plan's reverse manager: Tenant's base (django-tenants'
# TenantMixin) is untyped.
class PlanQuerySet(models.QuerySet["Plan"]):
    def on_sale(self) -> PlanQuerySet:
        """Plans a business may choose now (a retired plan keeps its subscribers only)."""
        return self.filter(retired_at__isnull=True)


class Plan(models.Model):  # type: ignore[django-manager-missing]
    """What a tenant pays the platform and what it may do; sets the fee on booking payments."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    # Application fee on each booking payment: basis points (1/100 %) plus a fixed amount.
    fee_basis_points = models.PositiveIntegerField(default=0)
    fee_fixed_minor = models.PositiveIntegerField(default=0)
    # Yearly price of the plan (Stripe Price with lookup_key `creneau_<code>_yearly`).
    yearly_price_minor = models.PositiveIntegerField(default=0)
    # Active bookable staff the base price covers; each one beyond costs `extra_seat_price_minor`
    # a month (a second subscription item). `max_staff` (None: no limit) caps active staff.
    staff_seats_included = models.PositiveIntegerField(default=1)
    extra_seat_price_minor = models.PositiveIntegerField(default=0)
    max_staff = models.PositiveIntegerField(null=True, blank=True)
    # Limits and features. `max_group_sessions`: recurring group sessions (None: no limit).
    max_group_sessions = models.PositiveIntegerField(null=True, blank=True)
    custom_branding = models.BooleanField(default=False)  # no "Powered by Creneau"
    api_keys = models.BooleanField(default=False)
    memberships = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    display_order = models.PositiveIntegerField(default=0)
    # Retired: no longer offered (plan choice, limits' upgrade hints, operators' moves); the
    # businesses on it keep it, and its Stripe Prices are archived, which leaves their
    # subscriptions renewing. None: on sale.
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "monthly_price_minor"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_plan"
            )
        ]

    def __str__(self) -> str:
        return self.name


class BillingInterval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, plus "none" before the subscription exists."""

    NONE = "none", "No subscription yet"
    TRIALING = "trialing", "Trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Payment overdue"
    UNPAID = "unpaid", "Unpaid"
    PAUSED = "paused", "Paused"
    CANCELED = "canceled", "Cancelled"
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete (expired)"


class TenantSubscription(models.Model):
    """A tenant's Stripe customer and subscription, with the state derived from Stripe.

    Written only from what Stripe says (webhook handlers re-read the subscription, the nightly
    reconciliation repairs drift); the access decision reads `status` and `complimentary`.
    """

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="subscription"
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NONE
    )
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT)
    interval = models.CharField(
        max_length=5, choices=BillingInterval.choices, default=BillingInterval.MONTH
    )
    extra_seats = models.PositiveIntegerField(default=0)
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # An operator's gift: full access whatever Stripe says (audited when set).
    complimentary = models.BooleanField(default=False)
    trial_will_end_notified_at = models.DateTimeField(null=True, blank=True)
    past_due_notified_invoice = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="one_tenant_per_billing_customer",
            )
        ]

    def __str__(self) -> str:
        return f"Subscription of {self.tenant_id}: {self.status}"


class FeeOverride(models.Model):
    """An operator's fee rate for one tenant, replacing its plan's rate."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="fee_override"
    )
    fee_basis_points = models.PositiveIntegerField()
    fee_fixed_minor = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Moved from connect_payments (state only, see migrations/0003): the table keeps its name.
        db_table = "connect_payments_feeoverride"
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_basis_points__lte=10_000), name="fee_override_at_most_100_percent"
            )
        ]

    def __str__(self) -> str:
        return f"Fee override of {self.tenant_id}"
