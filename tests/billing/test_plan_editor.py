"""Operators edit plans in the console (issue #12): a new amount becomes a new Stripe Price that
takes the lookup key while the old Price stays for its subscribers; limits and fees apply at
once; every edit is audited; bad input is a form error that changes nothing; only operators."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing.catalogue import price_lookup_key
from billing.models import Plan
from billing.subscriptions import trial_start
from tenants.models import AuditEntry
from tests.factories import client_for, make_user, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(db):
    operator = make_user(name="Olga Operator", is_operator=True)
    return signed_in(client_for(), operator, schema="public", verified=True)


def form_of(plan: Plan, **changes) -> dict:
    data = {
        "name": plan.name, "monthly_price_minor": plan.monthly_price_minor,
        "yearly_price_minor": plan.yearly_price_minor,
        "staff_seats_included": plan.staff_seats_included,
        "extra_seat_price_minor": plan.extra_seat_price_minor,
        "max_staff": plan.max_staff or "", "max_group_sessions": plan.max_group_sessions or "",
        "fee_basis_points": plan.fee_basis_points, "fee_fixed_minor": plan.fee_fixed_minor,
        "display_order": plan.display_order, "reason": "Price review December",
    }  # fmt: skip
    for flag in ("custom_branding", "api_keys", "memberships"):
        if getattr(plan, flag):
            data[flag] = "on"
    data.update(changes)
    return data


def test_a_new_price_replaces_the_lookup_key_and_subscribers_keep_the_old(
    console, stripe_client, tenant_alpha
):
    call_command("billing_sync_plans")
    plan = Plan.objects.get(is_default=True)
    key = price_lookup_key(plan, "month")
    old = stripe_client.v1.prices.list({"lookup_keys": [key]}).data[0]
    row = trial_start(tenant=tenant_alpha)
    subscribed = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert subscribed["items"].data[0].price.id == old.id

    page = console.get(f"/console/plans/{plan.code}/")
    assert page.status_code == 200
    raised = form_of(plan, monthly_price_minor=plan.monthly_price_minor + 500)
    saved = console.post(f"/console/plans/{plan.code}/", raised)
    assert saved.status_code == 302
    new = stripe_client.v1.prices.list({"lookup_keys": [key]}).data[0]
    assert new.id != old.id and new.unit_amount == plan.monthly_price_minor + 500
    assert stripe_client.v1.prices.retrieve(old.id).lookup_key is None  # transferred
    still = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert still["items"].data[0].price.id == old.id  # the subscriber keeps theirs
    entry = AuditEntry.objects.get(action="billing.plan_edited")
    assert entry.reason == "Price review December"
    assert entry.data["changed"] == {
        "monthly_price_minor": [plan.monthly_price_minor, plan.monthly_price_minor + 500]
    }


def test_limits_change_without_a_new_price_and_bad_input_changes_nothing(console, stripe_client):
    call_command("billing_sync_plans")
    plan = Plan.objects.get(is_default=True)
    key = price_lookup_key(plan, "month")
    before = stripe_client.v1.prices.list({"lookup_keys": [key]}).data[0].id
    assert console.post(f"/console/plans/{plan.code}/",
                        form_of(plan, max_group_sessions=7)).status_code == 302  # fmt: skip
    assert Plan.objects.get(pk=plan.pk).max_group_sessions == 7
    assert stripe_client.v1.prices.list({"lookup_keys": [key]}).data[0].id == before
    for bad in (
        {"fee_basis_points": 9000},
        {"monthly_price_minor": -1},
        {"reason": ""},
        {"max_staff": 0, "staff_seats_included": 2},
    ):
        refused = console.post(f"/console/plans/{plan.code}/", form_of(plan, **bad))
        assert refused.status_code == 400, bad
    fresh = Plan.objects.get(pk=plan.pk)
    assert (fresh.fee_basis_points, fresh.monthly_price_minor) == (
        plan.fee_basis_points,
        plan.monthly_price_minor,
    )
    assert AuditEntry.objects.filter(action="billing.plan_edited").count() == 1


def test_only_operators_reach_the_plans(db):
    owner = make_user(name="Not An Operator")
    client = signed_in(client_for(), owner, schema="public", verified=True)
    plan = Plan.objects.get(is_default=True)
    assert client.get("/console/plans/").status_code == 404
    assert client.post(f"/console/plans/{plan.code}/", form_of(plan, name="Hacked")).status_code \
        == 404  # fmt: skip
    assert Plan.objects.get(pk=plan.pk).name == plan.name
