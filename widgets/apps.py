from django.apps import AppConfig


class WidgetsConfig(AppConfig):
    name = "widgets"
    verbose_name = "Booking widget and branding"
