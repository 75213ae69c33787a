"""The booking flow as a customer meets it on a phone and step by step: the times come into
view, the step counter keeps its total, every time names its zone, touch targets are 44 px."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def test_tapping_a_day_on_a_phone_brings_its_times_into_view_and_focus(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(viewport=PHONE, locale="en-US", timezone_id="Europe/Paris",
                            has_touch=True, is_mobile=True)  # fmt: skip
    page.goto(live_site["alpha"] + f"/book/{alpha_catalogue['haircut'].pk}/")
    page.get_by_role("button", name="Anyone available").tap()
    day = page.locator(".cr-day-open").first
    day.tap()
    page.locator(".cr-time").first.wait_for()
    # Focus moves to the times' heading, so a screen reader reads the day next, and the first
    # row of times is inside the screen (scrolling may still be under way: wait for it).
    page.wait_for_function("() => document.activeElement.id === 'cr-times-title'")
    page.wait_for_function("""() => {
        const box = document.querySelector('.cr-time').getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight;
    }""")
    heading = page.locator("#cr-times-title").inner_text()
    assert "Europe/Paris" in heading  # the times' zone is named where the times are
    screenshot(page, "phone-day-tapped")
    page.close()
