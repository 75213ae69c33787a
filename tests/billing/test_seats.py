"""Extra seats follow active staff: adding or deactivating a staff member changes the seat
item's quantity on the Stripe subscription (through the outbox task, prorated), the next
invoice shows it, and the nightly reconciliation repairs drift."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from billing.catalogue import price_for
from billing.mirror import mirror
from billing.models import Plan, SubscriptionStatus, TenantSubscription
from billing.seats import seat_quantity_of
from billing.subscriptions import subscription_apply
from outbox.models import OutboxMessage
from scheduling.models import StaffMember
from scheduling.services.catalogue import StaffSpec, staff_create, staff_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_starter(stripe_client, tenant_alpha):
    """Alpha on Starter (1 seat included, 9.00 a month per extra seat), paid by card, with
    exactly one active staff member."""
    call_command("billing_sync_plans")
    starter = Plan.objects.get(code="starter")
    tenant_alpha.plan = starter
    tenant_alpha.save(update_fields=["plan"])
    with tenant_context(tenant_alpha):
        StaffMember.objects.all().delete()
        StaffMember.objects.create(display_name="First")
    customer = stripe_client.v1.customers.create(
        {
            "name": tenant_alpha.name,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    mirror("Customer", customer)
    customer_id = customer.id
    TenantSubscription.objects.update_or_create(
        tenant=tenant_alpha, defaults={"stripe_customer_id": customer_id}
    )
    price = price_for(starter, "month")
    assert price is not None
    subscription = stripe_client.v1.subscriptions.create(
        {"customer": customer_id, "items": [{"price": price.id}],
         "metadata": {"plan_code": "starter"}}
    )  # fmt: skip
    row = subscription_apply(tenant=tenant_alpha, data=subscription)
    assert row.status == SubscriptionStatus.ACTIVE
    return row


def _stripe_seats(stripe_client, row: TenantSubscription) -> int:
    return seat_quantity_of(stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id))


def _preview_seat_quantity(stripe_client, row: TenantSubscription) -> int:
    """The quantity of next period's seat line (at 9.00 each) on the invoice preview."""
    seat_price = price_for(Plan.objects.get(code="starter"), "month", seat=True)
    assert seat_price is not None
    preview = stripe_client.v1.invoices.create_preview({"subscription": row.stripe_subscription_id})
    lines = [
        line
        for line in preview["lines"]["data"]
        if line["pricing"]["price_details"]["price"] == seat_price.id
        and not line["parent"]["subscription_item_details"]["proration"]
    ]
    assert all(line["amount"] == 900 * line["quantity"] for line in lines)
    return sum(line["quantity"] for line in lines)


def test_adding_and_deactivating_staff_changes_the_seat_quantity_and_the_invoice(
    stripe_client, active_starter, tenant_alpha, django_capture_on_commit_callbacks
) -> None:
    row = active_starter
    assert _stripe_seats(stripe_client, row) == 0
    with tenant_context(tenant_alpha), django_capture_on_commit_callbacks(execute=True):
        second = staff_create(spec=StaffSpec(display_name="Second"), tenant_id=tenant_alpha.pk)
        staff_create(spec=StaffSpec(display_name="Third"), tenant_id=tenant_alpha.pk)
    assert OutboxMessage.objects.filter(task_name="billing.seats_sync").count() == 2
    assert _stripe_seats(stripe_client, row) == 2
    row.refresh_from_db()
    assert row.extra_seats == 2
    assert _preview_seat_quantity(stripe_client, row) == 2
    preview = stripe_client.v1.invoices.create_preview({"subscription": row.stripe_subscription_id})
    assert any(
        line["parent"]["subscription_item_details"]["proration"]
        for line in preview["lines"]["data"]
    ), "the seats added mid-period are prorated onto the next invoice"

    with tenant_context(tenant_alpha), django_capture_on_commit_callbacks(execute=True):
        staff_update(
            staff=second,
            spec=StaffSpec(display_name="Second", is_active=False),
            tenant_id=tenant_alpha.pk,
        )
    assert _stripe_seats(stripe_client, row) == 1
    assert _preview_seat_quantity(stripe_client, row) == 1

    with tenant_context(tenant_alpha), django_capture_on_commit_callbacks(execute=True):
        for staff in StaffMember.objects.exclude(display_name="First"):
            staff_update(
                staff=staff,
                spec=StaffSpec(display_name=staff.display_name, is_active=False),
                tenant_id=tenant_alpha.pk,
            )
    subscription = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert seat_quantity_of(subscription) == 0
    assert len(subscription["items"]["data"]) == 1  # the seat item is removed
    row.refresh_from_db()
    assert row.extra_seats == 0


def test_renaming_active_staff_does_not_queue_a_seat_sync(active_starter, tenant_alpha) -> None:
    with tenant_context(tenant_alpha):
        first = StaffMember.objects.get()
        staff_update(staff=first, spec=StaffSpec(display_name="Renamed"), tenant_id=tenant_alpha.pk)
    assert not OutboxMessage.objects.filter(task_name="billing.seats_sync").exists()


def test_reconcile_repairs_seat_drift(stripe_client, active_starter, tenant_alpha, capsys) -> None:
    row = active_starter
    # Two staff added while the seat task was lost (written straight to the table):
    with tenant_context(tenant_alpha):
        StaffMember.objects.create(display_name="Second")
        StaffMember.objects.create(display_name="Third")
    capsys.readouterr()

    call_command("reconcile_billing")

    assert "alpha: seat quantity 0 → 2" in capsys.readouterr().out
    assert _stripe_seats(stripe_client, row) == 2
    row.refresh_from_db()
    assert row.extra_seats == 2
    call_command("reconcile_billing")
    assert "0 repair(s)" in capsys.readouterr().out
