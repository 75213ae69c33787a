"""The French dashboard in Debian's Chromium (a browser whose language is fr-FR): Chart.js draws
the server's French labels with the page's locale, under the page's Content-Security-Policy
with no console error, and the live refresh's line is the translated one from the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from insights.dashboard import page as dashboard_page
from tests.widgets.conftest import csp_violations, watch_csp

from .conftest import WEEK
from .dataset import NOW, build_dataset

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
def french_context(browser, owner_context, live_site) -> Iterator[Any]:
    """The signed-in owner's session in a browser whose language is French (Accept-Language)."""
    session = next(cookie for cookie in owner_context.cookies()
                   if cookie["name"] == settings.SESSION_COOKIE_NAME)  # fmt: skip
    context = browser.new_context(locale="fr-FR")
    context.add_cookies([{"name": session["name"], "value": session["value"], "httpOnly": True,
                          "url": live_site["alpha"]}])  # fmt: skip
    yield context
    context.close()


def test_the_french_dashboard_draws_and_refreshes_in_french(
    french_context, live_site, committed_dataset, monkeypatch
):
    monkeypatch.setattr(dashboard_page, "now", lambda: NOW)
    page = french_context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)  # fmt: skip
    page.on("pageerror", lambda error: errors.append(str(error)))
    watch_csp(page)
    page.goto(live_site["alpha"] + "/?" + urlencode(WEEK))
    page.wait_for_function(
        "() => window.Chart && document.querySelectorAll('canvas[data-chart]').length > 0 && "
        "Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".every(c => window.Chart.getChart(c))"
    )
    assert page.locator("#dashboard-title").inner_text() == "Comment va votre activité"
    drawn = page.evaluate("""() => {
        const chart = window.Chart.getChart(document.querySelector(
            'canvas[data-chart="revenue-per-day"]'));
        return {locale: chart.options.locale, first: chart.data.labels[0],
                sets: chart.data.datasets.map(d => d.label)};
    }""")
    assert drawn == {"locale": "fr-FR", "first": "lun. 23 mars",
                     "sets": ["Brut", "Remboursements", "Frais de plateforme", "Net"]}  # fmt: skip
    # An out-of-date version makes the next poll swap in the fragment and say when, in French.
    page.evaluate("() => document.getElementById('dashboard').setAttribute('data-version', 'x')")
    page.wait_for_function("() => document.querySelector('.dash-live').textContent"
                           ".startsWith('Mis à jour à ')", timeout=10000)  # fmt: skip
    assert "{time}" not in page.locator(".dash-live").inner_text()
    assert page.locator("#dashboard-title").inner_text() == "Comment va votre activité"
    assert errors == [] and csp_violations(page) == []
    page.close()
