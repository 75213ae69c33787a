"""widget.js on a third-party website (another origin): inline and popup modes, the messages the
host page receives, and framing refused to a website the business did not allow."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from scheduling.models import Booking
from widgets.models import Branding
from widgets.services import branding_update

from .conftest import screenshot

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Salon</title>
</head><body><h1>Our salon</h1><p><a href="#top" id="before">A link before</a></p>
<script>
window.creneauMessages = [];
window.addEventListener("message", (event) => {{
  if (event.data && event.data.type)
    window.creneauMessages.push({{origin: event.origin, ...event.data}});
}});
</script>
<script src="{script}" data-creneau="alpha" data-mode="{mode}" {extra} async></script>
<p><a href="#bottom" id="after">A link after</a></p></body></html>"""


@pytest.fixture(scope="module")
def allowed_site(alpha_catalogue: dict, third_party_site: dict) -> Any:
    """Alpha allows the third-party site at 127.0.0.1:<port> (not localhost:<port>)."""
    tenant = alpha_catalogue["tenant"]
    with tenant_context(tenant):
        branding_update(branding=Branding(),
                        fields={"allowed_origins": [third_party_site["origin"]]})  # fmt: skip
    connection.set_schema_to_public()
    yield third_party_site
    with tenant_context(tenant):
        Branding.objects.all().delete()
    connection.set_schema_to_public()


def _host_page(site: dict, live_site: dict, name: str, mode: str, extra: str = "") -> str:
    site["pages"][f"/{name}"] = HOST_PAGE.format(
        script=f"{live_site['platform']}/widget.js", mode=mode, extra=extra
    )
    return f"/{name}"


def _messages(page: Any, kind: str) -> list[dict]:
    return page.evaluate("k => window.creneauMessages.filter(m => m.type === k)", kind)


def _book_inside(frame: Any, email: str) -> None:
    frame.get_by_role("button", name="Haircut").click()
    frame.get_by_role("button", name="Anyone available").click()
    frame.locator(".cr-day-open").first.click()
    frame.locator(".cr-time").first.click()
    frame.locator("#cr-name").fill("Embedded Emma")
    frame.locator("#cr-email").fill(email)
    frame.locator("#cr-consent").check()
    frame.locator("button[type=submit]").click()
    frame.locator("#cr-submit").click()
    frame.locator(".cr-reference dd").wait_for()


def _reference_of(tenant, email: str) -> str:
    with tenant_context(tenant):
        booking = Booking.objects.get(customer__email=email)
    connection.set_schema_to_public()
    assert booking.status == "confirmed"
    return booking.reference


def test_inline_widget_books_resizes_and_tells_the_host_page(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(allowed_site["origin"] + _host_page(allowed_site, live_site, "inline", "inline"))
    frame = page.frame_locator("iframe[title='Online booking']")
    frame.locator(".cr-option").first.wait_for()
    page.wait_for_function("window.creneauMessages.some(m => m.type === 'creneau:ready')")
    tenant_origin = live_site["alpha"]
    assert {m["origin"] for m in _messages(page, "creneau:ready")} == {tenant_origin}
    _book_inside(frame, "emma.inline@example.test")
    page.wait_for_function(
        "window.creneauMessages.some(m => m.type === 'creneau:booking-confirmed')"
    )
    reference = _reference_of(alpha_catalogue["tenant"], "emma.inline@example.test")
    assert [m["reference"] for m in _messages(page, "creneau:booking-held")] == [reference]
    assert [m["reference"] for m in _messages(page, "creneau:booking-confirmed")] == [reference]
    resizes = _messages(page, "creneau:resize")
    assert len(resizes) >= 2 and len({m["height"] for m in resizes}) >= 2
    page.wait_for_function(
        "h => document.querySelector('iframe').style.height === h + 'px'",
        arg=resizes[-1]["height"],
    )
    frame_height = page.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
    content_height = frame.locator("html").evaluate("n => n.getBoundingClientRect().height")
    assert abs(frame_height - content_height) <= 2  # no inner scrollbar, no empty band
    screenshot(page, "embed-inline-confirmed")
    page.close()


def test_popup_widget_is_a_modal_dialog_in_the_chosen_language(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    path = _host_page(allowed_site, live_site, "popup", "popup", 'data-locale="fr"')
    page.goto(allowed_site["origin"] + path)
    opener = page.get_by_role("button", name="Réserver")
    opener.click()
    dialog = page.locator("dialog.creneau-dialog")
    assert dialog.evaluate("d => d.open")
    frame = page.frame_locator("dialog iframe")
    assert frame.locator("#cr-step-title").inner_text() == "Choisissez une prestation"
    # Focus stays in the dialog: Tab cycles through its close button and its frame only.
    for _ in range(40):
        page.keyboard.press("Tab")
        # Leaving the (out-of-process) frame moves focus asynchronously: let it land, then
        # check where. Focus left on <body> would mean it escaped to the browser's own UI.
        page.wait_for_function("document.activeElement !== document.body", timeout=2000)
        where = page.evaluate("""() => { const a = document.activeElement;
            return [document.querySelector('dialog').contains(a), a.tagName, a.className]; }""")
        assert where[0], where
    page.keyboard.press("Escape")  # focus may be in the frame: the page asks to close
    page.wait_for_function("!document.querySelector('dialog').open")
    assert page.evaluate("document.activeElement.className") == "creneau-button"
    opener.click()
    page.locator("dialog .creneau-close").focus()
    page.keyboard.press("Escape")  # focus on the host page's side: the dialog's own Escape
    page.wait_for_function("!document.querySelector('dialog').open")
    opener.click()
    page.wait_for_function("document.querySelector('dialog').open")
    title = frame.locator("#cr-step-title")
    expect(title).to_have_text("Choisissez une prestation")
    frame.get_by_role("button", name="Haircut").click()
    expect(title).to_have_text("Choisissez avec qui")  # says which step it is on if not
    frame.get_by_role("button", name="Peu importe").click()
    frame.locator(".cr-day-open").first.click()
    frame.locator(".cr-time").first.click()
    frame.locator("#cr-name").fill("Popup Paul")
    frame.locator("#cr-email").fill("paul.popup@example.test")
    frame.locator("#cr-consent").check()
    frame.locator("button[type=submit]").click()
    frame.locator("#cr-submit").click()
    frame.locator(".cr-reference dd").wait_for()
    page.wait_for_function(
        "window.creneauMessages.some(m => m.type === 'creneau:booking-confirmed')"
    )
    reference = _reference_of(alpha_catalogue["tenant"], "paul.popup@example.test")
    assert [m["reference"] for m in _messages(page, "creneau:booking-confirmed")] == [reference]
    screenshot(page, "embed-popup-confirmed")
    page.close()


def test_a_website_not_on_the_list_cannot_frame_the_booking_page(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict
) -> None:
    # Same server, other host name: http://localhost:<port> is another origin, not allowed.
    stranger = allowed_site["origin"].replace("127.0.0.1", "localhost")
    page = browser.new_page()
    responses = []
    page.on("response", lambda r: responses.append(r) if "/book/" in r.url else None)
    page.goto(stranger + _host_page(allowed_site, live_site, "stranger", "inline"))
    page.wait_for_selector("iframe")
    page.wait_for_function("() => window.frames.length === 1")
    page.wait_for_timeout(1500)
    [response] = responses
    policy = response.headers["content-security-policy"]
    assert policy.startswith(f"frame-ancestors 'self' {allowed_site['origin']};")
    assert stranger not in policy
    assert "x-frame-options" not in response.headers
    child = page.frames[1]
    assert child.url.startswith("chrome-error://")  # Chromium refused to render it
    assert page.evaluate("window.creneauMessages.length") == 0
    screenshot(page, "embed-refused")
    page.close()


def test_a_refused_frame_is_replaced_by_a_link_to_the_hosted_booking_page(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict
) -> None:
    stranger = allowed_site["origin"].replace("127.0.0.1", "localhost")
    page = browser.new_page(locale="en-US")
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    path = _host_page(allowed_site, live_site, "stranger-link", "inline",
                      f'data-service="{alpha_catalogue["haircut"].pk}"')  # fmt: skip
    page.goto(stranger + path)
    link = page.get_by_role("link", name="Book online on our booking page")
    link.wait_for()  # instead of the browser's grey "refused to connect" box
    assert link.get_attribute("href") == (
        f"{live_site['alpha']}/book/{alpha_catalogue['haircut'].pk}/"
    )
    assert not page.locator("iframe").is_visible()
    assert any("add this address to the allowed websites" in w and stranger in w
               for w in warnings), warnings  # fmt: skip
    screenshot(page, "embed-refused-link")
    link.click()  # the hosted page itself is never refused: the customer can book there
    page.get_by_role("button", name="Anyone available").wait_for()
    page.close()


def test_a_refused_popup_shows_the_link_inside_its_dialog_in_the_chosen_language(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict
) -> None:
    stranger = allowed_site["origin"].replace("127.0.0.1", "localhost")
    page = browser.new_page(locale="en-US")
    path = _host_page(allowed_site, live_site, "stranger-popup", "popup", 'data-locale="fr"')
    page.goto(stranger + path)
    page.get_by_role("button", name="Réserver").click()
    link = page.locator("dialog").get_by_role(
        "link", name="Réserver en ligne sur notre page de réservation"
    )
    link.wait_for()
    assert link.get_attribute("href") == f"{live_site['alpha']}/book/?lang=fr"
    page.close()


def test_an_allowed_website_never_sees_the_fallback_link(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict
) -> None:
    page = browser.new_page(locale="en-US")
    page.clock.install()  # the loader's timers, run on demand below
    page.goto(allowed_site["origin"] + _host_page(allowed_site, live_site, "ok", "inline"))
    page.frame_locator("iframe[title='Online booking']").locator(".cr-option").first.wait_for()
    page.wait_for_function("window.creneauMessages.some(m => m.type === 'creneau:ready')")
    page.wait_for_function("() => document.readyState === 'complete'")  # the frame has loaded
    page.clock.run_for(60_000)  # well past the loader's grace after the frame's load event
    assert page.locator(".creneau-fallback").count() == 0
    assert page.locator("iframe").is_visible()
    page.close()


def test_a_suspended_business_reads_well_inside_the_widget(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict
) -> None:
    tenant = alpha_catalogue["tenant"]
    tenant.status, tenant.suspended_reason = "suspended", "Unpaid subscription"
    tenant.save(update_fields=["status", "suspended_reason"])
    try:
        page = browser.new_page(locale="en-US")
        page.goto(allowed_site["origin"] + _host_page(allowed_site, live_site, "paused", "inline"))
        frame = page.frame_locator("iframe[title='Online booking']")
        assert frame.locator("h1").inner_text() == "Online booking is paused"
        assert "Unpaid subscription" not in frame.locator("body").inner_text()
        page.wait_for_function("window.creneauMessages.some(m => m.type === 'creneau:resize')")
        assert _messages(page, "creneau:ready")[0]["page"] == "unavailable"
        screenshot(page, "embed-suspended")
        page.close()
    finally:
        tenant.status, tenant.suspended_reason = "active", ""
        tenant.save(update_fields=["status", "suspended_reason"])


def test_the_back_office_names_the_website_a_widget_booking_came_from(
    browser: Any, live_site: dict, alpha_catalogue: dict, allowed_site: dict, owner_context: Any
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(allowed_site["origin"] + _host_page(allowed_site, live_site, "source", "inline"))
    frame = page.frame_locator("iframe[title='Online booking']")
    _book_inside(frame, "walter.widget@example.test")
    reference = _reference_of(alpha_catalogue["tenant"], "walter.widget@example.test")
    page.close()
    with tenant_context(alpha_catalogue["tenant"]):
        booking = Booking.objects.get(reference=reference)
    connection.set_schema_to_public()
    assert (booking.source, booking.embedded_on) == ("widget", allowed_site["origin"])
    office = owner_context.new_page()
    office.goto(f"{live_site['alpha']}/bookings/{reference}/")
    source = (
        office.locator("dt")
        .get_by_text("Source", exact=True)
        .locator("xpath=following-sibling::dd[1]")
    )
    assert source.inner_text() == f"Widget on {allowed_site['origin']}"
    office.close()
