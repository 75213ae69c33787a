"""The permission matrix of docs/roles.md, page by page, with a verified second factor."""

import pytest

from tenants.roles import PERMISSION_MATRIX, Permission, Role, role_allows
from tests.factories import make_member, member_client

# page → roles that may open it (everyone else: 403)
PAGE_ACCESS = {
    "/": {"owner", "manager", "front_desk", "staff"},
    "/calendar/": {"owner", "manager", "front_desk", "staff"},
    "/bookings/": {"owner", "manager", "front_desk"},
    "/customers/": {"owner", "manager", "front_desk", "staff"},  # staff: their bookings' only
    "/payments/": {"owner", "manager"},
    "/payments/export.csv": {"owner", "manager"},
    "/branding/": {"owner", "manager"},
    "/team/": {"owner", "manager"},
    "/payouts/": {"owner"},
    "/billing/": {"owner"},
}


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("path", list(PAGE_ACCESS))
def test_page_access_follows_the_matrix(tenant_alpha, role, path):
    user = make_member(tenant_alpha, role)
    response = member_client(tenant_alpha, user, verified=True).get(path)
    expected = 200 if role in PAGE_ACCESS[path] else 403
    assert response.status_code == expected


def test_matrix_in_docs_matches_code():
    """docs/roles.md carries the same matrix as tenants/roles.py."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "roles.md").read_text()
    for permission, roles in PERMISSION_MATRIX.items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{permission}`"))
        cells = [cell.strip() for cell in row.strip("|").split("|")][1:5]
        expected = ["yes" if r in roles else "no" for r in Role]
        assert cells == expected, permission


def test_staff_cannot_touch_money_and_front_desk_cannot_touch_payouts():
    assert not role_allows("staff", Permission.VIEW_MONEY)
    assert not role_allows("staff", Permission.VIEW_ALL_BOOKINGS)
    assert role_allows("front_desk", Permission.VIEW_ALL_BOOKINGS)
    assert not role_allows("front_desk", Permission.MANAGE_PAYOUTS)
    assert not role_allows("front_desk", Permission.VIEW_MONEY)
    assert not role_allows("manager", Permission.MANAGE_BILLING)
    assert not role_allows("manager", Permission.TRANSFER_OWNERSHIP)
    assert all(role_allows("owner", p) for p in Permission)
