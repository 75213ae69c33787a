from django.apps import AppConfig


class SaasPlatformConfig(AppConfig):
    name = "saas_platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from insights import ports

        from .storefront_port import WidgetStorefront

        ports.register_storefront(WidgetStorefront())
