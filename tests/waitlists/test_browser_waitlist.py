"""In Chromium: a customer finds a class full on the booking page, joins its waitlist, a seat
frees up, and the offer link from the email books the seat and pays it through the Payment
Element (local Stripe's Stripe.js stand-in)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from connect_payments.models import BookingPayment
from scheduling.actors import CUSTOMER
from scheduling.models import Booking, Occurrence, Service
from scheduling.services.bookings import booking_cancel
from tests.widgets.conftest import (  # noqa: F401  (fixtures)
    alpha_catalogue,
    browser,
    csp_violations,
    fill_card,
    live_site,
    local_stripe_settings,
    onboarded_alpha,
    screenshot,
    watch_csp,
)
from waitlists.models import FreedPlace, WaitlistEntry, WaitlistOffer, WaitlistSettings

from .conftest import fill, offer_links

pytestmark = pytest.mark.browser

SECRET_KEY = "sk_test_CreneauWaitlistTests0000000001"
PUBLISHABLE_KEY = "pk_test_CreneauWaitlistTests0000000001"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def stripe_settings() -> None:
    """Not the payments tests' per-test local Stripe: this module runs its own (`full_class`),
    which the live server's threads must keep seeing."""


@pytest.fixture(scope="module")
def full_class(alpha_catalogue: dict, django_db_blocker) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A committed class of two seats (20.00, paid online) with a full session in two days, local
    Stripe and alpha's onboarded account; removed after the module."""
    tenant = alpha_catalogue["tenant"]
    with local_stripe_settings(secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY) as stripe:
        with onboarded_alpha(tenant, stripe, django_db_blocker):
            with django_db_blocker.unblock(), tenant_context(tenant):
                yoga = Service.objects.create(
                    name="Yoga", category="Classes", duration_minutes=60, price_minor=2000,
                    payment_mode="online_full", capacity=2, minimum_notice_minutes=60,
                    maximum_advance_days=60,
                )  # fmt: skip
                yoga.staff.add(alpha_catalogue["ada"])
                day = (timezone.now().astimezone(PARIS) + timedelta(days=2)).date()
                starts_at = datetime.combine(day, time(18), tzinfo=PARIS)
                session = Occurrence.objects.create(
                    service=yoga, staff=alpha_catalogue["ada"], starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=1), capacity=2,
                )  # fmt: skip
                seats = fill(session, prefix="browser-member")
            connection.set_schema_to_public()
            try:
                yield {"tenant": tenant, "yoga": yoga, "session": session, "seats": seats,
                       "sdk": stripe["sdk"]}  # fmt: skip
            finally:
                with django_db_blocker.unblock(), tenant_context(tenant):
                    WaitlistOffer.objects.all().delete()
                    FreedPlace.objects.all().delete()
                    WaitlistEntry.objects.all().delete()
                    WaitlistSettings.objects.all().delete()
                    BookingPayment.objects.all().delete()
                connection.set_schema_to_public()


def test_a_customer_joins_a_full_class_and_the_offer_link_books_and_pays(
    browser: Any,  # noqa: F811  (fixtures imported above)
    live_site: dict,  # noqa: F811
    full_class: dict,
    django_db_blocker,
) -> None:
    tenant, session = full_class["tenant"], full_class["session"]
    page = browser.new_page(locale="en-GB", timezone_id="Europe/Paris")
    watch_csp(page)
    page.goto(live_site["alpha"] + f"/book/{full_class['yoga'].pk}/")
    page.wait_for_selector("body[data-step='time']")
    page.click("#cr-waitlist-link")  # the full session is not among the times: its waitlist is
    page.wait_for_selector("#cr-waitlist-form")
    page.check(f"input[name='occurrence'][value='{session.pk}']")
    page.fill("input[name='name']", "Wanda Waiting")
    page.fill("input[name='email']", "wanda@example.test")
    page.click("#cr-waitlist-join")
    page.wait_for_selector("#cr-waitlist-joined")
    screenshot(page, "waitlist-joined")

    mail.outbox.clear()
    with django_db_blocker.unblock(), tenant_context(tenant):
        # A member cancels: the commit hands the outbox row to Celery (eager here), which
        # writes the place and sends the offer email.
        booking_cancel(booking=full_class["seats"][0], actor=CUSTOMER, by_business=False)
        assert WaitlistOffer.objects.get().entry.email == "wanda@example.test"
    connection.set_schema_to_public()
    [link] = offer_links()  # the email's link, on the test server's port
    page.goto(live_site["alpha"] + link)
    page.wait_for_selector("#cr-offer-accept")
    screenshot(page, "waitlist-offer")
    page.click("#cr-offer-accept")
    pay = page.locator("#cr-pay")
    page.wait_for_function("() => !document.getElementById('cr-pay').disabled")  # element ready
    assert pay.inner_text() == "Pay €20.00"
    screenshot(page, "waitlist-pay")
    fill_card(page, "4242 4242 4242 4242")
    pay.click()
    page.wait_for_url("**/manage/**")  # confirmed by the server, then the booking's page
    with django_db_blocker.unblock(), tenant_context(tenant):
        booking = Booking.objects.get(customer__email="wanda@example.test")
        payment = BookingPayment.objects.get(booking=booking)
    connection.set_schema_to_public()
    assert booking.status == "confirmed" and booking.occurrence_id == session.pk
    intent = full_class["sdk"].v1.payment_intents.retrieve(payment.payment_intent_id)
    assert intent.status == "succeeded" and intent.amount == 2000
    page.wait_for_selector(f"text={booking.reference}")
    assert csp_violations(page) == []
    screenshot(page, "waitlist-booked")
    page.close()
