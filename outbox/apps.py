from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Outbox (after-commit tasks)"

    def ready(self) -> None:
        from . import signals, tasks  # noqa: F401  (task completion hooks; the sweep task)
