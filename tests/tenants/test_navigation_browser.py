"""The back office in Debian's Chromium at 1280 px and 360 px: each role's menu shows exactly its
sections (behind a Menu button on phones), every empty state links to a page that opens, the
setup checklist ticks from real state, and the second-factor prompt returns to its page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from scheduling.models import Service, StaffMember, WorkingHours
from tenants.models import Membership, Tenant, User
from tenants.navigation import NAVIGATION
from tenants.roles import Role, role_allows
from tests.factories import PASSWORD, member_client
from tests.widgets.conftest import browser, live_site, screenshot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """A committed member of alpha per role, in an alpha without catalogue."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        alpha = Tenant.objects.get(slug="alpha")
        users = {}
        for role in Role:
            email = f"nav-{role.value}@alpha.test"
            user = User.objects.filter(email=email).first() or User.objects.create_user(
                email=email, password=PASSWORD, full_name=f"Nav {role.value}"
            )
            Membership.objects.update_or_create(user=user, tenant=alpha, defaults={"role": role})
            users[role.value] = user
        yield {"alpha": alpha, **users}
        connection.set_schema_to_public()
        for user in users.values():
            TOTPDevice.objects.filter(user=user).delete()
            Membership.objects.filter(user=user).delete()
            with tenant_context(alpha):
                StaffMember.objects.filter(user=user).delete()
                user.delete()
            connection.set_schema_to_public()


def _page(chromium: Any, site: dict, user: User, tenant: Tenant, *, viewport: str,
          verified: bool = True) -> tuple[Any, Any]:  # fmt: skip
    client = member_client(tenant, user, verified=verified)
    context = chromium.new_context(viewport=VIEWPORTS[viewport])
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "httpOnly": True,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": site["alpha"]}])  # fmt: skip
    return context, context.new_page()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("role", [role.value for role in Role])
def test_the_menu_shows_exactly_the_sections_of_each_role(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    people,
    django_db_blocker,
    role,
    viewport,
):
    with django_db_blocker.unblock():
        context, page = _page(browser, live_site, people[role], people["alpha"], viewport=viewport)
        try:
            page.goto(live_site["alpha"] + "/calendar/")
            toggle = page.locator(".menu-toggle")
            menu = page.locator("#backoffice-nav")
            if viewport == "phone":
                assert not menu.is_visible(), "on a phone the menu waits behind its button"
                assert toggle.get_attribute("aria-expanded") == "false"
                toggle.focus()
                page.keyboard.press("Enter")
                assert toggle.get_attribute("aria-expanded") == "true"
            else:
                assert not toggle.is_visible()
            assert menu.is_visible()
            links = menu.locator("ul a").evaluate_all("links => links.map(a => a.pathname)")
            expected = [item.url for group in NAVIGATION for item in group.items
                        if role_allows(role, item.permission)]  # fmt: skip
            assert links == expected
            current = menu.locator("[aria-current=page]")
            assert current.count() == 1 and current.get_attribute("href") == "/calendar/"
            if viewport == "phone":
                page.keyboard.press("Escape")
                assert not menu.is_visible()
                assert page.evaluate("document.activeElement.className") == "menu-toggle"
        finally:
            context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_empty_state_links_to_a_page_that_opens(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    people,
    django_db_blocker,
    viewport,
):
    pages = {"/calendar/?view=day": "#empty-calendar", "/bookings/": "#empty-bookings",
             "/customers/": "#empty-customers", "/payments/": "#empty-payments",
             "/payments/promo-codes/": "#empty-promo-codes", "/team/": "#empty-team"}  # fmt: skip
    with django_db_blocker.unblock():
        with tenant_context(people["alpha"]):
            assert not StaffMember.objects.exists(), "alpha starts empty in this module"
        connection.set_schema_to_public()
        context, page = _page(browser, live_site, people["owner"], people["alpha"],
                              viewport=viewport)  # fmt: skip
        try:
            for path, selector in pages.items():
                page.goto(live_site["alpha"] + path)
                empty = page.locator(selector)
                assert empty.is_visible(), path
                link = empty.locator("a").first
                href = link.get_attribute("href")
                link.click()
                page.wait_for_load_state()
                if href.startswith("#"):
                    assert page.locator(href).is_visible(), path
                else:
                    assert page.url.endswith(href), path
                    assert page.locator("h1").count() == 1, f"{href} did not open a page"
        finally:
            context.close()


def test_the_checklist_leads_through_every_step_ticking_from_real_state(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    people,
    django_db_blocker,
):
    alpha, owner = people["alpha"], people["owner"]
    with django_db_blocker.unblock():
        context, page = _page(browser, live_site, owner, alpha, viewport="desktop")

        def done() -> list[str]:
            page.goto(live_site["alpha"] + "/")
            return page.locator("#setup-checklist li[data-done=true]").evaluate_all(
                "items => items.map(li => li.dataset.step)"
            )

        try:
            assert done() == []
            assert "7 of 7 steps left" in page.locator("#checklist-left").inner_text()
            # Service: through its page, as the step's link leads.
            page.click("li[data-step=service] .step-action")
            page.fill("#id_name", "Haircut")
            page.fill("#id_duration_minutes", "30")
            page.fill("#id_price", "25")
            page.check("input[name=payment_mode][value=pay_at_venue]")
            page.click("main .actions button")
            page.wait_for_url("**/services/")
            assert {"service", "payments"} <= set(done()), "paid at the venue: no Stripe needed"
            # Staff: "I work alone" creates the owner's own staff profile.
            page.click("li[data-step=staff] button")
            page.wait_for_load_state()
            assert "staff" in done()
            screenshot(page, "landing-checklist")  # the README's picture (test-output/)
            # Hours, branding and sharing written as their pages would (their forms are
            # tested with those pages); the checklist reads the state.
            with tenant_context(alpha):
                me = StaffMember.objects.get(user=owner)
                Service.objects.get(name="Haircut").staff.add(me)
                for weekday in range(7):
                    WorkingHours.objects.create(staff=me, weekday=weekday,
                                                start="08:00", end="20:00")  # fmt: skip
                from widgets.models import Branding

                Branding.objects.create(primary_colour="#123456",
                                        allowed_origins=["https://salon.example"])  # fmt: skip
            connection.set_schema_to_public()
            assert set(done()) == {"service", "payments", "staff", "hours", "branding", "share"}
            # The test booking, on the hosted page the last step links to.
            page.click("li[data-step=test_booking] .step-action")
            page.click("[data-service]")
            page.wait_for_selector("[data-staff='anyone'], .cr-day-open")
            if page.locator("[data-staff='anyone']").count():  # one staff member: no choice
                page.click("[data-staff='anyone']")
            page.locator(".cr-day-open").first.click()
            page.locator(".cr-time").first.click()
            page.fill("#cr-name", "Owner Test")
            page.fill("#cr-email", owner.email)
            page.check("#cr-consent")
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-step='summary']")
            page.click("#cr-submit")
            page.wait_for_selector("body[data-step='done']")
            page.goto(live_site["alpha"] + "/")
            assert page.locator("#setup-checklist").count() == 0, "all done: no checklist"
        finally:
            context.close()
            from tests.widgets.conftest import remove_widget_data

            with tenant_context(alpha):
                remove_widget_data()
            connection.set_schema_to_public()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_second_factor_prompt_says_why_and_returns_to_its_page(
    browser,  # noqa: F811
    live_site,  # noqa: F811
    people,
    django_db_blocker,
    viewport,
):
    manager = people["manager"]
    with django_db_blocker.unblock():
        device = TOTPDevice.objects.create(user=manager, name="default", confirmed=True)
        context, page = _page(browser, live_site, manager, people["alpha"], viewport=viewport,
                              verified=False)  # fmt: skip
        try:
            page.goto(live_site["alpha"] + "/payments/promo-codes/")
            assert "/account/verify/" in page.url
            why = page.locator("#second-factor-why")
            assert "Promo codes need a second factor: it takes a minute." in why.inner_text()
            assert "back on Promo codes" in why.inner_text()
            if page.locator("select[name=otp_device]").count():
                page.select_option("select[name=otp_device]", device.persistent_id)
            code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
            page.fill("input[name=otp_token]", f"{code:06d}")
            page.click("main form button")
            page.wait_for_url(live_site["alpha"] + "/payments/promo-codes/")
            assert page.locator("#empty-promo-codes").is_visible()
        finally:
            context.close()
            device.delete()
