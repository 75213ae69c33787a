"""Tenant-host routes of the widget: hosted booking page, embed and branding settings."""

from django.urls import path

from tenants.roles import Permission
from tenants.views import section_page

urlpatterns = [
    path(
        "branding/",
        section_page(
            Permission.MANAGE_BRANDING,
            "Branding",
            "Logo, colours and fonts of your booking widget.",
        ),
        name="branding",
    ),
]
