"""Tenant isolation: members of one business never see or reach another's pages or rows."""

import re

import pytest
from django.urls import get_resolver

from tenants.middleware import ACCOUNT_PATH_PREFIXES, CUSTOMER_PATH_PREFIXES
from tenants.models import Membership
from tests.factories import client_for, host_of, make_member, member_client

# Back-office pages an owner opens with GET (customer pages such as /book/ are public by design).
TENANT_PAGES = ["/", "/calendar/", "/bookings/", "/customers/", "/payments/", "/branding/",
                "/payouts/", "/billing/", "/team/", "/account/two_factor/"]  # fmt: skip
SAMPLE_ARGUMENTS = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000000"}


def _flat_paths(patterns, prefix: str = "") -> set[str]:
    """Every route of a URLconf, with sample values in place of its parameters."""
    paths = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            paths |= _flat_paths(pattern.url_patterns, route)
        else:
            paths.add("/" + re.sub(r"<(?:(\w+):)?\w+>", _sample, route))
    return paths


def _sample(match: re.Match) -> str:
    return SAMPLE_ARGUMENTS.get(match.group(1) or "str", "sample")


def _back_office_paths() -> list[str]:
    """Tenant-host paths that need a membership: all but customer and account paths."""
    every_path = _flat_paths(get_resolver("saas_platform.urls.tenant").url_patterns)
    return sorted(
        path
        for path in every_path
        if not path.startswith(CUSTOMER_PATH_PREFIXES + ACCOUNT_PATH_PREFIXES)
    )


BACK_OFFICE_PAGES = _back_office_paths()


def test_the_route_walk_finds_pages_inside_includes():
    assert set(TENANT_PAGES) - {"/account/two_factor/"} <= set(BACK_OFFICE_PAGES)
    every_path = _flat_paths(get_resolver("saas_platform.urls.tenant").url_patterns)
    assert "/api/v1/services/" in every_path
    assert "/api/v1/bookings/sample/cancel/" in every_path


@pytest.mark.parametrize("path", BACK_OFFICE_PAGES + ["/account/two_factor/"])
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


def test_a_host_in_capitals_is_the_same_business(tenant_alpha, owner_alpha):
    lower = member_client(tenant_alpha, owner_alpha).get("/")
    upper = member_client(tenant_alpha, owner_alpha).get(
        "/", HTTP_HOST=host_of(tenant_alpha).upper()
    )
    assert lower.status_code == 200
    assert upper.status_code == 200
    assert tenant_alpha.name.encode() in upper.content


def test_deactivated_member_gets_404(tenant_alpha):
    user = make_member(tenant_alpha, "manager")
    Membership.objects.filter(user=user).update(is_active=False)
    assert member_client(tenant_alpha, user, verified=True).get("/").status_code == 404
