"""In Chromium: a customer signs in with a one-time link, buys a 10-class pass through the
Payment Element (local Stripe's Stripe.js stand-in), and books a class with a credit on the
booking page instead of paying."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from memberships.models import CreditGrant, PassPurchase
from memberships.services.passes import pass_offer_save, pass_offer_set_status
from scheduling.models import Booking, Occurrence, Service
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

AXE = (Path(__file__).resolve().parents[1] / "assets" / "axe-core" / "axe.min.js").read_text()


def serious_accessibility_problems(page: Any, site: str, paths: list[str]) -> dict:
    """axe-core's serious and critical violations of each page (evaluated through the
    debugger protocol: the pages' CSP refuses inline scripts)."""
    problems = {}
    for path in paths:
        page.goto(site + path)
        page.evaluate(AXE)
        found = page.evaluate("async () => (await axe.run(document)).violations")
        bad = [f"{v['id']}: {v['nodes'][0]['target']}" for v in found
               if v["impact"] in ("serious", "critical")]  # fmt: skip
        if bad:
            problems[path] = bad
    return problems


def to_summary(page: Any) -> None:
    """From the times step: the first free time, Yves's details, on to the summary."""
    page.locator(".cr-day-open").first.click()
    page.locator(".cr-time").first.click()
    page.fill("#cr-name", "Yves Yogi")
    page.fill("#cr-email", "yves@example.test")
    page.check("#cr-consent")
    page.click("button[type=submit]")


SECRET_KEY = "sk_test_CreneauPassesBrowser000000001"
PUBLISHABLE_KEY = "pk_test_CreneauPassesBrowser000000001"


def _clear_memberships() -> None:
    # The ledger refuses DELETE (append-only trigger); TRUNCATE is not a row change.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE memberships_passrefund, memberships_passpurchase, memberships_creditentry, "
            "memberships_creditgrant_services, memberships_creditgrant, "
            "memberships_passoffer_services, memberships_passoffer, "
            "scheduling_customersigninlink CASCADE"
        )


@pytest.fixture(scope="module")
def class_pass(alpha_catalogue: dict, django_db_blocker) -> Iterator[dict]:
    """Local Stripe, alpha's account, a yoga class with a session tomorrow, a 10-class pass on
    sale and a known customer; all removed after the module."""
    tenant = alpha_catalogue["tenant"]
    with local_stripe_settings(secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY) as stripe:
        with onboarded_alpha(tenant, stripe, django_db_blocker):
            with django_db_blocker.unblock(), tenant_context(tenant):
                yoga = Service.objects.create(
                    name="Yoga class", category="Classes", duration_minutes=60,
                    price_minor=2000, payment_mode="online_full", capacity=12,
                    minimum_notice_minutes=60, maximum_advance_days=60,
                    cancellation_policy=[{"hours_before": 24, "refund_percent": 100}],
                )  # fmt: skip
                yoga.staff.add(alpha_catalogue["ada"])
                starts = (timezone.now() + timedelta(days=2)).replace(
                    hour=17, minute=0, second=0, microsecond=0
                )
                Occurrence.objects.create(service=yoga, staff=alpha_catalogue["ada"],
                                          starts_at=starts, ends_at=starts + timedelta(hours=1),
                                          capacity=12)  # fmt: skip
                offer = pass_offer_save(offer=None, fields=dict(
                    name="10-class pass", description="Ten yoga classes", credits=10,
                    validity_days=90, validity_starts="purchase", price_minor=15000,
                    new_customers_only=False, per_customer_limit=None,
                ), service_ids=[yoga.pk])  # fmt: skip
                pass_offer_set_status(offer=offer, status="on_sale")
                customer = customer_upsert(name="Yves Yogi", email="yves@example.test")
            connection.set_schema_to_public()
            try:
                yield {"yoga": yoga, "offer": offer, "customer": customer, **stripe}
            finally:
                with django_db_blocker.unblock(), tenant_context(tenant):
                    _clear_memberships()
                connection.set_schema_to_public()


def test_customer_buys_a_ten_class_pass_and_books_a_class_with_a_credit(
    browser: Any, live_site: dict, alpha_catalogue: dict, class_pass: dict, django_db_blocker
) -> None:
    tenant = alpha_catalogue["tenant"]
    site = live_site["alpha"]
    with django_db_blocker.unblock(), tenant_context(tenant):
        token = sign_in_token_of(customer_sign_in_request(email="yves@example.test"))
    connection.set_schema_to_public()
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)
    # The link from the email: a button, then the account page.
    page.goto(f"{site}/my/sign-in/{token}/")
    page.click("#cr-sign-in")
    page.wait_for_url(f"{site}/my/")
    assert "You have no credits." in page.inner_text("main")
    page.click("text=Buy a pass")
    page.click("text=Buy 10-class pass")
    page.wait_for_function("() => !document.getElementById('cr-pay').disabled")  # element ready
    fill_card(page, "4242 4242 4242 4242")
    page.click("#cr-pay")
    page.wait_for_selector("#cr-purchase-paid")  # the page re-read the PaymentIntent: paid
    assert "10 credits were added" in page.inner_text("#cr-purchase-paid")
    screenshot(page, "pass-paid")
    with django_db_blocker.unblock(), tenant_context(tenant):
        purchase = PassPurchase.objects.get()
        intent = class_pass["sdk"].v1.payment_intents.retrieve(purchase.payment_intent_id)
        assert intent.status == "succeeded" and intent.amount == 15000
        assert intent.transfer_data.destination.startswith("acct_")
        assert CreditGrant.objects.get().remaining == 10
    connection.set_schema_to_public()
    # Book the class: the summary offers the credit instead of paying.
    page.click("#cr-book-with-credit")
    page.goto(f"{site}/book/{class_pass['yoga'].pk}/")
    to_summary(page)
    page.wait_for_selector("#cr-use-credit")
    assert "10-class pass (10 left" in page.inner_text("#cr-credit-offer")
    screenshot(page, "pass-credit-offered")
    page.click("#cr-use-credit")
    page.wait_for_selector("body[data-step='done']")
    with django_db_blocker.unblock(), tenant_context(tenant):
        booking = Booking.objects.get(customer__email="yves@example.test")
        assert (booking.status, booking.payment_mode) == ("confirmed", "credit")
        assert booking.occurrence_id is not None
        assert CreditGrant.objects.get().remaining == 9
    connection.set_schema_to_public()
    assert booking.reference in page.inner_text("body")
    page.goto(f"{site}/my/")
    assert "9 credits" in page.inner_text("#cr-section-credits-body")
    assert "Yoga class" in page.inner_text("#cr-upcoming")
    assert csp_violations(page) == []
    assert serious_accessibility_problems(page, site, ["/my/", "/my/passes/"]) == {}
    screenshot(page, "pass-account")
    page.close()


def test_signed_in_member_sees_and_pays_the_member_price(
    browser: Any, live_site: dict, alpha_catalogue: dict, class_pass: dict, django_db_blocker
) -> None:
    """An active member (Gold covers the yoga class, 20 % off other services) signed in on the
    booking page: the massage's summary shows the member price with the normal price struck
    through, and the payment asks for the member price (the PaymentIntent's amount)."""
    from connect_payments.models import BookingPayment
    from memberships.services.memberships import membership_join_returned
    from tests.memberships.membership_helpers import join_and_pay, new_clock, offer_on_sale

    tenant = alpha_catalogue["tenant"]
    site = live_site["alpha"]
    sdk = class_pass["sdk"]
    with django_db_blocker.unblock(), tenant_context(tenant):
        gold = offer_on_sale([class_pass["yoga"]], name="Gold", member_discount_percent=20)
        membership = join_and_pay(sdk, gold, class_pass["customer"], clock=new_clock(sdk))
        assert membership_join_returned(membership=membership).status == "active"
        token = sign_in_token_of(customer_sign_in_request(email="yves@example.test"))
    connection.set_schema_to_public()
    try:
        page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
        watch_csp(page)
        page.goto(f"{site}/my/sign-in/{token}/")
        page.click("#cr-sign-in")
        page.wait_for_url(f"{site}/my/")
        page.goto(f"{site}/book/{alpha_catalogue['massage'].pk}/")
        page.click("[data-staff='anyone']")  # two people give massages
        to_summary(page)
        page.wait_for_selector("#cr-member-price")
        offer = page.inner_text("#cr-member-price")
        assert "Member price (Gold):" in offer and "36.00" in offer
        assert "45.00" in page.inner_text("#cr-member-price s")  # struck through
        assert "36.00" in page.inner_text(".cr-total")  # the summary's total follows
        screenshot(page, "member-price")
        page.click("#cr-submit")
        page.wait_for_selector("#cr-pay")
        assert "36.00" in page.inner_text("#cr-pay")
        with django_db_blocker.unblock(), tenant_context(tenant):
            payment = BookingPayment.objects.get(booking__service=alpha_catalogue["massage"])
            assert payment.booking.price_minor == payment.amount_minor == 3600
            intent = sdk.v1.payment_intents.retrieve(payment.payment_intent_id)
            assert intent.amount == 3600
        connection.set_schema_to_public()
        assert csp_violations(page) == []
    finally:
        with django_db_blocker.unblock(), tenant_context(tenant):
            with connection.cursor() as cursor:  # memberships PROTECT the customer
                cursor.execute(
                    "TRUNCATE memberships_membershipperiod, memberships_membership, "
                    "memberships_membershipoffer_services, memberships_membershipoffer CASCADE"
                )
        connection.set_schema_to_public()
