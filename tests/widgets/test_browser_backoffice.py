"""Back-office pages in Debian's Chromium (issue #19): sign-in, the week calendar, the payments
pages, a suspended business's manage links and the operator's suspension.

People are committed for the live server and removed at the end of the module; a signed-in
browser carries a session cookie made the way the login view makes one (second factor verified).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from importlib import import_module
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from scheduling.actors import Actor
from scheduling.models import Booking
from scheduling.services.bookings import booking_cancel_with_refund, booking_confirm, booking_hold
from scheduling.services.customers import customer_upsert
from tenants.middleware import SESSION_SCHEMA_KEY
from tenants.models import Membership, Tenant, TenantStatus, User
from tenants.roles import Role
from tests.factories import PASSWORD

from .conftest import screenshot

pytestmark = pytest.mark.browser

DESK = Actor("Browser test desk", user_id=None)
MANAGER_EMAIL = "browser-manager@alpha.test"
OPERATOR_EMAIL = "browser-operator@creneau.test"


def _person(email: str, name: str, **extra: Any) -> tuple[User, TOTPDevice]:
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=PASSWORD, full_name=name, **extra
    )
    device = TOTPDevice.objects.filter(user=user, name="default").first()
    device = device or TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user, device


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """A manager of alpha and a platform operator, each with a TOTP device (committed)."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        alpha = Tenant.objects.get(slug="alpha")
        manager, manager_device = _person(MANAGER_EMAIL, "Manon Manager")
        Membership.objects.get_or_create(
            user=manager, tenant=alpha, defaults={"role": Role.MANAGER}
        )
        operator, operator_device = _person(OPERATOR_EMAIL, "Olga Operator", is_operator=True)
        yield {"alpha": alpha, "manager": manager, "manager_device": manager_device,
               "operator": operator, "operator_device": operator_device}  # fmt: skip
        connection.set_schema_to_public()
        Tenant.objects.filter(slug="alpha").update(
            status=TenantStatus.ACTIVE, suspended_reason="", suspended_at=None
        )
        TOTPDevice.objects.filter(user=manager).delete()
        Membership.objects.filter(user=manager).delete()
        with tenant_context(alpha):  # the user's staff-profile link lives in alpha's schema
            manager.delete()
        connection.set_schema_to_public()
        # The operator's audit entries protect the row; it stays, without its device.
        TOTPDevice.objects.filter(user=operator).delete()


def _session_cookie(user: User, device: TOTPDevice, *, schema: str, url: str) -> dict[str, Any]:
    """The cookie of a session as the login view leaves it: signed in, bound to `schema`, with
    the second factor verified."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_SCHEMA_KEY] = schema
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return {"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": url}


@contextmanager
def signed_in_page(
    browser: Any, live_site: dict, people: dict, *, who: str = "manager", locale: str = "en-GB"
) -> Iterator[Any]:
    context = browser.new_context(locale=locale, timezone_id="America/New_York")
    if who == "operator":
        cookie = _session_cookie(people["operator"], people["operator_device"], schema="public",
                                 url=live_site["platform"])  # fmt: skip
    else:
        alpha = people["alpha"]
        cookie = _session_cookie(people["manager"], people["manager_device"],
                                 schema=alpha.schema_name, url=live_site["alpha"])  # fmt: skip
    context.add_cookies([cookie])
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _totp_now(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


# ---------------------------------------------------------------------------
# Item 6: the sign-in page
# ---------------------------------------------------------------------------
def test_sign_in_page_has_one_sign_in_button_and_the_code_step_its_own(
    browser: Any, live_site: dict, people: dict
) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(live_site["alpha"] + "/account/login/")
    buttons = page.locator("form button, form input[type=submit]:not([hidden])")
    assert buttons.all_inner_texts() == ["Sign in"]
    for wizard_word in ("Next", "Back", "Cancel"):
        assert page.get_by_role("button", name=wizard_word).count() == 0
    screenshot(page, "backoffice-sign-in")
    page.fill("input[name='auth-username']", MANAGER_EMAIL)
    page.fill("input[name='auth-password']", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Enter your authentication code").wait_for()
    assert page.get_by_role("button", name="Back").is_enabled()
    page.fill("input[name='token-otp_token']", _totp_now(people["manager_device"]))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_site["alpha"] + "/")
    context.close()


# ---------------------------------------------------------------------------
# Item 9: the operator suspends a business
# ---------------------------------------------------------------------------
def test_operator_confirms_a_suspension_and_reads_what_happened(
    browser: Any, live_site: dict, people: dict
) -> None:
    with signed_in_page(browser, live_site, people, who="operator") as page:
        page.goto(live_site["platform"] + "/console/tenants/alpha/")
        page.get_by_role("link", name="Suspend Alpha Studio…").click()
        page.get_by_role("heading", name="Suspend Alpha Studio?").wait_for()
        effects = page.locator(".suspension-effects").inner_text()
        assert "New bookings stop" in effects and "cancel it under the business's" in effects
        page.get_by_role("button", name="Suspend Alpha Studio").click()  # no reason yet
        assert "This field is required." in page.locator("[role=alert]").inner_text()
        assert Tenant.objects.get(slug="alpha").status == TenantStatus.ACTIVE
        page.fill("textarea[name='reason']", "Chargeback investigation")
        page.get_by_role("button", name="Suspend Alpha Studio").click()
        message = page.locator(".messages").inner_text()
        assert "Alpha Studio is suspended: Chargeback investigation." in message
        screenshot(page, "backoffice-console-suspended")
        page.fill("textarea[name='reason']", "Resolved")
        page.get_by_role("button", name="Reactivate").click()
        assert "Alpha Studio is active again" in page.locator(".messages").inner_text()
    assert Tenant.objects.get(slug="alpha").status == TenantStatus.ACTIVE


# ---------------------------------------------------------------------------
# Items 4 and 7: the payments pages
# ---------------------------------------------------------------------------
PARIS = ZoneInfo("Europe/Paris")


def _paid_booking(catalogue: dict, *, starts_at: datetime, email: str) -> tuple[Booking, Any]:
    """A massage paid online in full (the payment row as the Stripe webhook leaves it)."""
    from connect_payments.models import BookingPayment, PaymentStatus

    customer = customer_upsert(name="Chloé Client", email=email)
    booking = booking_hold(
        service=catalogue["massage"], starts_at=starts_at, customer=customer,
        staff_id=catalogue["ada"].pk,
    )  # fmt: skip
    payment = BookingPayment.objects.create(
        booking=booking, kind="full", status=PaymentStatus.PAID, currency="EUR",
        price_minor=4500, amount_minor=4500, fee_minor=138, balance_due_minor=0,
        paid_minor=4500, destination_account_id="acct_browser",
        idempotency_key=f"browser-{booking.reference}", payment_intent_id=f"pi_{booking.reference}",
        charge_id=f"ch_{booking.reference}", intent_status="succeeded", paid_at=timezone.now(),
    )  # fmt: skip
    booking = booking_confirm(booking=booking, actor=DESK)
    return booking, payment


@pytest.fixture(scope="module")
def cancelled_payment(alpha_catalogue: dict, django_db_blocker: Any) -> dict[str, Any]:
    """A paid massage in four days at 09:30 Paris, cancelled an hour before: no refund."""
    day = timezone.now().astimezone(PARIS).date() + timedelta(days=4)
    starts_at = datetime.combine(day, time(9, 30), PARIS)
    with django_db_blocker.unblock(), tenant_context(alpha_catalogue["tenant"]):
        booking, payment = _paid_booking(alpha_catalogue, starts_at=starts_at,
                                         email="chloe.payments@example.test")  # fmt: skip
        booking_cancel_with_refund(booking=booking, actor=DESK, by_business=False,
                                   now=starts_at - timedelta(hours=1))  # fmt: skip
    connection.set_schema_to_public()
    # As the business reads it, e.g. "Fri 11 Dec 2026, 09:30".
    shown = f"{starts_at:%a} {day.day} {starts_at:%b %Y}, 09:30"
    return {"booking": booking, "payment": payment, "shown": shown}


def test_payments_pages_show_booking_times_in_the_business_zone_day_first(
    browser: Any, live_site: dict, people: dict, cancelled_payment: dict
) -> None:
    booking, shown = cancelled_payment["booking"], cancelled_payment["shown"]
    with signed_in_page(browser, live_site, people) as page:  # the browser is in New York
        page.goto(live_site["alpha"] + "/payments/")
        row = page.locator("tr", has_text=booking.reference)
        assert shown in row.inner_text()
        assert "a.m." not in row.inner_text() and "08:30" not in row.inner_text()
        screenshot(page, "backoffice-payments")
        row.get_by_role("link", name=booking.reference).click()
        assert shown in page.locator("#booking-start").inner_text()
        history = page.locator(".history").inner_text()
        assert "a.m." not in history and "p.m." not in history


def test_payments_pages_say_a_paid_booking_was_cancelled_with_no_refund(
    browser: Any, live_site: dict, people: dict, cancelled_payment: dict
) -> None:
    booking = cancelled_payment["booking"]
    with signed_in_page(browser, live_site, people) as page:
        page.goto(live_site["alpha"] + "/payments/")
        row = page.locator("tr", has_text=booking.reference)
        assert row.locator(".payment-status").inner_text() == (
            "Paid · cancelled, no refund under policy"
        )
        row.get_by_role("link", name=booking.reference).click()
        assert (
            page.locator("#payment-status")
            .inner_text()
            .startswith("Paid · cancelled, no refund under policy")
        )


# ---------------------------------------------------------------------------
# Item 5: a suspended business's customers keep their manage links
# ---------------------------------------------------------------------------
@contextmanager
def suspended(tenant: Tenant, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        Tenant.objects.filter(pk=tenant.pk).update(
            status=TenantStatus.SUSPENDED, suspended_reason="Unpaid invoices",
            suspended_at=timezone.now(),
        )  # fmt: skip
        try:
            yield
        finally:
            Tenant.objects.filter(pk=tenant.pk).update(
                status=TenantStatus.ACTIVE, suspended_reason="", suspended_at=None
            )


def test_customer_of_a_suspended_business_sees_and_cancels_the_booking_and_its_contacts(
    browser: Any, live_site: dict, alpha_catalogue: dict, django_db_blocker: Any
) -> None:
    from widgets.models import Branding

    tenant = alpha_catalogue["tenant"]
    day = timezone.now().astimezone(PARIS).date() + timedelta(days=3)
    with django_db_blocker.unblock(), tenant_context(tenant):
        Branding.objects.update_or_create(
            defaults={"contact_phone": "+33 1 23 45 67 89", "contact_email": "hello@alpha.test"}
        )
        customer = customer_upsert(name="Sam Suspended", email="sam.suspended@example.test")
        booking = booking_hold(
            service=alpha_catalogue["haircut"], starts_at=datetime.combine(day, time(11), PARIS),
            customer=customer, staff_id=alpha_catalogue["ben"].pk,
        )  # fmt: skip
        booking = booking_confirm(booking=booking, actor=DESK)
    connection.set_schema_to_public()
    manage = f"{live_site['alpha']}/manage/{booking.reference}/?token={booking.manage_token}"
    with suspended(tenant, django_db_blocker):
        page = browser.new_page(locale="en-GB", timezone_id="Europe/Paris")
        page.goto(live_site["alpha"] + "/book/")
        assert "not taking online bookings" in page.locator("body").inner_text()
        response = page.goto(manage)
        assert response is not None and response.status == 200
        page.wait_for_selector(".cr-status")
        assert page.inner_text(".cr-status dd") == "Confirmed"
        footer = page.locator(".cr-footer").inner_text()
        assert "+33 1 23 45 67 89" in footer and "hello@alpha.test" in footer
        assert "Unpaid invoices" not in page.locator("body").inner_text()
        page.click("#cr-cancel")
        page.click("#cr-confirm-cancel")
        page.wait_for_function(
            "() => (document.getElementById('cr-outcome') || {}).textContent?.includes('cancelled')"
        )
        assert page.inner_text(".cr-status dd") == "Cancelled"
        screenshot(page, "backoffice-suspended-manage")
        page.close()
    with django_db_blocker.unblock(), tenant_context(tenant):
        assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    connection.set_schema_to_public()


# ---------------------------------------------------------------------------
# Item 3: the week calendar opens where the bookings are
# ---------------------------------------------------------------------------
@pytest.fixture
def sunday_before_a_busy_monday(
    alpha_catalogue: dict, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The pages' clock on a coming Sunday at 10:00 in Paris; three bookings on the Monday after.

    The live server answers from threads of this process, so pinning `scheduling.views.base.now`
    moves its clock too."""
    from scheduling.views import base as views_base

    today = timezone.now().astimezone(PARIS).date()
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    monday = sunday + timedelta(days=1)
    with django_db_blocker.unblock(), tenant_context(alpha_catalogue["tenant"]):
        customer = customer_upsert(name="Wendy Week", email="wendy.week@example.test")
        references = [
            booking_confirm(
                booking=booking_hold(
                    service=alpha_catalogue["haircut"], customer=customer,
                    starts_at=datetime.combine(monday, time(hour), PARIS),
                    staff_id=alpha_catalogue["ada"].pk,
                ),
                actor=DESK,
            ).reference
            for hour in (9, 10, 11)
        ]  # fmt: skip
    connection.set_schema_to_public()
    monkeypatch.setattr(views_base, "now", lambda: datetime.combine(sunday, time(10), PARIS))
    yield {"sunday": sunday, "monday": monday, "references": references}
    with django_db_blocker.unblock(), tenant_context(alpha_catalogue["tenant"]):
        Booking.objects.filter(reference__in=references).update(status="cancelled")
    connection.set_schema_to_public()


@pytest.mark.parametrize(
    ("locale", "first_day", "moved_on"),
    [("en-GB", "monday", True), ("fr-FR", "monday", True), ("en-US", "sunday", False)],
)
def test_week_calendar_opened_on_a_sunday_shows_tomorrows_bookings(
    browser: Any, live_site: dict, people: dict, sunday_before_a_busy_monday: dict,
    locale: str, first_day: str, moved_on: bool,
) -> None:  # fmt: skip
    week = sunday_before_a_busy_monday
    with signed_in_page(browser, live_site, people, locale=locale) as page:
        page.goto(live_site["alpha"] + "/calendar/")
        page.locator(".cal-switch a").nth(1).click()  # Week (Semaine in French)
        page.wait_for_selector(".cal-week")
        shown = page.locator(".cal-week [data-reference]").evaluate_all(
            "items => items.map(item => item.dataset.reference)"
        )
        assert set(week["references"]) <= set(shown)
        first_link = page.locator(".cal-weekday h2 a").first.get_attribute("href")
        assert first_link is not None
        assert first_link.endswith(f"date={week[first_day].isoformat()}")
        assert (page.locator("#cal-next-week").count() == 1) is moved_on
        screenshot(page, f"backoffice-week-{locale}")
