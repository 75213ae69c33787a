"""Back-office pages of payments on a business's host (payments, payouts)."""

from django.urls import path

from tenants.roles import Permission
from tenants.views import section_page

urlpatterns = [
    path(
        "payments/",
        section_page(
            Permission.VIEW_MONEY, "Payments", "Payments, fees and refunds will appear here."
        ),
        name="payments",
    ),
    path(
        "payouts/",
        section_page(
            Permission.MANAGE_PAYOUTS,
            "Get paid",
            "Connect your Stripe account to take payments online.",
        ),
        name="payouts",
    ),
]
