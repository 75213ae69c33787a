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


def _progress(page: Any) -> str:
    return page.locator("#cr-progress").inner_text()


def test_the_step_counter_keeps_its_total_and_every_time_names_its_zone(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    # Alpha offers a pay-at-venue and a free service (same flow: service, who, time, details,
    # summary, confirmation); its online-paid one cannot be paid without a Stripe account.
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + "/book/")
    page.locator(".cr-option").first.wait_for()
    seen = [_progress(page)]
    page.get_by_role("button", name="Consultation").click()
    seen.append(_progress(page))
    page.get_by_role("button", name="Anyone available").click()
    seen.append(_progress(page))
    page.locator(".cr-day-open").first.click()
    page.locator(".cr-time").first.click()
    page.locator("#cr-name").wait_for()
    seen.append(_progress(page))
    details_when = page.locator("#cr-step .cr-muted").first.inner_text()
    page.fill("#cr-name", "Zoé Zone")
    page.fill("#cr-email", "zoe.zone@example.test")
    page.check("#cr-consent")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-step='summary']")
    seen.append(_progress(page))
    assert seen == [f"Step {n} of 6" for n in range(1, 6)]
    assert "(Europe/Paris time)" in details_when
    summary_when = page.locator(".cr-summary div", has_text="When").locator("dd").inner_text()
    assert summary_when.endswith("(Europe/Paris time)")
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='done']")
    done_when = page.locator(".cr-summary div", has_text="When").locator("dd").inner_text()
    assert done_when.endswith("(Europe/Paris time)")  # as the confirmation email names it
    manage = page.locator(".cr-manage-link").get_attribute("href")
    page.goto(live_site["alpha"] + manage)
    manage_when = page.locator(".cr-summary div", has_text="When").locator("dd")
    manage_when.wait_for()
    assert manage_when.inner_text().endswith("(Europe/Paris time)")
    screenshot(page, "zone-on-manage-page")
    page.close()


def test_a_preselected_team_member_is_not_counted_as_a_step(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    ada = alpha_catalogue["ada"].pk
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + f"/book/?staff={ada}")
    page.locator(".cr-option").first.wait_for()
    seen = [_progress(page)]
    page.get_by_role("button", name="Haircut").click()
    page.locator(".cr-day-open").first.wait_for()
    seen.append(_progress(page))
    page.locator(".cr-day-open").first.click()
    page.locator(".cr-time").first.click()
    page.locator("#cr-name").wait_for()
    seen.append(_progress(page))
    assert seen == ["Step 1 of 5", "Step 2 of 5", "Step 3 of 5"]  # who is Ada: no such step
    page.close()


def test_a_free_service_says_free_once(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="en-US")
    page.goto(live_site["alpha"] + "/book/")
    free = page.get_by_role("button", name="Consultation")
    free.wait_for()
    assert free.inner_text().count("Free") == 1, free.inner_text()
    haircut = page.get_by_role("button", name="Haircut").inner_text()
    assert "$30.00" in haircut or "€30.00" in haircut
    assert "Pay at the venue" in haircut  # paid services still say how they are paid
    page.close()


def _target_size(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    return box["width"], box["height"]


def test_back_link_consent_box_and_days_are_44_px_touch_targets_on_a_phone(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(viewport=PHONE, locale="en-US", timezone_id="Europe/Paris",
                            has_touch=True, is_mobile=True)  # fmt: skip
    page.goto(live_site["alpha"] + f"/book/{alpha_catalogue['haircut'].pk}/")
    page.get_by_role("button", name="Anyone available").tap()
    page.locator(".cr-day-open").first.wait_for()
    for selector in (".cr-back", ".cr-day-open", ".cr-icon-button"):
        width, height = _target_size(page, selector)
        assert width >= 44 and height >= 44, (selector, width, height)
    page.locator(".cr-day-open").first.tap()
    page.locator(".cr-time").first.tap()
    page.locator("#cr-consent").wait_for()
    width, height = _target_size(page, ".cr-check-target")
    assert width >= 44 and height >= 44, (width, height)
    # The whole 44 px square toggles the box, its corners too, not only the 22 px box itself.
    target = page.locator(".cr-check-target").bounding_box()
    page.touchscreen.tap(target["x"] + 2, target["y"] + 2)
    assert page.is_checked("#cr-consent")
    page.touchscreen.tap(target["x"] + target["width"] - 2, target["y"] + target["height"] - 2)
    assert not page.is_checked("#cr-consent")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    screenshot(page, "phone-touch-targets")
    page.close()


def test_customer_pages_and_back_office_pages_link_a_favicon(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page()
    for url in (live_site["alpha"] + "/book/", live_site["platform"] + "/"):
        page.goto(url)
        href = page.locator("link[rel=icon]").get_attribute("href")
        assert href and href.endswith(".svg"), url
        status, kind, body = page.evaluate(
            "async u => { const r = await fetch(u);"
            " return [r.status, r.headers.get('content-type'), await r.text()]; }",
            href,
        )
        assert status == 200 and kind.startswith("image/svg+xml") and "<svg" in body, url
    page.close()
