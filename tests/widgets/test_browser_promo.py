"""Promo codes on the booking page (summary → payment → confirmation) and services paid online
of a business that cannot take payments, with local Stripe and its Stripe.js stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from connect_payments.models import BookingPayment, ConnectedAccount, PaymentRefund, PromoCode
from scheduling.models import Booking

from .conftest import (
    book_to_summary,
    fill_card,
    local_stripe_settings,
    onboarded_alpha,
    screenshot,
)

pytestmark = pytest.mark.browser

SECRET_KEY = "sk_test_CreneauWidgetPromo000000001"
PUBLISHABLE_KEY = "pk_test_CreneauWidgetPromo000000001"


@pytest.fixture(scope="module")
def local_stripe() -> Iterator[dict]:
    """Local Stripe and the settings pointing at it (no connected account yet)."""
    with local_stripe_settings(secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY) as stripe:
        yield stripe


@pytest.fixture
def onboarded(alpha_catalogue: dict, local_stripe: dict, django_db_blocker) -> Iterator[Any]:
    """Alpha's connected account with charges enabled, for one test."""
    with onboarded_alpha(alpha_catalogue["tenant"], local_stripe, django_db_blocker) as account:
        yield account


@pytest.fixture
def spring_promo(alpha_catalogue: dict, django_db_blocker) -> Iterator[PromoCode]:
    """20 % off the massage (paid online in full, €45.00), in alpha's schema; removed after."""
    with django_db_blocker.unblock():
        with tenant_context(alpha_catalogue["tenant"]):
            promo = PromoCode.objects.create(code="SPRING20", kind="percent", percent=20)
            promo.services.add(alpha_catalogue["massage"])
        connection.set_schema_to_public()
        try:
            yield promo
        finally:
            with tenant_context(alpha_catalogue["tenant"]):
                payments = BookingPayment.objects.filter(promo_code=promo)
                PaymentRefund.objects.filter(payment__in=payments).delete()
                payments.delete()
                promo.services.clear()
                promo.delete()
            connection.set_schema_to_public()


def _flat(text: str) -> str:
    return text.replace("\n", "").replace("\t", "")


def _bookings_of(tenant: Any, email: str) -> list[Booking]:
    with tenant_context(tenant):
        bookings = list(Booking.objects.filter(customer__email=email))
    connection.set_schema_to_public()
    return bookings


def test_a_wrong_promo_code_is_refused_then_the_right_one_discounts_the_payment(
    browser: Any, live_site: dict, alpha_catalogue: dict, local_stripe: dict, onboarded: Any,
    spring_promo: PromoCode,
) -> None:  # fmt: skip
    tenant, email = alpha_catalogue["tenant"], "promo.paula@example.test"
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    book_to_summary(page, live_site["alpha"], service_id=alpha_catalogue["massage"].pk,
                    name="Promo Paula", email=email)  # fmt: skip
    promo = page.get_by_label("Promo code (optional)")
    assert promo.get_attribute("aria-describedby") == "cr-promo-hint cr-promo-error"
    assert page.inner_text("#cr-promo-hint") == (
        "Have a code? Enter it here: the discount is shown before you pay."
    )

    promo.fill("WINTER99")
    page.click("#cr-submit")
    error = page.locator("#cr-promo-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "This promo code does not exist."  # the server's reason
    assert promo.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "cr-promo"
    assert page.get_attribute("body", "data-step") == "summary"
    assert page.locator("#cr-submit").is_enabled()
    assert _bookings_of(tenant, email) == []  # refused before any hold
    screenshot(page, "promo-invalid")

    promo.fill("spring20")  # codes are case-insensitive
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='payment']")
    page.wait_for_function("() => document.getElementById('cr-pay')?.disabled === false")
    summary = _flat(page.inner_text(".cr-summary"))
    assert "Total€45.00" in summary
    assert _flat(page.inner_text(".cr-discount")) == "Promo code SPRING20-€9.00"
    assert "Total after discount€36.00" in summary
    assert "Due now€36.00" in summary
    assert page.inner_text("#cr-pay") == "Pay €36.00"
    screenshot(page, "promo-payment")

    fill_card(page, "4242 4242 4242 4242")
    page.click("#cr-pay")
    page.wait_for_selector("body[data-step='done']")
    [booking] = _bookings_of(tenant, email)
    assert booking.status == "confirmed"
    assert page.inner_text(".cr-reference dd") == booking.reference
    done = _flat(page.inner_text(".cr-summary"))
    assert "Promo code SPRING20-€9.00" in done and "Paid online€36.00" in done
    with tenant_context(tenant):
        payment = BookingPayment.objects.get(booking=booking)
    connection.set_schema_to_public()
    assert (payment.price_minor, payment.discount_minor, payment.amount_minor) == (4500, 900, 3600)
    assert payment.promo_code_id == spring_promo.pk
    intent = local_stripe["sdk"].v1.payment_intents.retrieve(payment.payment_intent_id)
    assert intent.status == "succeeded" and intent.amount == 3600
    screenshot(page, "promo-done")
    page.close()


def test_promo_code_field_and_reasons_are_translated_and_absent_when_not_paid_online(
    browser: Any, live_site: dict, alpha_catalogue: dict, onboarded: Any
) -> None:
    page = browser.new_page(locale="fr-FR", timezone_id="Europe/Paris")
    book_to_summary(page, live_site["alpha"], service_id=alpha_catalogue["massage"].pk,
                    name="Promo Paula", email="fr.promo@example.test")  # fmt: skip
    assert page.inner_text("label[for='cr-promo']") == "Code promo (facultatif)"
    assert page.inner_text("#cr-promo-hint") == (
        "Vous avez un code ? Saisissez-le ici : la réduction s’affiche avant le paiement."
    )
    page.fill("#cr-promo", "HIVER")
    with page.expect_request("**/api/v1/bookings/") as sent:
        page.click("#cr-submit")
    assert sent.value.headers["accept-language"] == "fr"
    page.locator("#cr-promo-error").wait_for(state="visible")
    # The page has no copy of the reasons: the API answers in the language the page asked for.
    assert page.inner_text("#cr-promo-error") == "Ce code promo n’existe pas."
    assert page.get_attribute("body", "data-step") == "summary"
    book_to_summary(page, live_site["alpha"], service_id=alpha_catalogue["haircut"].pk,
                    name="Promo Paula", email="venue.promo@example.test")  # fmt: skip
    assert page.locator("#cr-submit").is_visible()
    assert page.locator("#cr-promo").count() == 0  # pay at the venue: nothing to discount online
    page.close()


def test_a_service_paid_online_says_payment_is_unavailable_without_a_payment_setup(
    browser: Any, live_site: dict, alpha_catalogue: dict, local_stripe: dict
) -> None:
    tenant = alpha_catalogue["tenant"]
    assert not ConnectedAccount.objects.filter(tenant=tenant).exists()
    message = (
        "Online payment is not available at the moment: please contact the business to book "
        "this service."
    )
    massage = alpha_catalogue["massage"].pk
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + "/book/")
    services = page.evaluate(
        "JSON.parse(document.getElementById('cr-config').textContent).services"
    )
    availability = {service["name"]: service["online_payment_available"] for service in services}
    assert availability["Massage"] is False and availability["Haircut"] is True
    option = page.locator(f"[data-service='{massage}']")
    assert option.get_attribute("aria-disabled") == "true"
    assert message in option.inner_text()
    option.focus()  # aria-disabled, yet focusable: the customer can reach it and learn why
    page.keyboard.press("Enter")
    notice = page.locator("#cr-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == message
    assert page.get_attribute("body", "data-step") == "service"  # no flow that cannot finish
    screenshot(page, "online-payment-unavailable")

    page.goto(live_site["alpha"] + f"/book/{massage}/")  # a direct link to that service
    notice.wait_for(state="visible")
    assert notice.inner_text() == message
    assert page.get_attribute("body", "data-step") == "service"
    page.click(f"[data-service='{alpha_catalogue['haircut'].pk}']")  # other services still book
    page.wait_for_selector("body[data-step='staff']")
    with tenant_context(tenant):
        assert not Booking.objects.filter(service_id=massage, status="held").exists()
    connection.set_schema_to_public()
    page.close()
