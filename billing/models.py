"""Platform plans and the operator's fee overrides. Subscriptions through Stripe Billing come
with the billing issue.

Public schema only (billing is a shared app, not a tenant app).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


# django-stubs cannot type Tenant.plan's reverse manager: Tenant's base (django-tenants'
# TenantMixin) is untyped.
class Plan(models.Model):  # type: ignore[django-manager-missing]
    """What a tenant pays the platform and what it may do; sets the fee on booking payments."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    # Application fee on each booking payment: basis points (1/100 %) plus a fixed amount.
    fee_basis_points = models.PositiveIntegerField(default=0)
    fee_fixed_minor = models.PositiveIntegerField(default=0)
    max_staff = models.PositiveIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "monthly_price_minor"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_plan"
            )
        ]

    def __str__(self) -> str:
        return self.name


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
