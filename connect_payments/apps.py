from django.apps import AppConfig


class ConnectPaymentsConfig(AppConfig):
    name = "connect_payments"
    verbose_name = "Payments through Stripe Connect"

    def ready(self) -> None:
        from scheduling import ports

        from . import tasks  # noqa: F401  (registers the tasks the inbox queues by name)
        from .booking_port import ConnectPayments
        from .webhooks.handlers import register_handlers

        # Scheduling asks for money through its port; Stripe events reach our handlers.
        ports.register_payments(ConnectPayments())
        register_handlers()
