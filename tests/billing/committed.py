"""Helpers of the billing tests that commit (a real Celery worker must see their rows): put back
what a test wrote to the shared tables, so the transactional tests that follow (the revenue
figures read every stored dj-stripe object) find them as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from billing.models import TenantSubscription
from connect_payments.models import StripeEvent
from outbox.models import OutboxMessage
from tenants.models import Tenant

SUBSCRIPTION_FIELDS = (
    "stripe_customer_id", "stripe_subscription_id", "status", "plan_id", "interval",
    "extra_seats", "trial_end", "current_period_end", "cancel_at_period_end", "complimentary",
    "trial_will_end_notified_at", "past_due_notified_invoice",
)  # fmt: skip


def _djstripe_high_marks() -> dict[type, int]:
    marks = {}
    for model in apps.get_app_config("djstripe").get_models():
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        marks[model] = last if isinstance(last, int) else 0
    return marks


def _djstripe_delete_after(marks: dict[type, int]) -> None:
    """Delete the dj-stripe rows made since `marks`, in whatever order their links allow."""
    pending = list(marks)
    for _round in range(len(pending) + 1):
        left = []
        for model in pending:
            try:
                with transaction.atomic():
                    model.objects.filter(pk__gt=marks[model]).delete()
            except (ProtectedError, IntegrityError):
                left.append(model)
        if not left:
            return
        pending = left
    raise AssertionError(f"dj-stripe rows left behind in {pending}")


@contextmanager
def restored_billing_state(tenants: list[Tenant]) -> Iterator[None]:
    """Undo, after the block, the committed billing writes about `tenants`: their subscription
    rows and plans, stored events and outbox rows, and the dj-stripe copies made meanwhile."""
    marks = _djstripe_high_marks()
    last_event = StripeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_message = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rows = {
        t.pk: TenantSubscription.objects.filter(tenant=t).values(*SUBSCRIPTION_FIELDS).first()
        for t in tenants
    }
    plans = {t.pk: t.plan_id for t in tenants}
    try:
        yield
    finally:
        StripeEvent.objects.filter(pk__gt=last_event).delete()
        OutboxMessage.objects.filter(pk__gt=last_message).delete()
        for tenant in tenants:
            Tenant.objects.filter(pk=tenant.pk).update(plan_id=plans[tenant.pk])
            before = rows[tenant.pk]
            if before is None:
                TenantSubscription.objects.filter(tenant=tenant).delete()
            else:
                TenantSubscription.objects.filter(tenant=tenant).update(**before)
        _djstripe_delete_after(marks)
