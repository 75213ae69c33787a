from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Platform plans and subscriptions"

    def ready(self) -> None:
        from tenants.signals import tenant_created

        from . import tasks  # noqa: F401  (registers the tasks the outbox queues by name)
        from .services import on_tenant_created

        # A new business gets the default plan, inside tenant_provision's transaction.
        tenant_created.connect(on_tenant_created, dispatch_uid="billing.default_plan")

        from .webhooks import register_handlers

        register_handlers()

        from tenants.ports import register_booking_pause

        from .access import booking_paused_by_subscription

        register_booking_pause(booking_paused_by_subscription)

        from scheduling import ports as scheduling_ports

        from .limits import BillingPlanLimits

        scheduling_ports.register_plan_limits(BillingPlanLimits())

        from .seats import on_staff_changed

        # Extra seats follow active staff (an after-commit outbox task, see billing/seats.py).
        scheduling_ports.register_staff_changed(on_staff_changed)
