"""Platform-host routes of payments (Stripe webhooks), mounted at `/stripe/`."""

urlpatterns: list = []
