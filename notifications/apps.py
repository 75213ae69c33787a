from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Customer notifications"

    def ready(self) -> None:
        from scheduling.signals import booking_changed

        from . import customer_emails, tasks  # noqa: F401  (register the tasks queued by name)
        from .emails import booking_notify_after_commit

        def on_booking_changed(
            sender: object, *, booking_id: int, kind: str, refund_minor: int | None = None,
            key: str = "", **kwargs: object,
        ) -> None:  # fmt: skip
            booking_notify_after_commit(
                booking_id=booking_id, kind=kind, refund_minor=refund_minor, key=key
            )

        booking_changed.connect(
            on_booking_changed, dispatch_uid="notifications.booking_email", weak=False
        )
