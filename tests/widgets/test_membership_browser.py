"""In Chromium: a signed-in customer joins a monthly membership by paying its first invoice in the
Payment Element (local Stripe's Stripe.js stand-in), sees it active with its credits and next
renewal, changes the card through a SetupIntent, and cancels at the end of the period."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from memberships.models import CreditGrant, Membership
from memberships.services.memberships import (
    OfferTerms,
    membership_offer_create,
    membership_offer_publish,
)
from scheduling.models import Service
from scheduling.services.customer_sign_in import customer_sign_in_request, sign_in_token_of
from scheduling.services.customers import customer_upsert

from .conftest import (
    csp_violations,
    fill_card,
    local_stripe_settings,
    onboarded_alpha,
    screenshot,
    watch_csp,
)

pytestmark = pytest.mark.browser

SECRET_KEY = "sk_test_CreneauMembersBrowser00000001"
PUBLISHABLE_KEY = "pk_test_CreneauMembersBrowser00000001"


def _clear_memberships() -> None:
    # The ledger refuses DELETE (append-only trigger); TRUNCATE is not a row change.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE memberships_membershipperiod, memberships_membership, "
            "memberships_membershipoffer_services, memberships_membershipoffer, "
            "memberships_creditentry, memberships_creditgrant_services, "
            "memberships_creditgrant, scheduling_customersigninlink CASCADE"
        )


@pytest.fixture(scope="module")
def monthly(alpha_catalogue: dict, django_db_blocker) -> Iterator[dict]:
    tenant = alpha_catalogue["tenant"]
    with local_stripe_settings(secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY) as stripe:
        with onboarded_alpha(tenant, stripe, django_db_blocker):
            with django_db_blocker.unblock(), tenant_context(tenant):
                pilates = Service.objects.create(
                    name="Pilates", duration_minutes=60, price_minor=2500,
                    payment_mode="online_full", minimum_notice_minutes=60,
                )  # fmt: skip
                pilates.staff.add(alpha_catalogue["ada"])
                offer = membership_offer_publish(
                    offer=membership_offer_create(
                        terms=OfferTerms("Pilates monthly", 5900, "EUR", "month", 8,
                                         joining_fee_minor=1000),
                        service_ids=[pilates.pk],
                    )
                )  # fmt: skip
                customer_upsert(name="Mia Member", email="mia@example.test")
            connection.set_schema_to_public()
            try:
                yield {"offer": offer, **stripe}
            finally:
                with django_db_blocker.unblock(), tenant_context(tenant):
                    _clear_memberships()
                connection.set_schema_to_public()


def test_customer_joins_a_membership_changes_the_card_and_cancels_at_period_end(
    browser: Any, live_site: dict, alpha_catalogue: dict, monthly: dict, django_db_blocker
) -> None:
    tenant = alpha_catalogue["tenant"]
    site = live_site["alpha"]
    with django_db_blocker.unblock(), tenant_context(tenant):
        token = sign_in_token_of(customer_sign_in_request(email="mia@example.test"))
    connection.set_schema_to_public()
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)
    page.goto(f"{site}/my/sign-in/{token}/")
    page.click("#cr-sign-in")
    page.wait_for_url(f"{site}/my/")
    page.click("#cr-section-memberships-body a[href='/my/memberships/']")
    page.click("text=Join Pilates monthly")
    assert "€69.00" in page.inner_text("main")  # 59.00 + the 10.00 joining fee
    page.wait_for_function("() => !document.getElementById('cr-pay').disabled")
    fill_card(page, "4242 4242 4242 4242")
    page.click("#cr-pay")
    page.wait_for_selector("#cr-membership-status")
    assert page.inner_text("#cr-membership-status") == "Active"
    screenshot(page, "membership-active")
    with django_db_blocker.unblock(), tenant_context(tenant):
        membership = Membership.objects.get()
        assert membership.status == "active"
        assert CreditGrant.objects.get().remaining == 8
        subscription = monthly["sdk"].v1.subscriptions.retrieve(membership.stripe_subscription_id)
        assert subscription.transfer_data.destination.startswith("acct_")
        first_card = subscription.default_payment_method
        assert first_card
    connection.set_schema_to_public()

    page.click("text=Change the card")
    page.wait_for_function("() => !document.getElementById('cr-pay').disabled")
    fill_card(page, "5555 5555 5555 4444")
    page.click("#cr-pay")
    page.wait_for_selector("#cr-membership-status")
    with django_db_blocker.unblock(), tenant_context(tenant):
        subscription = monthly["sdk"].v1.subscriptions.retrieve(membership.stripe_subscription_id)
        assert subscription.default_payment_method not in (None, first_card)
    connection.set_schema_to_public()

    page.click("#cr-cancel")
    page.wait_for_selector("#cr-keep")
    assert "Ends" in page.inner_text("main")
    page.goto(f"{site}/my/")
    assert "ends" in page.inner_text("#cr-section-memberships-body")
    assert "8 credits" in page.inner_text("#cr-section-credits-body")
    assert csp_violations(page) == []
    screenshot(page, "membership-cancelled")
    page.close()
