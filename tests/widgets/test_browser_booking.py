"""The hosted booking page and the manage page in Debian's Chromium (one browser, one server).

Each test books with the live server's real clock: the catalogue's staff work every day, so
the first open day has free times whatever the date.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from scheduling.models import Booking, Service
from widgets.models import Branding

from .conftest import csp_violations, screenshot, watch_csp
from .images import png

pytestmark = pytest.mark.browser


def _bookings(tenant) -> list[Booking]:
    with tenant_context(tenant):
        found = list(Booking.objects.select_related("service", "customer", "staff").order_by("pk"))
    connection.set_schema_to_public()
    return found


def _api(live_site: dict, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """A request to alpha's host from outside the browser, like another customer's."""
    conn = http.client.HTTPConnection("127.0.0.1", live_site["port"], timeout=10)
    headers = {"Host": f"alpha.localhost:{live_site['port']}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    response = conn.getresponse()
    data = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, data


def _pick_first_time(page: Any, day: int = 0) -> str:
    """The first time of the `day`-th open day of the month shown (0: the first; the last one
    when the month has fewer)."""
    days = page.locator(".cr-day-open")
    days.first.wait_for()
    days.nth(min(day, days.count() - 1)).click()
    first = page.locator(".cr-time").first
    first.wait_for()
    start = first.get_attribute("data-start")
    first.click()
    return start


def _fill_details(page: Any, name: str = "Chloé Client", email: str = "chloe@example.test") -> None:
    page.fill("#cr-name", name)
    page.fill("#cr-email", email)
    page.check("#cr-consent")
    page.click("button[type=submit]")


def _no_horizontal_scroll(page: Any, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{scroll_width}px wide at step {page.get_attribute('body', 'data-step')}"
    )


def test_customer_books_a_pay_at_venue_service_on_the_hosted_page(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="en-GB", timezone_id="Europe/London")
    page.goto(live_site["alpha"] + "/book/")
    page.get_by_role("button", name="Haircut").click()
    page.get_by_role("button", name="Anyone available").click()
    _pick_first_time(page)
    _fill_details(page)
    summary = page.locator(".cr-summary").inner_text()
    assert "Haircut" in summary and "€30.00" in summary and "To pay at the venue" in summary
    assert "Europe/Paris" in summary  # the customer is in London: the business zone is shown
    assert "Full refund if you cancel at least 24" in page.locator(".cr-policy").inner_text()
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='done']")
    reference = page.locator(".cr-reference dd").inner_text()
    screenshot(page, "hosted-confirmed")
    booking = next(b for b in _bookings(alpha_catalogue["tenant"]) if b.reference == reference)
    assert booking.status == "confirmed" and booking.customer.email == "chloe@example.test"
    manage = page.locator(".cr-manage-link").get_attribute("href")
    assert manage.startswith(f"/manage/{reference}/?token=")
    google = page.get_by_role("link", name="Google Calendar").get_attribute("href")
    assert google.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
    ics = page.get_by_role("link", name="Apple / Outlook (.ics)").get_attribute("href")
    assert ics.startswith(f"/api/v1/bookings/{reference}/calendar.ics?token=")
    status, content_type, body = page.evaluate(
        "async url => { const r = await fetch(url);"
        " return [r.status, r.headers.get('content-type'), await r.text()]; }",
        ics,
    )
    assert status == 200 and content_type.startswith("text/calendar") and "BEGIN:VEVENT" in body
    page.close()


def test_a_time_taken_while_typing_details_sends_the_customer_back_to_the_times(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + "/book/")
    page.get_by_role("button", name="Haircut").click()
    page.get_by_role("button", name="Ada").click()
    # Not the first open day: late in the afternoon that is today with its last time or two,
    # and once the time is taken the refreshed day may offer none (it failed at 18:00 Paris).
    start = _pick_first_time(page, day=1)
    # Another customer books the same time with Ada while this one types.
    status, _ = _api(live_site, "POST", "/api/v1/bookings/", {
        "service": alpha_catalogue["haircut"].pk, "staff": alpha_catalogue["ada"].pk,
        "start": start, "customer": {"name": "Quick Quentin", "email": "quentin@example.test"},
    })  # fmt: skip
    assert status == 201
    _fill_details(page, name="Slow Sam", email="sam@example.test")
    page.click("#cr-submit")
    notice = page.locator("#cr-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "That time was just taken — please pick another time."
    assert page.get_attribute("body", "data-step") == "time"
    page.locator(".cr-time").first.wait_for()
    offered = page.locator(".cr-time").evaluate_all("nodes => nodes.map(n => n.dataset.start)")
    assert start not in offered  # the refreshed day no longer offers the taken time
    assert len(offered) == len(set(offered))
    screenshot(page, "slot-taken")
    emails = [b.customer.email for b in _bookings(alpha_catalogue["tenant"])]
    assert "sam@example.test" not in emails
    page.close()


def test_server_errors_come_in_the_language_the_page_was_asked_for(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    # An English browser on a page embedded with data-locale="fr" (?lang=fr): the page's
    # language wins, and the API's own message reaches the customer in French.
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    languages: list[str | None] = []
    page.on("request", lambda request: languages.append(request.headers.get("accept-language"))
            if "/api/v1/bookings/" in request.url else None)  # fmt: skip
    page.goto(live_site["alpha"] + "/book/?lang=fr")
    page.get_by_role("button", name="Haircut").click()
    page.get_by_role("button", name="Ada").click()
    _pick_first_time(page)
    _fill_details(page, name="Tardive Tina", email="tina@example.test")
    haircut = alpha_catalogue["haircut"]
    # The business lengthens its notice meanwhile: two days makes the first time (at most ~13
    # hours ahead) too soon and leaves later times, so the calendar the customer is sent back to
    # is not empty (an empty one would replace the message with "no free time in the coming
    # months").
    with tenant_context(alpha_catalogue["tenant"]):
        Service.objects.filter(pk=haircut.pk).update(minimum_notice_minutes=2 * 24 * 60)
    connection.set_schema_to_public()
    try:
        page.click("#cr-submit")
        notice = page.locator("#cr-notice")
        notice.wait_for(state="visible")
        assert notice.inner_text() == "Ce créneau est trop proche pour être réservé en ligne."
        assert page.get_attribute("body", "data-step") == "time"
        assert languages == ["fr"]
    finally:
        with tenant_context(alpha_catalogue["tenant"]):
            Service.objects.filter(pk=haircut.pk).update(
                minimum_notice_minutes=haircut.minimum_notice_minutes
            )
        connection.set_schema_to_public()
    page.close()


def test_french_browser_books_a_free_service_in_french(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="fr-FR", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + "/book/")
    assert page.locator("#cr-step-title").inner_text() == "Choisissez une prestation"
    assert "30,00\u00a0€" in page.get_by_role("button", name="Haircut").inner_text()
    page.get_by_role("button", name="Consultation").click()
    page.get_by_role("button", name="Peu importe").click()
    assert "Les horaires sont affichés dans votre fuseau horaire" in page.inner_text(".cr-zone")
    _pick_first_time(page)
    assert page.locator("label[for=cr-name]").inner_text() == "Nom complet"
    page.click("button[type=submit]")  # empty form: errors in French, tied to the fields
    assert page.locator("#cr-name-error").inner_text() == "Ce champ est obligatoire."
    assert "cr-name-error" in page.get_attribute("#cr-name", "aria-describedby")
    _fill_details(page, name="Camille Client", email="camille@example.test")
    summary = page.locator(".cr-summary").inner_text()
    assert "Gratuit" in summary and "Prestation" in summary
    assert any(day in summary for day in ("lundi", "mardi", "mercredi", "jeudi", "vendredi",
                                          "samedi", "dimanche"))  # fmt: skip
    assert page.locator(".cr-policy").inner_text().startswith("Remboursement intégral")
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='done']")
    assert page.locator("#cr-step-title").inner_text() == "Réservation confirmée"
    assert "C’est réservé !" in page.inner_text("#cr-step")
    screenshot(page, "french-confirmed")
    page.close()


def test_phone_width_has_no_horizontal_scrolling_at_any_step(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-US",
                            timezone_id="America/Argentina/ComodRivadavia")  # fmt: skip
    page.goto(live_site["alpha"] + "/book/")
    page.locator(".cr-option").first.wait_for()
    _no_horizontal_scroll(page, 360)
    page.get_by_role("button", name="Haircut").click()
    page.get_by_role("button", name="Anyone available").click()
    page.locator(".cr-day-open").first.wait_for()
    _no_horizontal_scroll(page, 360)
    _pick_first_time(page)
    _no_horizontal_scroll(page, 360)
    _fill_details(page, name="Maximilian Alexander Wolfeschlegelsteinhausen",
                  email="a.very.long.address.for.a.narrow.screen@example.test")  # fmt: skip
    page.locator(".cr-summary").wait_for()
    _no_horizontal_scroll(page, 360)
    screenshot(page, "phone-360-summary")
    page.close()


def _tab_to(page: Any, selector: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                         selector):  # fmt: skip
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_booking_with_visible_focus(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + "/book/")
    page.locator(".cr-option").first.wait_for()
    _tab_to(page, f"[data-service='{alpha_catalogue['haircut'].pk}']")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "cr-step-title"  # step change focus
    page.wait_for_function(
        "() => document.getElementById('cr-announce').textContent.includes('Choose who')"
    )
    _tab_to(page, "[data-staff='anyone']")
    page.keyboard.press("Space")
    page.locator(".cr-day-open").first.wait_for()
    _tab_to(page, ".cr-day-open")
    page.keyboard.press("Enter")
    page.locator(".cr-time").first.wait_for()
    _tab_to(page, ".cr-time")
    page.keyboard.press("Enter")
    _tab_to(page, "#cr-name")
    page.keyboard.type("Kim Keys")
    _tab_to(page, "#cr-email")
    page.keyboard.type("kim@example.test")
    _tab_to(page, "#cr-consent")
    page.keyboard.press("Space")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    _tab_to(page, "#cr-submit")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-step='done']")
    screenshot(page, "keyboard-confirmed")
    assert any(b.customer.email == "kim@example.test" and b.status == "confirmed"
               for b in _bookings(alpha_catalogue["tenant"]))  # fmt: skip
    page.close()


def test_arrow_keys_move_between_the_days_of_the_month(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + f"/book/{alpha_catalogue['haircut'].pk}/")
    page.get_by_role("button", name="Anyone available").click()
    page.locator(".cr-day-open").first.wait_for()
    shown = page.locator(".cr-day-open").first.get_attribute("data-date")[:7]
    page.get_by_role("button", name="Next month").click()  # every day open: the staff work daily
    page.wait_for_function(
        "m => (document.querySelector('.cr-day-open') || {dataset: {}}).dataset.date > m + '-32'",
        arg=shown,
    )
    first = page.locator(".cr-day-open").first
    first.wait_for()
    assert first.get_attribute("data-date").endswith("-01")
    month_key = first.get_attribute("data-date")[:8]
    first.focus()

    def focused_day() -> str:
        return page.evaluate("document.activeElement.dataset.date || ''")

    for key, day in (("ArrowRight", "02"), ("ArrowDown", "09"), ("ArrowDown", "16"),
                     ("ArrowUp", "09"), ("ArrowLeft", "08"), ("ArrowUp", "01"),
                     ("ArrowLeft", "01")):  # fmt: skip
        page.keyboard.press(key)
        assert focused_day() == month_key + day, key
    assert page.evaluate("window.scrollY") == 0  # the arrows did not scroll the page
    page.keyboard.press("Enter")  # the focused day is an ordinary button
    page.locator(".cr-time").first.wait_for()
    assert page.get_attribute(f"[data-date='{month_key}01']", "aria-pressed") == "true"
    page.close()


def test_customer_moves_then_cancels_from_the_manage_page(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)
    page.goto(live_site["alpha"] + "/book/")
    page.get_by_role("button", name="Haircut").click()
    page.get_by_role("button", name="Ben").click()
    _pick_first_time(page)
    _fill_details(page, name="Mona Manage", email="mona@example.test")
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='done']")
    page.click(".cr-manage-link")
    page.wait_for_selector(".cr-status")
    assert page.inner_text(".cr-status dd") == "Confirmed"
    [booking] = [
        b for b in _bookings(alpha_catalogue["tenant"]) if b.customer.email == "mona@example.test"
    ]
    page.click("#cr-reschedule")
    page.locator(".cr-day-open").nth(1).click()  # another day
    page.locator(".cr-time").first.wait_for()
    page.locator(".cr-time").first.click()
    page.click("#cr-confirm-move")
    page.wait_for_selector("#cr-outcome")
    assert page.inner_text("#cr-outcome").startswith("Your booking now starts")
    [moved] = [b for b in _bookings(alpha_catalogue["tenant"]) if b.pk == booking.pk]
    assert moved.starts_at > booking.starts_at and moved.status == "confirmed"
    page.click("#cr-cancel")
    assert page.inner_text("#cr-refund") == "Nothing has been paid online for this booking."
    screenshot(page, "manage-cancel-question")
    page.click("#cr-confirm-cancel")
    page.wait_for_function(
        "() => (document.getElementById('cr-outcome') || {}).textContent?.includes('cancelled')"
    )
    assert page.inner_text(".cr-status dd") == "Cancelled"
    [cancelled] = [b for b in _bookings(alpha_catalogue["tenant"]) if b.pk == booking.pk]
    assert cancelled.status == "cancelled"
    assert csp_violations(page) == []  # the manage page runs under the same policy
    page.close()


def test_the_booking_page_refuses_scripts_it_did_not_ship(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)
    page.goto(live_site["alpha"] + "/book/")
    page.get_by_role("button", name="Haircut").wait_for()  # its own scripts ran
    assert csp_violations(page) == []
    page.evaluate("""() => {
        const inline = document.createElement("script");
        inline.textContent = "window.__injected = 'inline'";
        document.head.appendChild(inline);
        const foreign = document.createElement("script");
        foreign.src = "https://cdn.example.invalid/tracker.js";
        document.head.appendChild(foreign);
    }""")
    page.wait_for_function("() => window.__cspViolations.length >= 2")
    assert page.evaluate("window.__injected") is None
    violations = csp_violations(page)
    assert "script-src-elem inline" in violations
    assert "script-src-elem https://cdn.example.invalid/tracker.js" in violations
    page.close()


def test_branding_colours_font_and_logo_are_applied(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    with tenant_context(alpha_catalogue["tenant"]):
        from widgets.services import branding_set_logo, branding_update

        branding = branding_update(branding=Branding(), fields={
            "primary_colour": "#7a1f5c", "accent_colour": "#0b5394", "font_family": "serif",
            "corner_style": "square", "welcome_text": "Welcome to the studio",
        })  # fmt: skip
        branding_set_logo(branding=branding, data=png(64, 32), name="logo.png")
    connection.set_schema_to_public()
    try:
        page = browser.new_page()
        page.goto(live_site["alpha"] + "/book/")
        page.locator(".cr-option").first.wait_for()
        style = page.evaluate("""() => {
            const css = (selector, property) =>
                getComputedStyle(document.querySelector(selector))[property];
            return {name: css('.cr-business', 'color'), font: css('body', 'fontFamily'),
                    radius: css('.cr-option', 'borderTopLeftRadius'),
                    logo: document.querySelector('.cr-logo').naturalWidth};
        }""")
        assert style["name"] == "rgb(122, 31, 92)"
        assert style["font"].startswith("Charter")
        assert style["radius"] == "2px"
        assert style["logo"] == 64
        assert page.inner_text(".cr-welcome") == "Welcome to the studio"
        page.get_by_role("button", name="Haircut").click()
        page.get_by_role("button", name="Anyone available").click()
        page.locator(".cr-day-open").first.click()
        selected = page.locator(".cr-day-open[aria-pressed=true]")
        assert selected.evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(11, 83, 148)"
        screenshot(page, "branding-applied")
        page.close()
    finally:
        with tenant_context(alpha_catalogue["tenant"]):
            Branding.objects.all().delete()
        connection.set_schema_to_public()


def test_branding_page_previews_colours_live_and_warns_on_contrast(
    owner_context: Any, live_site: dict
) -> None:
    page = owner_context.new_page()
    page.goto(live_site["alpha"] + "/branding/")
    preview = page.locator("#cr-preview")
    page.fill("#id_primary_colour", "#f4a261")  # a light orange: fails AA as text on white
    assert "below WCAG AA" in page.inner_text("#id_primary_colour-contrast")
    button = page.locator("#preview-button")
    assert button.evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(244, 162, 97)"
    assert button.evaluate("n => getComputedStyle(n).color") == "rgb(31, 35, 40)"  # ink on light
    page.select_option("#id_corner_style", "pill")
    assert preview.evaluate("n => n.style.getPropertyValue('--cr-radius')") == "999px"
    page.fill("#id_welcome_text", "Bienvenue au studio")
    assert page.inner_text("#preview-welcome") == "Bienvenue au studio"
    page.click("button[type=submit]")
    page.wait_for_selector("#contrast-warnings")
    assert "WCAG AA" in page.inner_text("#contrast-warnings")
    screenshot(page, "branding-page")


def test_embed_page_builds_the_snippet_from_the_options(
    owner_context: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = owner_context.new_page()
    page.goto(live_site["alpha"] + "/embed/")
    snippet = page.locator("#embed-snippet")
    assert snippet.input_value() == (
        f'<script src="{live_site["platform"]}/widget.js" data-creneau="alpha" '
        'data-mode="inline" async></script>'
    )
    page.check("input[name=mode][value=popup]")
    page.select_option("#embed-service", str(alpha_catalogue["massage"].pk))
    page.select_option("#embed-locale", "fr")
    assert snippet.input_value() == (
        f'<script src="{live_site["platform"]}/widget.js" data-creneau="alpha" '
        f'data-mode="popup" data-service="{alpha_catalogue["massage"].pk}" data-locale="fr" '
        "async></script>"
    )
    page.click("#embed-copy")
    page.wait_for_function("() => document.getElementById('embed-copied').textContent !== ''")
    screenshot(page, "embed-page")


def test_a_service_without_free_times_says_so(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    from scheduling.models import Service, StaffMember

    with tenant_context(alpha_catalogue["tenant"]):
        nobody = StaffMember.objects.create(display_name="Zed")  # no working hours at all
        sauna = Service.objects.create(name="Sauna", duration_minutes=30, price_minor=1000)
        sauna.staff.add(nobody)
    connection.set_schema_to_public()
    try:
        page = browser.new_page()
        page.goto(live_site["alpha"] + f"/book/{sauna.pk}/")  # direct link to the service
        notice = page.locator("#cr-notice")
        notice.wait_for(state="visible")
        assert notice.inner_text() == (
            "This service has no free times in the coming months. Please contact the business."
        )
        assert page.locator(".cr-day-open").count() == 0
        screenshot(page, "no-availability")
        page.close()
    finally:
        with tenant_context(alpha_catalogue["tenant"]):
            sauna.staff.clear()
            sauna.delete()
            nobody.delete()
        connection.set_schema_to_public()


def test_returning_from_a_payment_redirect_shows_the_confirmation(
    browser: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    """The Payment Element's return_url is the page with reference and token (3-D Secure
    redirects); the page waits for the booking to be confirmed, then shows it."""
    status, held = _api(live_site, "POST", "/api/v1/bookings/", {
        "service": alpha_catalogue["consult"].pk, "start": _first_free_start(live_site,
        alpha_catalogue["consult"].pk), "customer": {"name": "Ray Return",
        "email": "ray@example.test"},
    })  # fmt: skip
    assert status == 201
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    query = f"?reference={held['reference']}&token={held['manage_token']}"
    page.goto(live_site["alpha"] + "/book/" + query)
    page.wait_for_function(
        "() => document.getElementById('cr-payment-message')?.textContent === "
        "'Waiting for the payment to be confirmed…'"
    )
    status, _ = _api(live_site, "POST", f"/widget/bookings/{held['reference']}/confirm/",
                     {"token": held["manage_token"]})  # fmt: skip
    assert status == 200
    page.wait_for_selector("body[data-step='done']")
    assert page.inner_text(".cr-reference dd") == held["reference"]
    screenshot(page, "payment-return")
    page.close()


def _first_free_start(live_site: dict, service_id: int) -> str:
    from datetime import date, timedelta

    start = date.today() + timedelta(days=2)
    end = start + timedelta(days=3)
    status, data = _api(live_site, "GET", f"/api/v1/availability/?service={service_id}"
                        f"&start={start}&end={end}")  # fmt: skip
    assert status == 200 and data["slots"]
    return data["slots"][-1]["start"]


def test_embed_page_asks_for_the_website_before_the_code_and_warns_while_none_is_allowed(
    owner_context: Any, live_site: dict, alpha_catalogue: dict
) -> None:
    page = owner_context.new_page()
    page.goto(live_site["alpha"] + "/embed/")
    order = page.evaluate("""() => {
        const site = document.getElementById('id_allowed_origins');
        const code = document.getElementById('embed-snippet');
        return !!(site.compareDocumentPosition(code) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert order  # the website's address is asked for first, then the code
    warning = page.locator("#embed-no-site")
    assert "shows only a link to your booking page" in warning.inner_text()
    page.fill("#id_allowed_origins", "www.salon.example")  # no scheme: refused, and said why
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("text=Save allowed websites")
    assert answer.value.status == 400
    assert "write the full address with http:// or https://" in page.inner_text("#origins-errors")
    assert page.get_attribute("#id_allowed_origins", "aria-invalid") == "true"
    page.fill("#id_allowed_origins", "HTTPS://www.Salon.example/")
    page.click("text=Save allowed websites")
    page.wait_for_selector("#embed-sites")
    assert page.locator("#embed-no-site").count() == 0
    assert "https://www.salon.example" in page.inner_text("#embed-sites")
    screenshot(page, "embed-page-site-first")


def test_a_booking_made_on_the_hosted_page_says_booking_page_in_the_back_office(
    browser: Any, live_site: dict, alpha_catalogue: dict, owner_context: Any
) -> None:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    page.goto(live_site["alpha"] + "/book/")
    page.get_by_role("button", name="Haircut").click()
    page.get_by_role("button", name="Anyone available").click()
    _pick_first_time(page)
    _fill_details(page, name="Paige Page", email="paige.page@example.test")
    page.click("#cr-submit")
    page.wait_for_selector("body[data-step='done']")
    reference = page.locator(".cr-reference dd").inner_text()
    page.close()
    booking = next(b for b in _bookings(alpha_catalogue["tenant"]) if b.reference == reference)
    assert (booking.source, booking.embedded_on) == ("page", "")
    office = owner_context.new_page()
    office.goto(f"{live_site['alpha']}/bookings/{reference}/")
    source = (
        office.locator("dt")
        .get_by_text("Source", exact=True)
        .locator("xpath=following-sibling::dd[1]")
    )
    assert source.inner_text() == "Booking page"
    office.close()
