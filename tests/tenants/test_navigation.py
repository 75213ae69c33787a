"""The back office's side menu: exactly the sections of each role, the current one marked, and
the second-factor pages saying why they are asked for."""

import re

import pytest

from tenants.navigation import NAVIGATION, navigation_for, second_factor_reason, section_for_path
from tenants.roles import Role, role_allows
from tests.factories import client_for, make_member, member_client


def _menu_links(html: str) -> list[str]:
    menu = re.search(r'<nav id="backoffice-nav".*?</nav>', html, re.S)
    assert menu is not None, "no back-office menu on the page"
    return re.findall(r'href="([^"]+)"', menu.group(0))


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_menu_shows_exactly_the_sections_of_the_role(tenant_alpha, role):
    client = member_client(tenant_alpha, make_member(tenant_alpha, role), verified=True)
    links = _menu_links(client.get("/calendar/").content.decode())
    expected = [
        item.url
        for group in NAVIGATION
        for item in group.items
        if role_allows(role, item.permission)
    ]
    # The business's name links to the landing page before the sections.
    assert links == ["/", *expected]
    for url in expected:
        assert client.get(url).status_code == 200, url


def test_staff_see_only_their_calendar_pages_and_their_customers():
    # Customers: staff see the customers of their own bookings only (docs/roles.md).
    groups = navigation_for(role=Role.STAFF, path="/")
    assert [group["label"] for group in groups] == ["Today", "Calendar", "Customers"]


def test_the_current_section_is_marked_for_the_longest_matching_address(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    html = client.get("/payments/promo-codes/").content.decode()
    assert html.count('aria-current="page"') == 1
    assert re.search(r'<a href="/payments/promo-codes/" aria-current="page">', html)
    assert section_for_path("/bookings/ABC123/").url == "/bookings/"
    assert section_for_path("/").url == "/"
    assert section_for_path("/nowhere/") is None


def test_the_phone_menu_button_controls_the_menu(tenant_alpha, owner_alpha):
    html = member_client(tenant_alpha, owner_alpha, verified=True).get("/").content.decode()
    assert 'aria-controls="backoffice-nav"' in html
    assert 'aria-expanded="false"' in html
    assert 'aria-label="Back office"' in html


def test_pages_without_a_member_have_no_menu(db):
    assert 'id="backoffice-nav"' not in client_for(None).get("/signup/").content.decode()


def test_a_money_page_says_why_it_asks_for_a_second_factor(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=False)
    response = client.get("/payments/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Payments need a second factor: it takes a minute." in page
    assert "back on Payments" in page
    assert second_factor_reason("/team/") == "Team needs a second factor: it takes a minute."
    assert second_factor_reason("/calendar/") == ""
