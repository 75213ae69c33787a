from django.apps import AppConfig


class ConnectPaymentsConfig(AppConfig):
    name = "connect_payments"
    verbose_name = "Payments through Stripe Connect"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the tasks the inbox queues by name)
        from .webhooks.handlers import register_handlers

        # Stripe events reach our handlers.
        register_handlers()
