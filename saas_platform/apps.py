from django.apps import AppConfig


class SaasPlatformConfig(AppConfig):
    name = "saas_platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from insights import ports

        from . import structured_logs  # noqa: F401  (Celery signals: the task id in log lines)
        from .metrics import connect_counters
        from .storefront_port import WidgetStorefront

        ports.register_storefront(WidgetStorefront())
        connect_counters()
