"""The payment step of the booking page with local Stripe's Stripe.js stand-in (Payment Element):
a declined card shows Stripe's message and keeps the hold, another card pays."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from connect_payments.models import BookingPayment
from scheduling.models import Booking

from .conftest import (
    book_to_summary,
    csp_violations,
    fill_card,
    local_stripe_settings,
    onboarded_alpha,
    screenshot,
    watch_csp,
)

pytestmark = pytest.mark.browser

SECRET_KEY = "sk_test_CreneauWidgetTests00000000001"
PUBLISHABLE_KEY = "pk_test_CreneauWidgetTests00000000001"


@pytest.fixture(scope="module")
def payments_ready(alpha_catalogue: dict, django_db_blocker) -> Iterator[dict]:
    """Local Stripe, the settings pointing at it, and alpha's onboarded connected account."""
    with local_stripe_settings(secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY) as stripe:
        yield from _with_account(alpha_catalogue, django_db_blocker, stripe)


def _with_account(alpha_catalogue: dict, django_db_blocker, stripe: dict) -> Iterator[dict]:
    with onboarded_alpha(alpha_catalogue["tenant"], stripe, django_db_blocker) as account:
        try:
            yield {"sdk": stripe["sdk"], "account": account, "base_url": stripe["base_url"]}
        finally:
            with django_db_blocker.unblock(), tenant_context(alpha_catalogue["tenant"]):
                BookingPayment.objects.all().delete()
            connection.set_schema_to_public()


def test_decline_then_success_on_the_payment_step(
    browser: Any, live_site: dict, alpha_catalogue: dict, payments_ready: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)  # the page's CSP allows the local Stripe.js stand-in it loads
    response = page.goto(live_site["alpha"] + f"/book/{alpha_catalogue['massage'].pk}/")
    assert (
        f"script-src 'self' {payments_ready['base_url'].rstrip('/')};"
        in (response.headers["content-security-policy"])
    )
    page.get_by_role("button", name="Anyone available").click()
    page.locator(".cr-day-open").first.click()
    page.locator(".cr-time").first.click()
    page.fill("#cr-name", "Paying Pat")
    page.fill("#cr-email", "pat@example.test")
    page.check("#cr-consent")
    page.click("button[type=submit]")
    assert "Due now€45.00" in page.inner_text(".cr-summary").replace("\n", "").replace("\t", "")
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='payment']")
    pay = page.locator("#cr-pay")
    pay.wait_for(state="visible")
    page.wait_for_function("() => !document.getElementById('cr-pay').disabled")  # element ready
    assert pay.inner_text() == "Pay €45.00"
    fill_card(page, "4000 0000 0000 9995")
    pay.click()
    message = page.locator("#cr-payment-message")
    page.wait_for_function("() => document.getElementById('cr-payment-message').textContent !== ''")
    assert message.inner_text() == "Your card has insufficient funds."
    with tenant_context(alpha_catalogue["tenant"]):
        booking = Booking.objects.get(customer__email="pat@example.test")
        assert booking.status == "held"  # the hold stays while the customer tries another card
    connection.set_schema_to_public()
    screenshot(page, "payment-declined")
    fill_card(page, "4242 4242 4242 4242")
    pay.click()
    # Paid: the page polls the booking (GET status re-reads the PaymentIntent) until the server
    # confirms it, then shows the confirmation.
    page.wait_for_selector("body[data-step='done']")  # the server saw the payment
    with tenant_context(alpha_catalogue["tenant"]):
        payment = BookingPayment.objects.get(booking__customer__email="pat@example.test")
    connection.set_schema_to_public()
    intent = payments_ready["sdk"].v1.payment_intents.retrieve(payment.payment_intent_id)
    assert intent.status == "succeeded" and intent.amount == 4500
    with tenant_context(alpha_catalogue["tenant"]):
        booking = Booking.objects.get(customer__email="pat@example.test")
    connection.set_schema_to_public()
    assert booking.status == "confirmed"
    assert booking.reference in page.inner_text("body")
    assert csp_violations(page) == []
    screenshot(page, "payment-paid")
    page.close()


def _to_payment_step(page: Any, live_site: dict, alpha_catalogue: dict, email: str) -> None:
    book_to_summary(page, live_site["alpha"], service_id=alpha_catalogue["massage"].pk,
                    name="Paying Pat", email=email)  # fmt: skip
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='payment']")
    page.wait_for_function("() => !document.getElementById('cr-pay').disabled")


def test_3d_secure_challenge_is_passed_on_the_payment_step(
    browser: Any, live_site: dict, alpha_catalogue: dict, payments_ready: dict
) -> None:
    page = browser.new_page(locale="fr-FR", timezone_id="Europe/Paris")
    watch_csp(page)
    _to_payment_step(page, live_site, alpha_catalogue, "secure.sam@example.test")
    assert page.inner_text("#cr-pay") == "Payer 45,00\u00a0€"
    assert "Numéro de carte" in page.inner_text("#cr-payment-element")  # Stripe's locale
    fill_card(page, "4000 0025 0000 3155")
    page.click("#cr-pay")
    page.click("#local-stripe-3ds-complete")
    page.wait_for_selector("body[data-step='done']")  # the server saw the payment
    with tenant_context(alpha_catalogue["tenant"]):
        payment = BookingPayment.objects.get(booking__customer__email="secure.sam@example.test")
    connection.set_schema_to_public()
    intent = payments_ready["sdk"].v1.payment_intents.retrieve(payment.payment_intent_id)
    assert intent.status == "succeeded"
    assert csp_violations(page) == []
    screenshot(page, "payment-3ds-passed")
    page.close()


def test_a_hold_running_out_on_the_payment_step_sends_back_to_the_times(
    browser: Any, live_site: dict, alpha_catalogue: dict, payments_ready: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.clock.install()
    _to_payment_step(page, live_site, alpha_catalogue, "late.lou@example.test")
    with tenant_context(alpha_catalogue["tenant"]):  # the sweeper's work when the hold ran out
        Booking.objects.filter(customer__email="late.lou@example.test").update(status="expired")
    connection.set_schema_to_public()
    page.clock.run_for("11:00")  # past the 10-minute hold
    notice = page.locator("#cr-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "The time reserved for you ran out — please pick a time again."
    assert page.get_attribute("body", "data-step") == "time"
    screenshot(page, "payment-hold-expired")
    page.close()


def test_stripe_unavailable_keeps_the_hold_and_try_again_recovers(
    browser: Any, live_site: dict, alpha_catalogue: dict, payments_ready: dict
) -> None:
    from stripe_local.testing import local

    base_url = payments_ready["base_url"]
    local(base_url, "/_local/fail_next", {"path": "/v1/payment_intents", "status": 500})
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + f"/book/{alpha_catalogue['massage'].pk}/")
    page.click("[data-staff='anyone']")
    page.locator(".cr-day-open").first.click()
    page.locator(".cr-time").first.click()
    page.fill("#cr-name", "Patient Pia")
    page.fill("#cr-email", "pia@example.test")
    page.check("#cr-consent")
    page.click("button[type=submit]")
    page.click("#cr-submit")
    retry = page.locator("#cr-retry")
    retry.wait_for()
    assert page.inner_text("#cr-payment-message") != ""  # why it cannot pay yet
    assert page.locator("#cr-pay").count() == 0  # nothing to pay with until Stripe answers
    screenshot(page, "payment-unavailable")
    retry.click()
    page.wait_for_function("() => document.getElementById('cr-pay')?.disabled === false")
    fill_card(page, "4242 4242 4242 4242")
    page.click("#cr-pay")
    page.wait_for_selector("body[data-step='done']")  # the server saw the payment
    screenshot(page, "payment-after-retry")
    page.close()


def test_reloading_during_payment_resumes_the_same_hold(
    browser: Any, live_site: dict, alpha_catalogue: dict, payments_ready: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    _to_payment_step(page, live_site, alpha_catalogue, "reload.rita@example.test")
    page.reload()
    page.wait_for_selector("body[data-step='payment']")
    page.wait_for_function("() => document.getElementById('cr-pay')?.disabled === false")
    assert "reload.rita@example.test" in page.inner_text(".cr-summary")
    with tenant_context(alpha_catalogue["tenant"]):
        holds = list(Booking.objects.filter(customer__email="reload.rita@example.test"))
    connection.set_schema_to_public()
    assert [b.status for b in holds] == ["held"]  # the same hold, not a second one
    fill_card(page, "4242 4242 4242 4242")
    page.click("#cr-pay")
    page.wait_for_selector("body[data-step='done']")  # the server saw the payment
    screenshot(page, "payment-resumed")
    page.close()
