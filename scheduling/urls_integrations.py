"""Back-office pages of integrations: calendar feed subscriptions and API keys."""

urlpatterns: list = []
