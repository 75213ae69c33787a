"""Platform plans. Subscriptions through Stripe Billing come with the billing issue."""

from django.db import models


class Plan(models.Model):
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
