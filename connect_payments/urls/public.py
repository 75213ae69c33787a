"""Platform-host routes of payments (Stripe webhooks), mounted at `/stripe/`."""

from django.urls import path

from ..views import public

urlpatterns = [
    path("webhook/", public.stripe_webhook, name="stripe_webhook"),
]
