"""Cards on file in Chromium: the customer reads the exact fees, must tick the consent, saves a
card that asks for 3-D Secure through the Payment Element (local Stripe's Stripe.js stand-in), and
the booking is confirmed with nothing charged; after a no-show the bank asks for the customer,
who opens the emailed link, passes 3-D Secure and pays the fee."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django_tenants.utils import tenant_context

from connect_payments.models import (
    CardCustomer,
    CardSetup,
    FeeCharge,
    FeeEvent,
    FeeStatus,
    SavedCard,
)
from outbox.models import OutboxMessage
from scheduling.actors import Actor
from scheduling.models import Booking, CardOnFile, Service
from scheduling.services.bookings import booking_mark_no_show

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

SECRET_KEY = "sk_test_CreneauCardTests000000000001"
PUBLISHABLE_KEY = "pk_test_CreneauCardTests000000000001"
CONSENT = (
    "You authorise Alpha Studio to charge up to €15.00 to this card if you do not attend or "
    "cancel less than 24 hours before the start. Nothing is charged now."
)


def _remove_card_rows() -> None:
    FeeEvent.objects.all().delete()
    FeeCharge.objects.all().delete()
    CardSetup.objects.all().delete()
    SavedCard.objects.all().delete()
    CardCustomer.objects.all().delete()


@pytest.fixture(scope="module")
def cards_ready(alpha_catalogue: dict, django_db_blocker) -> Iterator[dict]:
    """Local Stripe, alpha's onboarded account, the haircut (30.00, paid at the venue) asking
    for a card: 15.00 for a no-show, 50 % (15.00) for a late cancellation."""
    tenant = alpha_catalogue["tenant"]
    with local_stripe_settings(secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY) as stripe:
        with onboarded_alpha(tenant, stripe, django_db_blocker):
            with django_db_blocker.unblock(), tenant_context(tenant):
                Service.objects.filter(pk=alpha_catalogue["haircut"].pk).update(
                    card_on_file=CardOnFile.REQUIRED, no_show_fee_fixed_minor=1500,
                    late_cancel_fee_percent=50,
                )  # fmt: skip
            connection.set_schema_to_public()
            try:
                yield stripe
            finally:
                with django_db_blocker.unblock(), tenant_context(tenant):
                    _remove_card_rows()
                    OutboxMessage.objects.filter(task_name__contains="fee").delete()
                connection.set_schema_to_public()


def _wait_enabled(page: Any, element_id: str) -> None:
    page.wait_for_function(f"() => !document.getElementById('{element_id}').disabled")


def test_card_saved_with_consent_then_no_show_fee_paid_after_3ds(
    browser: Any, live_site: dict, alpha_catalogue: dict, cards_ready: dict, django_db_blocker
) -> None:
    tenant = alpha_catalogue["tenant"]
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)
    book_to_summary(page, live_site["alpha"], service_id=alpha_catalogue["haircut"].pk,
                    name="Carded Cleo", email="cleo@example.test")  # fmt: skip
    assert page.inner_text("#cr-card-consent-text") == CONSENT
    page.click("#cr-submit")  # without ticking the box: refused, still on the summary
    assert page.locator("#cr-card-consent-error").is_visible()
    assert page.get_attribute("body", "data-step") == "summary"
    page.check("#cr-card-consent")
    assert not page.locator("#cr-card-consent-error").is_visible()
    screenshot(page, "card-on-file-consent")
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='payment']")
    _wait_enabled(page, "cr-card-save")
    assert page.inner_text("#cr-card-terms") == CONSENT
    assert page.inner_text("#cr-step-title") == "Card on file"
    fill_card(page, "4000 0027 6000 3184")  # 3-D Secure on setup and on every payment
    screenshot(page, "card-on-file-card-step")
    page.click("#cr-card-save")
    page.click("#local-stripe-3ds-complete")  # the bank's challenge, passed
    page.wait_for_selector("body[data-step='done']")
    screenshot(page, "card-on-file-saved")

    with django_db_blocker.unblock(), tenant_context(tenant):
        booking = Booking.objects.get(customer__email="cleo@example.test")
        setup = CardSetup.objects.get(booking=booking)
        assert booking.status == "confirmed"
        assert setup.consent_text == CONSENT and setup.card.last4 == "3184"
        owner = setup.owner.stripe_customer_id
        assert cards_ready["sdk"].v1.payment_intents.list(params={"customer": owner}).data == []
        # The day came and went: the team records a no-show; the off-session charge is refused
        # for want of authentication and the customer is emailed a link.
        start = timezone.now() - timedelta(hours=2)
        Booking.objects.filter(pk=booking.pk).update(
            starts_at=start, ends_at=start + timedelta(minutes=30),
            occupied=DateTimeTZRange(start, start + timedelta(minutes=30), "[)"),
        )  # fmt: skip
        booking.refresh_from_db()
        booking_mark_no_show(booking=booking, actor=Actor("Front desk", user_id=None))
        fee = FeeCharge.objects.get(booking=booking)
        assert fee.status == FeeStatus.AWAITING_CUSTOMER
    connection.set_schema_to_public()
    link = re.search(r"http://\S+/manage/fee/\d+/\?token=\S+", mail.outbox[-1].body).group(0)

    page.goto(live_site["alpha"] + link[link.index("/manage/") :])
    assert "€15.00" in page.inner_text("#cr-fee-amount")
    _wait_enabled(page, "cr-fee-pay")
    page.click("#cr-fee-pay")
    page.click("#local-stripe-3ds-complete")
    page.wait_for_function(
        "() => document.getElementById('cr-fee-status').textContent === 'Paid. Thank you.'"
    )
    screenshot(page, "card-on-file-fee-paid")
    with django_db_blocker.unblock(), tenant_context(tenant):
        fee.refresh_from_db()
        assert fee.status == FeeStatus.PAID
        intent = cards_ready["sdk"].v1.payment_intents.retrieve(fee.payment_intent_id)
        assert (intent.status, intent.amount) == ("succeeded", 1500)
    connection.set_schema_to_public()
    assert csp_violations(page) == []
    page.close()


def test_customer_removes_a_saved_card_on_the_account_page(
    browser: Any, live_site: dict, alpha_catalogue: dict, cards_ready: dict, django_db_blocker
) -> None:
    from scheduling.services.customer_sign_in import customer_sign_in_request, sign_in_token_of

    tenant = alpha_catalogue["tenant"]
    site = live_site["alpha"]
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)
    book_to_summary(page, site, service_id=alpha_catalogue["haircut"].pk,
                    name="Removing Rita", email="rita@example.test")  # fmt: skip
    page.check("#cr-card-consent")
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='payment']")
    _wait_enabled(page, "cr-card-save")
    fill_card(page, "4242 4242 4242 4242")
    page.click("#cr-card-save")
    page.wait_for_selector("body[data-step='done']")
    with django_db_blocker.unblock(), tenant_context(tenant):
        card = SavedCard.objects.get(owner__customer__email="rita@example.test")
        token = sign_in_token_of(customer_sign_in_request(email="rita@example.test"))
    connection.set_schema_to_public()

    page.goto(f"{site}/my/sign-in/{token}/")
    page.click("#cr-sign-in")
    page.wait_for_url(f"{site}/my/")
    assert "Visa •••• 4242" in page.inner_text("#cr-saved-cards")
    page.click(f"#cr-remove-card-{card.pk}")
    page.wait_for_selector("#cr-saved-cards", state="detached")
    screenshot(page, "card-on-file-removed")

    with django_db_blocker.unblock(), tenant_context(tenant):
        card.refresh_from_db()
        assert card.removed_at is not None
    connection.set_schema_to_public()
    method = cards_ready["sdk"].v1.payment_methods.retrieve(card.payment_method_id)
    assert method.customer is None  # detached at Stripe: it can never be charged again
    assert csp_violations(page) == []
    page.close()
