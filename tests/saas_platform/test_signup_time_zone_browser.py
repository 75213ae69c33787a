"""Signup in Debian's Chromium at 1280 px and 360 px: a browser set to UTC signing up a French
business is offered Europe/Paris; a browser in New York signing up a US one keeps its zone
without a question. Each signs up for real on a live server and lands in its back office."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from tenants.models import AuditEntry, Membership, Tenant, User
from tests.factories import PASSWORD
from tests.widgets.conftest import browser, live_site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}


def _remove(slug: str, email: str) -> None:
    connection.set_schema_to_public()
    for tenant in Tenant.objects.filter(slug=slug):
        AuditEntry.objects.filter(tenant=tenant).delete()
        AuditEntry.objects.filter(actor__email=email).delete()
        Membership.objects.filter(tenant=tenant).delete()
        with tenant_context(tenant):  # staff profiles in the tenant's schema point at the user
            User.objects.filter(email=email).delete()
        connection.set_schema_to_public()
        tenant.domains.all().delete()
        tenant.delete(force_drop=True)
    User.objects.filter(email=email).delete()


def _sign_up(chromium: Any, site: dict, *, zone: str, country: str, slug: str, viewport: str):
    context = chromium.new_context(timezone_id=zone, viewport=VIEWPORTS[viewport])
    page = context.new_page()
    page.goto(site["platform"] + "/signup/")
    page.fill("#id_business_name", f"Business {slug}")
    page.fill("#id_slug", slug)
    page.fill("#id_owner_name", "Owner Person")
    page.fill("#id_email", f"{slug}@signup.test")
    page.fill("#id_password", PASSWORD)
    page.select_option("#id_country", country)
    return context, page


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_utc_browser_signing_up_in_france_is_offered_europe_paris(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    django_db_blocker,
    viewport,
):
    slug, email = f"utc-{viewport}", f"utc-{viewport}@signup.test"
    with django_db_blocker.unblock(), override_settings(PLATFORM_PORT=str(live_site["port"])):
        context, page = _sign_up(browser, live_site, zone="UTC", country="FR", slug=slug,
                                 viewport=viewport)  # fmt: skip
        try:
            assert page.input_value("#id_time_zone") == "Europe/Paris"
            assert page.input_value("#id_currency") == "EUR"
            note = page.locator("#time-zone-note")
            assert "(UTC) is not one of France's: we chose Europe/Paris" in note.inner_text()
            page.click("button[type=submit]")
            page.wait_for_url(f"http://{slug}.localhost:{live_site['port']}/")
            assert page.locator("#backoffice-nav").count() == 1
            assert Tenant.objects.get(slug=slug).time_zone == "Europe/Paris"
        finally:
            context.close()
            _remove(slug, email)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_new_york_browser_keeps_its_zone_without_a_question(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    django_db_blocker,
    viewport,
):
    slug, email = f"ny-{viewport}", f"ny-{viewport}@signup.test"
    with django_db_blocker.unblock(), override_settings(PLATFORM_PORT=str(live_site["port"])):
        context, page = _sign_up(browser, live_site, zone="America/New_York", country="US",
                                 slug=slug, viewport=viewport)  # fmt: skip
        try:
            assert page.input_value("#id_time_zone") == "America/New_York"
            assert page.input_value("#id_currency") == "USD"
            assert page.locator("#time-zone-note").inner_text() == ""
            assert page.locator("#id_time_zone_confirmed").count() == 0
            page.click("button[type=submit]")
            page.wait_for_url(f"http://{slug}.localhost:{live_site['port']}/")
            assert Tenant.objects.get(slug=slug).time_zone == "America/New_York"
        finally:
            context.close()
            _remove(slug, email)
