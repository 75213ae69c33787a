"""The dashboard in Debian's Chromium: the charts draw (canvas painted, heatmap table) at 1280 and
360 px under the page's Content-Security-Policy with no console error, and a booking made
through the staff API while the page is open appears without a reload (live refresh by polling)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from insights.dashboard import page as dashboard_page
from scheduling.models import ApiKey
from scheduling.services.integrations import api_key_create
from tenants.models import Tenant
from tests.widgets.conftest import csp_violations, screenshot, watch_csp

from .conftest import WEEK
from .dataset import NOW, PARIS, build_dataset

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def committed_dataset(alpha_catalogue, django_db_blocker) -> Iterator[dict[str, Any]]:
    """The hand-built data set, committed for the live server (alpha_catalogue removes it)."""
    with django_db_blocker.unblock():
        with tenant_context(alpha_catalogue["tenant"]):
            data = build_dataset()
        connection.set_schema_to_public()
    yield data


@pytest.fixture
def pinned(monkeypatch) -> None:
    monkeypatch.setattr(dashboard_page, "now", lambda: NOW)


def _open(context: Any, live_site: dict, width: int,
          params: dict | None = None) -> tuple[Any, list[str]]:  # fmt: skip
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)  # fmt: skip
    page.on("pageerror", lambda error: errors.append(str(error)))
    watch_csp(page)
    page.goto(live_site["alpha"] + "/?" + urlencode(params or WEEK))
    page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length > 0 && "
                           "Array.from(document.querySelectorAll('canvas[data-chart]'))"
                           ".every(c => c.width > 0)")  # fmt: skip
    return page, errors


def _painted(page: Any) -> list[bool]:
    """Whether each chart's canvas has non-transparent pixels (Chart.js drew on it)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
            return false; })"""
    )


@pytest.mark.parametrize("width", [1280, 360])
def test_charts_render_without_errors(owner_context, live_site, committed_dataset, pinned, width):
    page, errors = _open(owner_context, live_site, width)
    painted = _painted(page)
    assert len(painted) == 7 and all(painted)  # every chart but the heatmap, which is a table
    assert page.locator(".dash-heatmap td.heat-5").count() >= 1
    wide = page.evaluate("() => Array.from(document.querySelectorAll('main *')).filter("
                         "e => !e.closest('.dash-scroll') && "
                         "e.getBoundingClientRect().right > window.innerWidth + 1)"
                         ".map(e => e.tagName + '.' + e.className).slice(0, 8)")  # fmt: skip
    assert wide == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert errors == [] and csp_violations(page) == []
    screenshot(page, f"dashboard-{width}")
    page.close()


def test_a_booking_made_through_the_api_appears_without_a_reload(
    owner_context, live_site, committed_dataset, pinned, django_db_blocker
):
    """The staff API books (real clock: tomorrow 10:00 in Paris); the open dashboard, counting by
    booked time over today, goes from 0 to 1 without reloading."""
    today = timezone.now().astimezone(PARIS).date()
    params = {"period": "custom", "from": today.isoformat(), "to": today.isoformat(),
              "basis": "booked"}  # fmt: skip
    page, errors = _open(owner_context, live_site, 1280, params)
    value = page.locator(".dash-figure").filter(has_text="Bookings in the period")
    assert value.locator(".dash-value").inner_text() == "0"
    page.evaluate("() => { window.__sameDocument = true; }")
    with django_db_blocker.unblock():
        with tenant_context(Tenant.objects.get(slug="alpha")):
            secret = api_key_create(name="Dashboard test", created_by_user_id=None).secret
        connection.set_schema_to_public()
    start = datetime.combine(today + timedelta(days=1), time(10), PARIS)
    body = {"service": committed_dataset["haircut"].pk, "staff": committed_dataset["ada"].pk,
            "start": start.isoformat(),
            "customer": {"name": "Live Test", "email": "live@dash.test", "phone": ""}}  # fmt: skip
    # Python does not resolve alpha.localhost as Chromium does: the address, and the host name.
    request = Request(f"http://127.0.0.1:{live_site['port']}/api/v1/staff/bookings/",
                      method="POST",
                      data=json.dumps(body).encode(),
                      headers={"Authorization": f"Bearer {secret}",
                               "Host": f"alpha.localhost:{live_site['port']}",
                               "Content-Type": "application/json"})  # fmt: skip
    try:
        with urlopen(request, timeout=10) as response:  # noqa: S310 - the test's own server
            assert response.status == 201
    finally:
        with django_db_blocker.unblock():
            with tenant_context(Tenant.objects.get(slug="alpha")):
                ApiKey.objects.filter(name="Dashboard test").delete()
            connection.set_schema_to_public()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.dash-figure')).some(f => "
        "f.textContent.includes('Bookings in the period') && "
        "f.querySelector('.dash-value').textContent.trim() === '1')",
        timeout=8000,
    )
    assert page.evaluate("() => window.__sameDocument") is True  # no reload
    assert all(_painted(page)) and errors == [] and csp_violations(page) == []
    page.close()
