"""Subscribing from the trial on the "Plan and billing" page, against a running local Stripe:
the amount shown is Stripe's invoice preview, the card is saved through a SetupIntent confirmed
as the Payment Element would (the SDK with a test PaymentMethod stands in for the browser; the
Chromium test does it for real), the subscription moves to the chosen price and the trial ends."""

from __future__ import annotations

import html
import re

import pytest
import stripe
from django.core.management import call_command

from billing.models import Plan, SubscriptionStatus, TenantSubscription
from billing.subscriptions import trial_start
from common.money import Money, format_money
from tests.factories import make_member, member_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_trial(stripe_client, tenant_alpha):
    call_command("billing_sync_plans")
    return trial_start(tenant=tenant_alpha)


def invoice_time(stripe_client, subscription) -> int:
    return stripe_client.v1.invoices.retrieve(subscription.latest_invoice).created


def _field(body: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


def _client_secret(body: str) -> str:
    match = re.search(r'data-client-secret="([^"]+)"', body)
    assert match
    return html.unescape(match.group(1))


def _amount_shown(body: str) -> str:
    match = re.search(r'id="confirm-amount">([^<]+)<', body)
    assert match
    return html.unescape(match.group(1)).split(" at ")[0]


def _subscribe(client, stripe_client, plan: str, interval: str, card: str = "pm_card_visa"):
    page = client.post("/billing/change/", {"plan": plan, "interval": interval})
    assert page.status_code == 200, page.content.decode()
    body = page.content.decode()
    secret = _client_secret(body)
    intent_id = secret.split("_secret_")[0]
    intent = stripe_client.v1.setup_intents.retrieve(intent_id)
    assert intent.usage == "off_session"
    stripe_client.v1.setup_intents.confirm(
        intent_id, {"payment_method": card, "client_secret": secret}
    )
    done = client.post(
        "/billing/subscribe/", {"token": _field(body, "token"), "setup_intent": intent_id}
    )
    return body, intent_id, done


@pytest.mark.parametrize(("plan", "interval"), [("studio", "month"), ("pro", "year")])
def test_subscribe_charges_the_previewed_amount_and_ends_the_trial(
    on_trial, stripe_client, tenant_alpha, owner_alpha, plan, interval
):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    body, intent_id, done = _subscribe(client, stripe_client, plan, interval)
    assert done.status_code == 302

    row = TenantSubscription.objects.get(tenant=tenant_alpha)
    chosen = Plan.objects.get(code=plan)
    assert row.status == SubscriptionStatus.ACTIVE
    assert row.plan == chosen and row.interval == interval
    subscription = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert subscription.status == "active"
    assert subscription.trial_end is None or subscription.trial_end <= invoice_time(
        stripe_client, subscription
    )
    assert subscription["items"].data[0].price.lookup_key == f"creneau_{plan}_{interval}ly"
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert invoice.status == "paid"
    expected = chosen.monthly_price_minor if interval == "month" else chosen.yearly_price_minor
    assert invoice.amount_paid == expected
    assert _amount_shown(body) == format_money(Money(invoice.amount_paid, chosen.currency))
    pm = stripe_client.v1.setup_intents.retrieve(intent_id).payment_method
    customer = stripe_client.v1.customers.retrieve(row.stripe_customer_id)
    assert customer.invoice_settings.default_payment_method == pm

    page = client.get("/billing/").content.decode()
    assert f'id="billing-plan">{chosen.name}' in page
    assert "Active" in page


def test_unconfirmed_or_foreign_setup_intent_is_refused(
    on_trial, stripe_client, tenant_alpha, owner_alpha
):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    body = client.post("/billing/change/", {"plan": "studio", "interval": "month"}).content
    token = _field(body.decode(), "token")
    intent_id = _client_secret(body.decode()).split("_secret_")[0]
    # not confirmed yet
    done = client.post("/billing/subscribe/", {"token": token, "setup_intent": intent_id})
    assert done.status_code == 302
    assert "The card was not saved" in client.get("/billing/").content.decode()
    # another customer's confirmed SetupIntent
    other = stripe_client.v1.customers.create({"name": "Someone else"})
    foreign = stripe_client.v1.setup_intents.create(
        {"customer": other.id, "usage": "off_session", "payment_method_types": ["card"]}
    )
    stripe_client.v1.setup_intents.confirm(foreign.id, {"payment_method": "pm_card_visa"})
    client.post("/billing/subscribe/", {"token": token, "setup_intent": foreign.id})
    # nonsense
    client.post("/billing/subscribe/", {"token": "forged", "setup_intent": "seti_nope"})
    row = TenantSubscription.objects.get(tenant=tenant_alpha)
    assert row.status == SubscriptionStatus.TRIALING
    assert row.plan.code == "starter"


def test_a_declined_card_leaves_the_trial_as_it_was(
    on_trial, stripe_client, tenant_alpha, owner_alpha
):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    with pytest.raises(stripe.CardError):
        _subscribe(client, stripe_client, "studio", "month", card="pm_card_visa_chargeDeclined")
    assert TenantSubscription.objects.get(tenant=tenant_alpha).status == "trialing"


def test_bad_plan_choice_is_a_form_error(on_trial, tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    for data in ({"plan": "nope", "interval": "month"}, {"plan": "studio", "interval": "week"}, {}):
        page = client.post("/billing/change/", data)
        assert page.status_code == 400
        assert "Choose" in page.content.decode()


def test_only_owner_with_second_factor_can_subscribe(on_trial, tenant_alpha, owner_alpha):
    data = {"plan": "studio", "interval": "month"}
    assert (
        member_client(tenant_alpha, owner_alpha, verified=False)
        .post("/billing/change/", data)
        .status_code
        == 302
    )
    manager = make_member(tenant_alpha, "manager")
    assert (
        member_client(tenant_alpha, manager, verified=True)
        .post("/billing/change/", data)
        .status_code
        == 403
    )


def test_the_token_of_one_tenant_is_refused_by_another(
    stripe_client, tenant_alpha, owner_alpha, tenant_beta, owner_beta
):
    call_command("billing_sync_plans")
    trial_start(tenant=tenant_alpha)
    trial_start(tenant=tenant_beta)
    alpha = member_client(tenant_alpha, owner_alpha, verified=True)
    body = alpha.post("/billing/change/", {"plan": "studio", "interval": "month"}).content
    token = _field(body.decode(), "token")
    beta = member_client(tenant_beta, owner_beta, verified=True)
    beta.post("/billing/subscribe/", {"token": token, "setup_intent": "seti_x"})
    assert "not for this business" in beta.get("/billing/").content.decode()
    assert TenantSubscription.objects.get(tenant=tenant_beta).status == "trialing"


def test_csrf_is_required(on_trial, tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    client.handler.enforce_csrf_checks = True
    assert client.post("/billing/change/", {"plan": "studio"}).status_code == 403
