"""Back-office pages of the platform subscription on a business's host."""

from django.urls import path

from .views import backoffice

urlpatterns = [
    path("billing/", backoffice.billing_page, name="billing"),
    path("billing/change/", backoffice.change_preview, name="billing-change"),
    path("billing/subscribe/", backoffice.subscribe_confirm, name="billing-subscribe"),
    path("billing/change/confirm/", backoffice.change_confirm, name="billing-change-confirm"),
    path("billing/change/cancel/", backoffice.pending_cancel, name="billing-pending-cancel"),
    path("billing/portal/", backoffice.portal, name="billing-portal"),
    path("billing/details/", backoffice.details_save, name="billing-details"),
]
