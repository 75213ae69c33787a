"""Back-office pages of the platform subscription on a business's host."""

from django.urls import path

from tenants.roles import Permission
from tenants.views import section_page

urlpatterns = [
    path(
        "billing/",
        section_page(
            Permission.MANAGE_BILLING, "Plan and billing", "Your Creneau plan and invoices."
        ),
        name="billing",
    ),
]
