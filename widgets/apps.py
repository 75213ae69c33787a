from django.apps import AppConfig


class WidgetsConfig(AppConfig):
    name = "widgets"
    verbose_name = "Booking widget and branding"

    def ready(self) -> None:
        from scheduling import ports

        from .branding_port import WidgetBranding

        ports.register_branding(WidgetBranding())
