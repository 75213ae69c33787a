"""Connect onboarding from the "Get paid" page, through local Stripe's hosted onboarding page
driven over HTTP as a browser would (GET the account link, submit its form, follow the redirect
back to the business's host)."""

import urllib.error
import urllib.parse
import urllib.request

import pytest

from connect_payments.models import ConnectedAccount
from tenants.roles import Role
from tests.factories import make_member, member_client


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_browser = urllib.request.build_opener(_NoRedirect)


def browser(method: str, url: str, form: dict | None = None) -> tuple[int, str, str]:
    """(status, Location, body) of one request to local Stripe, redirects not followed."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with _browser.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode()


@pytest.fixture
def owner(tenant_alpha, owner_alpha, fee_plan):
    return member_client(tenant_alpha, owner_alpha, verified=True)


def start(owner) -> str:
    response = owner.post("/payouts/")
    assert response.status_code == 302
    assert "/_local/connect/onboarding/" in response["Location"]
    return response["Location"]


def back_on_our_host(owner, location: str):
    """The browser follows local Stripe's redirect to the business's host."""
    parsed = urllib.parse.urlsplit(location)
    assert parsed.netloc == "alpha.localhost"
    return owner.get(parsed.path)


def test_onboarding_completed(owner, tenant_alpha, sdk):
    page = owner.get("/payouts/")
    assert page.status_code == 200
    assert b"Connect with Stripe" in page.content

    link = start(owner)
    account = ConnectedAccount.objects.get(tenant=tenant_alpha)
    assert not account.charges_enabled
    stripe_account = sdk.v1.accounts.retrieve(account.account_id)
    assert stripe_account.type == "express"
    assert stripe_account.metadata["tenant_schema"] == tenant_alpha.schema_name

    status, _, body = browser("GET", link)
    assert status == 200 and "Complete onboarding" in body
    status, location, _ = browser("POST", link, {"action": "complete"})
    assert status == 303
    assert location == "http://alpha.localhost/payouts/return/"
    returned = back_on_our_host(owner, location)

    assert returned.status_code == 302 and returned["Location"] == "/payouts/"
    account.refresh_from_db()
    assert account.charges_enabled and account.payouts_enabled and account.details_submitted
    assert account.requirements_currently_due == []
    page = owner.get("/payouts/")
    assert b'id="charges-status">Enabled' in page.content
    dashboard = owner.post("/payouts/dashboard/")
    assert dashboard.status_code == 302
    assert f"/_local/connect/dashboard/{account.account_id}" in dashboard["Location"]


def test_onboarding_abandoned_shows_what_stripe_still_requires(owner, tenant_alpha):
    link = start(owner)

    status, location, _ = browser("POST", link, {"action": "abandon"})
    assert status == 303
    back_on_our_host(owner, location)

    account = ConnectedAccount.objects.get(tenant=tenant_alpha)
    assert not account.charges_enabled
    assert "external_account" in account.requirements_currently_due
    page = owner.get("/payouts/")
    assert b"Stripe still needs" in page.content
    assert b"external_account" in page.content
    assert b"Continue with Stripe" in page.content
    assert owner.post("/payouts/dashboard/").status_code == 302  # refused: back to the page
    # Continuing reuses the same Express account: one per tenant.
    start(owner)
    assert ConnectedAccount.objects.filter(tenant=tenant_alpha).count() == 1


def test_spent_link_goes_through_refresh_to_a_new_link(owner, tenant_alpha):
    link = start(owner)
    browser("POST", link, {"action": "abandon"})

    status, location, _ = browser("GET", link)  # the link was used: Stripe sends to refresh_url
    assert status == 303
    assert location == "http://alpha.localhost/payouts/refresh/"
    refreshed = back_on_our_host(owner, location)

    assert refreshed.status_code == 302
    assert "/_local/connect/onboarding/" in refreshed["Location"]
    assert refreshed["Location"] != link


def test_stripe_down_during_onboarding_is_a_message_not_an_error(
    owner, tenant_alpha, stripe_base_url
):
    from stripe_local.testing import local

    local(stripe_base_url, "/_local/fail_next", {"path": "/v1/accounts", "status": 500})
    response = owner.post("/payouts/", follow=True)
    assert response.status_code == 200
    assert b"Stripe could not be reached" in response.content
    assert not ConnectedAccount.objects.filter(tenant=tenant_alpha).exists()


def test_get_paid_is_for_owners_with_a_second_factor(tenant_alpha, owner_alpha):
    manager = make_member(tenant_alpha, Role.MANAGER)
    assert member_client(tenant_alpha, manager, verified=True).get("/payouts/").status_code == 403
    unverified = member_client(tenant_alpha, owner_alpha, verified=False).post("/payouts/")
    assert unverified.status_code == 302
    assert "/_local/" not in unverified["Location"]
    assert not ConnectedAccount.objects.filter(tenant=tenant_alpha).exists()
