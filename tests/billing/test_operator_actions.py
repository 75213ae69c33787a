"""Operator billing actions in the console: each changes Stripe and the local row, is audited
with a required reason, and is refused without a second factor, to non-operators and to
tenant owners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from djstripe import models as djstripe_models

from billing.models import Plan, SubscriptionStatus, TenantSubscription
from billing.subscriptions import trial_start
from tenants.models import AuditEntry
from tests.factories import client_for, make_user, member_client, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return make_user(name="Olga Operator", is_operator=True)


@pytest.fixture
def console(operator):
    return signed_in(client_for(), operator, schema="public", verified=True)


@pytest.fixture
def trialing(stripe_client, tenant_alpha) -> TenantSubscription:
    call_command("billing_sync_plans")
    return trial_start(tenant=tenant_alpha)


def _sub(stripe_client, row):
    return stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)


def test_extend_a_trial(console, stripe_client, trialing) -> None:
    new_end = (datetime.now(UTC) + timedelta(days=30)).date()
    page = console.post(
        "/console/tenants/alpha/billing/trial/",
        {"trial_end": new_end.isoformat(), "reason": "Onboarding call moved"},
    )
    assert page.status_code == 302
    stripe_end = datetime.fromtimestamp(_sub(stripe_client, trialing)["trial_end"], tz=UTC)
    assert stripe_end.date() == new_end
    trialing.refresh_from_db()
    assert trialing.trial_end == stripe_end and trialing.status == SubscriptionStatus.TRIALING
    entry = AuditEntry.objects.get(action="billing.trial_extended")
    assert entry.reason == "Onboarding call moved" and entry.tenant == trialing.tenant


def test_complimentary_plan(console, stripe_client, trialing) -> None:
    console.post("/console/tenants/alpha/billing/comp/", {"reason": "Partner studio"})
    assert len(_sub(stripe_client, trialing)["discounts"]) == 1
    coupons = stripe_client.v1.coupons.list({"limit": 10}).data
    assert [(c.percent_off, c.duration) for c in coupons] == [(100, "forever")]
    # stored, so that the revenue page (which never calls Stripe) counts the comp as 0
    assert djstripe_models.Coupon.objects.get(id=coupons[0].id).stripe_data["percent_off"] == 100
    preview = stripe_client.v1.invoices.create_preview(
        {"subscription": trialing.stripe_subscription_id}
    )
    assert preview["total"] == 0
    trialing.refresh_from_db()
    assert trialing.complimentary
    assert AuditEntry.objects.filter(action="billing.complimentary_given").count() == 1
    assert "complimentary" in console.get("/console/tenants/alpha/").content.decode()


def test_change_plan(console, stripe_client, trialing, tenant_alpha) -> None:
    console.post(
        "/console/tenants/alpha/billing/plan/",
        {"plan": "pro", "interval": "year", "reason": "Asked by phone"},
    )
    item = _sub(stripe_client, trialing)["items"]["data"][0]
    assert item["price"]["lookup_key"] == "creneau_pro_yearly"
    trialing.refresh_from_db()
    assert trialing.plan == Plan.objects.get(code="pro") and trialing.interval == "year"
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.plan.code == "pro"
    assert AuditEntry.objects.get(action="billing.plan_changed").data["plan"] == "pro"


def test_cancel_at_period_end_then_now(console, stripe_client, trialing) -> None:
    console.post(
        "/console/tenants/alpha/billing/cancel/", {"when": "period_end", "reason": "Closing"}
    )
    assert _sub(stripe_client, trialing)["cancel_at_period_end"] is True
    trialing.refresh_from_db()
    assert trialing.cancel_at_period_end
    console.post("/console/tenants/alpha/billing/cancel/", {"when": "now", "reason": "Fraud"})
    assert _sub(stripe_client, trialing)["status"] == "canceled"
    trialing.refresh_from_db()
    assert trialing.status == SubscriptionStatus.CANCELED
    assert AuditEntry.objects.filter(action="billing.cancelled").count() == 2


def test_refused_without_a_reason(console, stripe_client, trialing) -> None:
    before = _sub(stripe_client, trialing)
    page = console.post(
        "/console/tenants/alpha/billing/cancel/", {"when": "now", "reason": " "}, follow=True
    )
    assert "Give a reason" in page.content.decode()
    assert _sub(stripe_client, trialing)["status"] == before["status"] == "trialing"
    assert not AuditEntry.objects.filter(action__startswith="billing.").exists()


def test_refused_without_2fa_to_non_operators_and_to_owners(
    operator, stripe_client, trialing, tenant_alpha, owner_alpha
) -> None:
    data = {"when": "now", "reason": "Try"}
    url = "/console/tenants/alpha/billing/cancel/"
    unverified = signed_in(client_for(), operator, schema="public")
    assert unverified.post(url, data)["Location"].startswith("/account/two_factor/setup/")
    owner = signed_in(client_for(), owner_alpha, schema="public", verified=True)
    assert owner.post(url, data).status_code == 404
    # On the tenant's own host the console does not exist.
    assert (
        member_client(tenant_alpha, owner_alpha, verified=True).post(url, data).status_code == 404
    )
    assert client_for().post(url, data).status_code == 302  # anonymous → sign in
    assert _sub(stripe_client, trialing)["status"] == "trialing"
    assert not AuditEntry.objects.filter(action__startswith="billing.").exists()


def test_the_panel_shows_plan_status_seats_next_invoice_and_events(console, trialing) -> None:
    page = console.get("/console/tenants/alpha/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="billing-panel"' in html and "Trial" in html
    assert page.context["billing"]["preview"] is not None
    assert trialing.stripe_subscription_id in html


def test_remove_a_complimentary_plan(console, stripe_client, trialing) -> None:
    console.post("/console/tenants/alpha/billing/comp/", {"reason": "Partner studio"})
    assert (
        "Remove the complimentary plan" in console.get("/console/tenants/alpha/").content.decode()
    )

    page = console.post(
        "/console/tenants/alpha/billing/uncomp/", {"reason": "Partnership ended"}, follow=True
    )

    assert "complimentary plan removed" in page.content.decode()
    assert _sub(stripe_client, trialing)["discounts"] == []
    preview = stripe_client.v1.invoices.create_preview(
        {"subscription": trialing.stripe_subscription_id}
    )
    assert preview["total"] == Plan.objects.get(code="starter").monthly_price_minor
    trialing.refresh_from_db()
    assert not trialing.complimentary
    entry = AuditEntry.objects.get(action="billing.complimentary_removed")
    assert entry.reason == "Partnership ended" and entry.data["discounts"].startswith("di_")
    # Nothing left to remove: refused, with the reason, and not audited twice.
    again = console.post("/console/tenants/alpha/billing/uncomp/", {"reason": "Twice"}, follow=True)
    assert "has no complimentary plan to remove" in again.content.decode()
    assert AuditEntry.objects.filter(action="billing.complimentary_removed").count() == 1


def test_undo_a_cancellation_at_the_period_end(console, stripe_client, trialing) -> None:
    console.post(
        "/console/tenants/alpha/billing/cancel/", {"when": "period_end", "reason": "Closing"}
    )
    assert "Undo the cancellation" in console.get("/console/tenants/alpha/").content.decode()

    console.post("/console/tenants/alpha/billing/uncancel/", {"reason": "Changed their mind"})

    assert _sub(stripe_client, trialing)["cancel_at_period_end"] is False
    trialing.refresh_from_db()
    assert not trialing.cancel_at_period_end and trialing.status == SubscriptionStatus.TRIALING
    entry = AuditEntry.objects.get(action="billing.cancellation_undone")
    assert entry.reason == "Changed their mind" and entry.data["schedule_released"] == "none"


def test_undo_a_cancellation_scheduled_by_a_subscription_schedule(
    console, stripe_client, trialing
) -> None:
    schedule = stripe_client.v1.subscription_schedules.create(
        {"from_subscription": trialing.stripe_subscription_id}
    )
    stripe_client.v1.subscription_schedules.update(schedule.id, {"end_behavior": "cancel"})

    console.post("/console/tenants/alpha/billing/uncancel/", {"reason": "Keeps the studio"})

    assert stripe_client.v1.subscription_schedules.retrieve(schedule.id)["status"] == "released"
    sub = _sub(stripe_client, trialing)
    assert sub["schedule"] is None and sub["status"] == "trialing"
    entry = AuditEntry.objects.get(action="billing.cancellation_undone")
    assert entry.data["schedule_released"] == schedule.id


def test_undo_refused_when_nothing_is_to_cancel_or_it_has_ended(
    console, stripe_client, trialing
) -> None:
    page = console.post("/console/tenants/alpha/billing/uncancel/", {"reason": "?"}, follow=True)
    assert "is not set to cancel" in page.content.decode()
    stripe_client.v1.subscriptions.cancel(trialing.stripe_subscription_id)
    page = console.post("/console/tenants/alpha/billing/uncancel/", {"reason": "?"}, follow=True)
    assert "has already ended" in page.content.decode()
    assert _sub(stripe_client, trialing)["status"] == "canceled"
    assert not AuditEntry.objects.filter(action="billing.cancellation_undone").exists()
