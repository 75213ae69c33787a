"""In Debian's Chromium: alpha's owner, on the trial, picks a plan, sees Stripe's previewed
amount, enters the test card 4242 4242 4242 4242 in the Payment Element (local Stripe's
Stripe.js stand-in) and lands on Plan and billing showing the active plan.

Everything is committed for the live server and removed at the end."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.models import Plan, TenantSubscription
from billing.subscriptions import trial_start
from common.money import Money, format_money
from tenants.models import Tenant
from tests.factories import member_client
from tests.widgets.conftest import browser, fill_card, live_site, screenshot  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def owner_on_trial(committed_db, stripe_settings) -> Any:
    stripe_settings.STRIPE_PUBLISHABLE_KEY = "pk_test_CreneauBillingBrowser0001"
    stripe_settings.STRIPE_JS_URL = ""
    connection.set_schema_to_public()
    tenant = Tenant.objects.get(slug="alpha")
    plan_before = tenant.plan_id
    owner = tenant.memberships.get(role="owner").user
    had_device = TOTPDevice.objects.filter(user=owner).exists()
    TenantSubscription.objects.filter(tenant=tenant).delete()
    call_command("billing_sync_plans")
    trial_start(tenant=tenant)
    client = member_client(tenant, owner, verified=True)
    yield tenant, client
    client.logout()
    connection.set_schema_to_public()
    TenantSubscription.objects.filter(tenant=tenant).delete()
    Tenant.objects.filter(pk=tenant.pk).update(plan_id=plan_before)
    if not had_device:
        TOTPDevice.objects.filter(user=owner).delete()


def test_owner_on_trial_subscribes_with_a_test_card(browser, live_site, owner_on_trial):  # noqa: F811
    tenant, client = owner_on_trial
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "httpOnly": True,
                "url": live_site["alpha"],
            }
        ]
    )
    page = context.new_page()
    try:
        page.goto(live_site["alpha"] + "/billing/")
        assert page.text_content("#billing-status").strip() == "Trial"
        page.check("input[name='plan'][value='studio']")
        page.check("input[name='interval'][value='year']")
        page.click("#billing-choose")
        page.wait_for_selector("#billing-payment-element input[name='cardnumber']")
        studio = Plan.objects.get(code="studio")
        shown = page.text_content("#confirm-amount").strip()
        assert shown == format_money(Money(studio.yearly_price_minor, studio.currency))
        fill_card(page, "4242 4242 4242 4242")
        page.wait_for_selector("#billing-subscribe:not([disabled])")
        page.click("#billing-subscribe")
        page.wait_for_url(live_site["alpha"] + "/billing/")
        screenshot(page, "billing-subscribed")
        assert page.text_content("#billing-status").strip() == "Active"
        assert page.text_content("#billing-plan").startswith(studio.name)
        assert "You are subscribed to the Studio plan." in page.content()
    finally:
        context.close()
    row = TenantSubscription.objects.get(tenant=tenant)
    assert row.status == "active" and row.plan == studio and row.interval == "year"
