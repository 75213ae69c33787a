"""axe-core (vendored in tests/assets/axe-core) on every back-office page in Chromium, at 1280 px
and 360 px: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenants.navigation import NAVIGATION
from tests.tenants.test_navigation_browser import _page, people  # noqa: F401  (fixture)
from tests.widgets.conftest import alpha_catalogue, browser, live_site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

AXE = (Path(__file__).resolve().parents[1] / "assets" / "axe-core" / "axe.min.js").read_text()
PAGES = [
    "/share/",
    "/bookings/new/",
    "/booking-settings/time-zone/",
    *[item.url for group in NAVIGATION for item in group.items],
]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_no_serious_or_critical_violation_on_any_back_office_page(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    people,  # noqa: F811
    django_db_blocker,
    viewport,
):
    problems = {}
    with django_db_blocker.unblock():
        context, page = _page(browser, live_site, people["owner"], people["alpha"],
                              viewport=viewport)  # fmt: skip
        try:
            for path in dict.fromkeys(PAGES):
                page.goto(live_site["alpha"] + path)
                # Evaluated by the browser's debugger protocol, not as a <script> tag: the landing
                # page's Content-Security-Policy (script-src 'self') refuses inline scripts.
                page.evaluate(AXE)
                result = page.evaluate("async () => (await axe.run(document)).violations")
                bad = [
                    f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
                    for v in result
                    if v["impact"] in ("serious", "critical")
                ]
                if bad:
                    problems[path] = bad
        finally:
            context.close()
    assert problems == {}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_no_serious_or_critical_violation_on_the_customers_and_payments_pages_with_rows(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    people,  # noqa: F811
    alpha_catalogue,  # noqa: F811
    django_db_blocker,
    viewport,
):
    """The same check on the pages as they look with rows (a customer, a booking, a payment):
    the empty states above have no table."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from scheduling.services.customers import customer_upsert
    from tests.connect_payments.money_support import paid_booking

    with django_db_blocker.unblock():
        with tenant_context(people["alpha"]):
            customer = customer_upsert(name="Axe Customer", email="axe@example.test")
            zone = ZoneInfo(people["alpha"].time_zone)
            day = timezone.now().astimezone(zone).date() + timedelta(days=2 + (viewport == "phone"))
            paid_booking(alpha_catalogue["massage"], customer,
                         starts_at=datetime.combine(day, time(10), zone))  # fmt: skip
        connection.set_schema_to_public()
        context, page = _page(browser, live_site, people["owner"], people["alpha"],
                              viewport=viewport)  # fmt: skip
        problems = {}
        try:
            for path in ("/customers/", f"/customers/{customer.pk}/", "/payments/"):
                page.goto(live_site["alpha"] + path)
                assert page.locator("table").count() >= 1, path
                page.evaluate(AXE)
                result = page.evaluate("async () => (await axe.run(document)).violations")
                bad = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
                       for v in result if v["impact"] in ("serious", "critical")]  # fmt: skip
                if bad:
                    problems[path] = bad
        finally:
            context.close()
    assert problems == {}
