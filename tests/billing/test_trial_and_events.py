"""The trial at signup (no card, paused at the end), the access decision, and billing's event
handlers re-reading the subscription from Stripe (duplicates and stale events are harmless)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from billing.access import BookingAccess, booking_access_for, booking_access_of
from billing.mirror import mirror
from billing.models import SubscriptionStatus, TenantSubscription
from billing.services import TRIAL_START_TASK
from billing.subscriptions import trial_start
from billing.tasks import owner_email_task
from billing.webhooks import EMAIL_TASK, billing_event
from common.stripe_events import ReceivedEvent, handler_for, handlers_for
from outbox.models import OutboxMessage
from tenants.services import tenant_provision
from tests.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(stripe_client) -> None:
    call_command("billing_sync_plans")


def _event(event_type: str, obj: dict, n: int = 1) -> ReceivedEvent:
    return ReceivedEvent(
        event_id=f"evt_test_{n}",
        type=event_type,
        account_id="",
        tenant_schema="",
        payload={"type": event_type, "data": {"object": obj}},
    )


@pytest.mark.parametrize(
    ("status", "complimentary", "access"),
    [
        ("none", False, BookingAccess.FULL),
        ("trialing", False, BookingAccess.FULL),
        ("active", False, BookingAccess.FULL),
        ("past_due", False, BookingAccess.GRACE),
        ("unpaid", False, BookingAccess.PAUSED),
        ("paused", False, BookingAccess.PAUSED),
        ("canceled", False, BookingAccess.PAUSED),
        ("canceled", True, BookingAccess.FULL),
    ],
)
def test_one_function_maps_the_status_to_access(status, complimentary, access) -> None:
    assert booking_access_for(status=status, complimentary=complimentary) == access


def test_signup_queues_the_trial_through_the_outbox(settings) -> None:
    settings.BILLING_TRIAL_AT_SIGNUP = True
    tenant = tenant_provision(
        name="Trial Studio",
        slug="trialstudio",
        owner_email="owner@trialstudio.test",
        owner_name="Trial Owner",
        owner_password="x-Long-Password-1",
        country="FR",
        currency="EUR",
        time_zone="Europe/Paris",
    )
    # The test's transaction never commits: the row is written, the task not yet handed out.
    message = OutboxMessage.objects.get(task_name=TRIAL_START_TASK)
    assert message.args == [tenant.pk]
    assert TenantSubscription.objects.get(tenant=tenant).status == SubscriptionStatus.NONE


def test_trial_has_no_card_pauses_at_the_end_and_is_created_once(
    plans, tenant_alpha, stripe_client
) -> None:
    row = trial_start(tenant=tenant_alpha)

    assert row.status == SubscriptionStatus.TRIALING
    assert row.plan is not None and row.plan.code == "starter"
    assert row.trial_end is not None
    assert abs(row.trial_end - (timezone.now() + timedelta(days=14))) < timedelta(minutes=5)
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert sub.default_payment_method is None
    assert booking_access_of(tenant_alpha) == BookingAccess.FULL

    # A retry (the row lost its ids, e.g. the first attempt died after Stripe answered) gets
    # the same customer and subscription back: idempotency keys, never two customers.
    TenantSubscription.objects.filter(pk=row.pk).update(
        stripe_customer_id="", stripe_subscription_id=""
    )
    again = trial_start(tenant=tenant_alpha)
    assert (again.stripe_customer_id, again.stripe_subscription_id) == (
        row.stripe_customer_id,
        row.stripe_subscription_id,
    )
    assert len(stripe_client.v1.customers.list({"email": "owner@alpha.test"}).data) == 1


def test_a_trial_without_a_card_ends_paused_on_the_clock_and_public_booking_stops(
    plans, tenant_alpha, stripe_client
) -> None:
    """Time passes on a Stripe test clock: the trial's end pauses the subscription (no card),
    `customer.subscription.paused` applies it, and the hosted page and API stop taking bookings."""
    now = int(timezone.now().timestamp())
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": now})
    customer = stripe_client.v1.customers.create(
        {"email": "owner@alpha.test", "test_clock": clock.id}
    )
    mirror("Customer", customer)  # as customer_ensure does for the customers it creates
    TenantSubscription.objects.update_or_create(
        tenant=tenant_alpha, defaults={"stripe_customer_id": customer.id}
    )
    row = trial_start(tenant=tenant_alpha)
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert sub.trial_settings.end_behavior.missing_payment_method == "pause"
    assert client_for(tenant_alpha).get("/book/").status_code == 200

    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": now + 15 * 86_400})
    paused = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert paused.status == "paused"
    assert billing_event(_event("customer.subscription.paused", dict(paused))) is True

    row.refresh_from_db()
    assert row.status == SubscriptionStatus.PAUSED
    assert booking_access_of(tenant_alpha) == BookingAccess.PAUSED
    page = client_for(tenant_alpha).get("/book/")
    assert page.status_code == 503
    assert "not taking online bookings right now" in page.content.decode()


def test_stripe_down_at_signup_leaves_no_half_written_state(plans, tenant_alpha, settings) -> None:
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: connection refused
    with pytest.raises(stripe.APIConnectionError):
        trial_start(tenant=tenant_alpha)
    row = TenantSubscription.objects.get(tenant=tenant_alpha)
    assert (row.stripe_subscription_id, row.status) == ("", SubscriptionStatus.NONE)


def test_events_re_read_the_subscription_so_stale_and_duplicates_are_harmless(
    plans, tenant_alpha, stripe_client
) -> None:
    row = trial_start(tenant=tenant_alpha)
    stale = dict(stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id))
    stripe_client.v1.subscriptions.cancel(row.stripe_subscription_id)

    # The (late) "updated" event still says trialing; Stripe says canceled: Stripe wins.
    # Memberships handle this type too (their own subscriptions): billing's is one of them.
    assert billing_event in handlers_for("customer.subscription.updated")
    handler = handler_for("customer.subscription.updated")
    assert handler is not None
    assert handler(_event("customer.subscription.updated", stale)) is True
    assert handler(_event("customer.subscription.updated", stale)) is True
    row.refresh_from_db()
    assert row.status == SubscriptionStatus.CANCELED
    assert booking_access_of(tenant_alpha) == BookingAccess.PAUSED


def test_an_unknown_customer_is_ignored(plans) -> None:
    event = _event("invoice.paid", {"id": "in_x", "object": "invoice", "customer": "cus_nobody"})
    assert billing_event(event) is False


def test_trial_ending_email_goes_once(plans, tenant_alpha, stripe_client) -> None:
    row = trial_start(tenant=tenant_alpha)
    sub = dict(stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id))

    for n in (1, 2):
        billing_event(_event("customer.subscription.trial_will_end", sub, n))

    queued = OutboxMessage.objects.filter(task_name=EMAIL_TASK)
    assert queued.count() == 1
    owner_email_task(**queued.get().kwargs)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@alpha.test"]
    assert "/billing/" in mail.outbox[0].body


def test_payment_failed_email_goes_once_per_invoice_with_a_link_to_fix_the_card(
    plans, tenant_alpha
) -> None:
    row = trial_start(tenant=tenant_alpha)
    failed = {"id": "in_failed_1", "object": "invoice", "customer": row.stripe_customer_id}

    billing_event(_event("invoice.payment_failed", failed, 1))
    billing_event(_event("invoice.payment_failed", failed, 2))  # a retry's duplicate event
    billing_event(_event("invoice.payment_failed", {**failed, "id": "in_failed_2"}, 3))

    queued = list(OutboxMessage.objects.filter(task_name=EMAIL_TASK).order_by("pk"))
    assert len(queued) == 2
    owner_email_task(**queued[0].kwargs)
    assert mail.outbox[0].subject == "Your Creneau payment failed: please update your card"
    assert "http://alpha.localhost" in mail.outbox[0].body
    assert "/billing/" in mail.outbox[0].body


def test_a_created_event_before_the_trial_was_recorded_fills_the_row(
    plans, tenant_alpha, stripe_client
) -> None:
    row = trial_start(tenant=tenant_alpha)
    sub = dict(stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id))
    TenantSubscription.objects.filter(pk=row.pk).update(stripe_subscription_id="", status="none")

    billing_event(_event("customer.subscription.created", sub))

    row.refresh_from_db()
    assert (row.stripe_subscription_id, row.status) == (sub["id"], SubscriptionStatus.TRIALING)
