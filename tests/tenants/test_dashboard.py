"""The dashboard links every section a role may open, and each link opens."""

import pytest

from tenants.navigation import SECTIONS
from tenants.roles import Role, role_allows
from tests.factories import make_member, member_client


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_dashboard_links_open_for_the_role_that_sees_them(tenant_alpha, role):
    client = member_client(tenant_alpha, make_member(tenant_alpha, role), verified=True)
    dashboard = client.get("/").content.decode()
    for permission, label, url in SECTIONS:
        if role_allows(role, permission):
            assert f'href="{url}"' in dashboard, label
            assert client.get(url).status_code == 200, url
        else:
            assert f'href="{url}"' not in dashboard, label
