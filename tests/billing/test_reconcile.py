"""`reconcile_billing` repairs what lost webhooks left behind: status, plan and seats."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing.catalogue import price_for
from billing.models import Plan, SubscriptionStatus, TenantSubscription
from billing.subscriptions import trial_start

pytestmark = pytest.mark.django_db


def test_lost_webhooks_are_repaired_from_stripe(stripe_client, tenant_alpha, capsys) -> None:
    call_command("billing_sync_plans")
    row = trial_start(tenant=tenant_alpha)
    studio = Plan.objects.get(code="studio")
    studio_monthly = price_for(studio, "month")
    seat = price_for(studio, "month", seat=True)
    assert studio_monthly is not None and seat is not None
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    # Changed in Stripe (the portal, an operator) with every webhook lost:
    stripe_client.v1.subscriptions.update(
        row.stripe_subscription_id,
        {
            "items": [
                {"id": sub["items"]["data"][0]["id"], "price": studio_monthly.id},
                {"price": seat.id, "quantity": 2},
            ],
            "metadata": {"plan_code": "studio"},
        },
    )
    stripe_client.v1.subscriptions.cancel(row.stripe_subscription_id)
    capsys.readouterr()

    call_command("reconcile_billing")

    out = capsys.readouterr().out
    row.refresh_from_db()
    assert row.status == SubscriptionStatus.CANCELED
    assert row.plan == studio and row.extra_seats == 2
    assert "alpha: status trialing → canceled" in out
    assert "alpha: extra_seats 0 → 2" in out
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.plan == studio

    call_command("reconcile_billing")
    assert "0 repair(s)" in capsys.readouterr().out


def test_a_tenant_whose_trial_was_never_created_gets_it(
    stripe_client, tenant_beta, settings, capsys
) -> None:
    settings.BILLING_TRIAL_AT_SIGNUP = True
    call_command("billing_sync_plans")
    TenantSubscription.objects.update_or_create(tenant=tenant_beta, defaults={"status": "none"})
    capsys.readouterr()

    call_command("reconcile_billing")

    assert "beta: subscription none → trial started" in capsys.readouterr().out
    assert TenantSubscription.objects.get(tenant=tenant_beta).status == SubscriptionStatus.TRIALING
