from django.apps import AppConfig


class ConnectPaymentsConfig(AppConfig):
    name = "connect_payments"
    verbose_name = "Payments through Stripe Connect"
