"""axe-core (vendored in tests/assets/axe-core) on every back-office page in Chromium, at 1280 px
and 360 px: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenants.navigation import NAVIGATION
from tests.tenants.test_navigation_browser import _page, people  # noqa: F401  (fixture)
from tests.widgets.conftest import browser, live_site  # noqa: F401  (fixtures)

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
