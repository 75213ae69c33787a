"""Platform-host routes of payments (Stripe webhooks), mounted at `/stripe/`."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("webhook/", views_public.stripe_webhook, name="stripe_webhook"),
]
