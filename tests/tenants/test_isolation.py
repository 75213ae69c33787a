"""Tenant isolation: members of one business never see or reach another's pages or rows."""

import pytest
from django.urls import get_resolver

from tenants.middleware import CUSTOMER_PATH_PREFIXES
from tenants.models import Membership
from tests.factories import client_for, make_member, member_client

# Every back-office page of a tenant host (customer pages such as /book/ are public by design).
TENANT_PAGES = ["/", "/calendar/", "/bookings/", "/payments/", "/branding/", "/payouts/",
                "/billing/", "/team/", "/account/two_factor/"]  # fmt: skip


def _flat_paths(patterns, prefix: str = "") -> set[str]:
    paths = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            paths |= _flat_paths(pattern.url_patterns, route)
        elif "<" not in route:
            paths.add("/" + route)
    return paths


def test_every_back_office_url_is_in_the_isolation_list():
    """Adding a back-office page without covering it here fails this test."""
    resolver = get_resolver("saas_platform.urls_tenant")
    account_pages = {p for p in _flat_paths(resolver.url_patterns) if p.startswith("/account/")}
    back_office = {
        path
        for path in _flat_paths(resolver.url_patterns)
        if not path.startswith(CUSTOMER_PATH_PREFIXES) and path not in account_pages
    }
    assert back_office <= set(TENANT_PAGES), back_office - set(TENANT_PAGES)
    assert "/api/v1/services/" in _flat_paths(resolver.url_patterns)  # walked into includes


@pytest.mark.parametrize("path", TENANT_PAGES)
def test_member_of_alpha_gets_404_on_every_page_of_beta(tenant_alpha, tenant_beta, path):
    alpha_owner = tenant_alpha.memberships.get(role="owner").user
    client = member_client(tenant_beta, alpha_owner, verified=True)  # session bound to beta
    response = client.get(path)
    assert response.status_code == 404


def test_owner_reaches_their_own_pages(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    for path in TENANT_PAGES:
        assert client.get(path).status_code == 200, path


def test_session_signed_in_on_alpha_is_anonymous_on_beta(tenant_alpha, tenant_beta, owner_alpha):
    # Same cookie jar (the Django test client sends every cookie to every host).
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    assert client.get("/", HTTP_HOST="alpha.localhost").status_code == 200
    on_beta = client.get("/", HTTP_HOST="beta.localhost")
    assert on_beta.status_code == 302  # anonymous: sent to sign in, not a member's page
    assert on_beta["Location"].startswith("/account/login/")


def test_member_of_both_sees_only_current_tenant_team(tenant_alpha, tenant_beta):
    both = make_member(tenant_alpha, "owner", name="Dana Both")
    Membership.objects.create(user=both, tenant=tenant_beta, role="owner")
    only_beta = make_member(tenant_beta, "staff", name="Bruno OnlyBeta")
    alpha_page = member_client(tenant_alpha, both, verified=True).get("/team/")
    assert b"Dana Both" in alpha_page.content
    assert b"Bruno OnlyBeta" not in alpha_page.content
    beta_page = member_client(tenant_beta, both, verified=True).get("/team/")
    assert only_beta.full_name.encode() in beta_page.content


def test_unknown_host_is_404(db):
    response = client_for().get("/", HTTP_HOST="nobody.localhost")
    assert response.status_code == 404
    assert b"no business at this address" in response.content


def test_deactivated_member_gets_404(tenant_alpha):
    user = make_member(tenant_alpha, "manager")
    Membership.objects.filter(user=user).update(is_active=False)
    assert member_client(tenant_alpha, user, verified=True).get("/").status_code == 404
