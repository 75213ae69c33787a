"""Widget fixtures: a committed catalogue in tenant alpha, a real HTTP server for the browser,
Debian's Chromium, and a third-party page server on another origin."""

from __future__ import annotations

import os
import threading
import time as time_module
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application
from django.db import connection, connections
from django.test import override_settings
from django_tenants.utils import tenant_context

from connect_payments.models import ConnectedAccount
from scheduling.models import (
    Booking,
    BookingEvent,
    Customer,
    GroupSchedule,
    Occurrence,
    SchedulingSettings,
    Service,
    StaffMember,
    WorkingHours,
)
from stripe_local.server import serve_in_thread
from stripe_local.testing import TEST_RETRY_DELAYS, make_client, onboarded_account
from tenants.models import Tenant
from tests.static_pages import static_pages
from widgets.models import Branding

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def build_widget_catalogue() -> dict[str, Any]:
    """Two staff working every day 08:00–20:00; a pay-at-venue, a free and an online service."""
    ada = StaffMember.objects.create(display_name="Ada")
    ben = StaffMember.objects.create(display_name="Ben")
    for member in (ada, ben):
        for weekday in range(7):
            WorkingHours.objects.create(staff=member, weekday=weekday, start=time(8), end=time(20))
    policy = [{"hours_before": 24, "refund_percent": 100}, {"hours_before": 0, "refund_percent": 0}]
    common = dict(
        slot_interval_minutes=30,
        minimum_notice_minutes=60,
        maximum_advance_days=60,
        cancellation_policy=policy,
    )
    haircut = Service.objects.create(
        name="Haircut",
        category="Hair",
        duration_minutes=30,
        price_minor=3000,
        payment_mode="pay_at_venue",
        **common,
    )
    consult = Service.objects.create(
        name="Consultation",
        category="Advice",
        duration_minutes=20,
        price_minor=0,
        payment_mode="free",
        **common,
    )
    massage = Service.objects.create(
        name="Massage",
        category="Body",
        duration_minutes=60,
        price_minor=4500,
        payment_mode="online_full",
        **common,
    )
    for service in (haircut, consult, massage):
        service.staff.add(ada, ben)
    return {"ada": ada, "ben": ben, "haircut": haircut, "consult": consult, "massage": massage}


def remove_widget_data() -> None:
    from connect_payments.models import BookingPayment, PaymentRefund

    PaymentRefund.objects.all().delete()
    BookingPayment.objects.all().delete()
    BookingEvent.objects.all().delete()
    Booking.objects.all().delete()
    Customer.objects.all().delete()
    Occurrence.objects.all().delete()  # PROTECT-referenced by bookings; PROTECTs its service
    GroupSchedule.objects.all().delete()
    for service in Service.objects.all():
        service.staff.clear()
    Service.objects.all().delete()
    StaffMember.objects.all().delete()
    Branding.objects.all().delete()
    SchedulingSettings.objects.all().delete()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Requests:
    """Requests being answered, so the server's teardown can wait for them to finish (idle
    connections the browser opened ahead of time are not requests and are not waited for)."""

    def __init__(self) -> None:
        self.active = 0
        self.lock = threading.Lock()

    def add(self, delta: int) -> None:
        with self.lock:
            self.active += delta

    def wait_idle(self, timeout: float = 10.0) -> None:
        deadline = time_module.monotonic() + timeout
        while self.active and time_module.monotonic() < deadline:
            time_module.sleep(0.05)


@pytest.fixture(scope="module")
def live_site(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """The project served over HTTP on a free port (static files through the finders)."""
    requests = _Requests()
    django_app = StaticFilesHandler(get_wsgi_application())

    class Handler(WSGIRequestHandler):
        counted = False

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def get_environ(self) -> dict:
            self.counted = True  # a request line was read: this is a real request
            requests.add(1)
            return super().get_environ()

        def handle(self) -> None:
            try:
                super().handle()
            finally:
                # Each request has its own thread: close its database connection, or the test
                # database cannot be dropped at the end of the session.
                connections.close_all()
                if self.counted:
                    requests.add(-1)

    server = make_server("127.0.0.1", 0, django_app, server_class=_ThreadingWSGIServer,
                         handler_class=Handler)  # fmt: skip
    port = server.server_address[1]
    with django_db_blocker.unblock():
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield {"port": port, "platform": f"http://localhost:{port}",
               "alpha": f"http://alpha.localhost:{port}"}  # fmt: skip
        server.shutdown()
        requests.wait_idle()
        server.server_close()


@pytest.fixture(scope="module")
def alpha_catalogue(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """Committed catalogue in alpha for the browser tests; removed after the module."""
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            remove_widget_data()
            catalogue = build_widget_catalogue()
        connection.set_schema_to_public()
        yield {"tenant": tenant, **catalogue}
        with tenant_context(tenant):
            remove_widget_data()
        connection.set_schema_to_public()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the ORM calls the tests make
    # between browser steps are ordinary blocking calls, which Django refuses by default there.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
        # Inside Playwright's context Django's per-thread connections are not the ones of the
        # session's setup: close those the module opened, or the test database cannot be
        # dropped at the end of the run.
        connections.close_all()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def third_party_site() -> Iterator[dict[str, Any]]:
    """A website of another origin (127.0.0.1 on its own port) serving pages set by the test."""
    with static_pages(host_name="127.0.0.1", missing_body="<p>not found</p>") as site:
        yield site


def screenshot(page: Any, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"widget-{name}.png"), full_page=True)


# Recorded from the first script of each document (Playwright injects it outside the page's CSP).
_RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.effectiveDirective + " " + event.blockedURI);
});
"""


def watch_csp(page: Any) -> None:
    """Record the Content-Security-Policy violations of every document `page` loads.

    The customer pages' policy has no 'unsafe-eval': `wait_for_function` predicates on them are
    written as functions ("() => ..."), which Playwright compiles itself, not as bare
    expressions, which its poller would `eval` in the page.
    """
    page.add_init_script(_RECORD_CSP_VIOLATIONS)


def csp_violations(page: Any) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def fill_card(page: Any, number: str) -> None:
    """Fill the Stripe.js stand-in's Payment Element (local Stripe) with a test card."""
    page.fill("input[name='cardnumber']", number)
    page.fill("input[name='exp-date']", "12 / 34")
    page.fill("input[name='cvc']", "123")
    page.fill("input[name='postal']", "75011")


@contextmanager
def local_stripe_settings(*, secret_key: str, publishable_key: str) -> Iterator[dict[str, Any]]:
    """A local Stripe server and the settings pointing the product at it, for a test module."""
    base_url, stop = serve_in_thread(retry_delays=TEST_RETRY_DELAYS)
    overrides = override_settings(
        STRIPE_API_BASE=base_url, STRIPE_SECRET_KEY=secret_key,
        STRIPE_PUBLISHABLE_KEY=publishable_key, STRIPE_MAX_NETWORK_RETRIES=0, STRIPE_JS_URL="",
    )  # fmt: skip
    overrides.enable()
    try:
        yield {"sdk": make_client(base_url, api_key=secret_key), "base_url": base_url}
    finally:
        overrides.disable()
        stop()


def book_to_summary(page: Any, site: str, *, service_id: int, name: str, email: str) -> None:
    """Walk the booking page to its summary step: anyone, first open day, first time, details."""
    page.goto(site + f"/book/{service_id}/")
    page.click("[data-staff='anyone']")
    page.locator(".cr-day-open").first.click()
    page.locator(".cr-time").first.click()
    page.fill("#cr-name", name)
    page.fill("#cr-email", email)
    page.check("#cr-consent")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-step='summary']")


@contextmanager
def onboarded_alpha(tenant: Any, stripe: dict[str, Any], django_db_blocker: Any) -> Iterator[Any]:
    """Alpha's connected account in local Stripe, charges enabled; deleted at exit."""
    account_id = onboarded_account(stripe["sdk"], stripe["base_url"])
    with django_db_blocker.unblock():
        account = ConnectedAccount.objects.create(
            tenant=tenant, account_id=account_id,
            charges_enabled=True, payouts_enabled=True, details_submitted=True,
        )  # fmt: skip
        try:
            yield account
        finally:
            account.delete()


@pytest.fixture
def owner_context(browser: Any, live_site: dict, alpha_catalogue: dict) -> Any:
    """A browser context signed in as alpha's owner, second factor verified."""
    from django.conf import settings
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import member_client

    tenant = alpha_catalogue["tenant"]
    owner = tenant.memberships.get(role="owner").user
    had_device = TOTPDevice.objects.filter(user=owner).exists()
    client = member_client(tenant, owner, verified=True)  # a committed session row
    with tenant_context(tenant):
        saved = Branding.objects.first()  # a module's branding (allowed websites) survives
    connection.set_schema_to_public()
    context = browser.new_context()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "httpOnly": True,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_site["alpha"]}])  # fmt: skip
    yield context
    context.close()
    with tenant_context(tenant):
        Branding.objects.all().delete()
        if saved is not None:
            saved.save(force_insert=True)
    connection.set_schema_to_public()
    client.logout()
    if not had_device:
        TOTPDevice.objects.filter(user=owner).delete()
