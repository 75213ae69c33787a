from django.apps import AppConfig


class WidgetsConfig(AppConfig):
    name = "widgets"
    verbose_name = "Booking widget and branding"

    def ready(self) -> None:
        from scheduling import ports

        from .branding_port import WidgetBranding
        from .selectors import branding_get

        ports.register_branding(WidgetBranding())
        ports.register_business_language(lambda: str(branding_get().default_language))
