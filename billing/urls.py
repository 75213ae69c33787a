"""Back-office pages of the platform subscription on a business's host."""

from django.urls import path

from .views import backoffice

urlpatterns = [
    path("billing/", backoffice.billing_page, name="billing"),
]
