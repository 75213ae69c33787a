"""Connect: Express accounts, onboarding through account links, login links, the platform."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
import stripe

from stripe_local.testing import local


def _express(client: stripe.StripeClient) -> stripe.Account:
    return client.v1.accounts.create(
        params={
            "type": "express",
            "country": "FR",
            "email": "studio@example.com",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "metadata": {"tenant": "zen"},
        }
    )


def test_new_express_account_is_not_yet_enabled(client: stripe.StripeClient) -> None:
    account = _express(client)
    assert account.id.startswith("acct_")
    assert account.type == "express"
    assert account.charges_enabled is False
    assert account.payouts_enabled is False
    assert account.details_submitted is False
    assert account.capabilities.card_payments == "inactive"
    assert "external_account" in account.requirements.currently_due
    assert account.metadata["tenant"] == "zen"


def test_platform_account_is_retrievable(client: stripe.StripeClient) -> None:
    platform = client.v1.accounts.retrieve_current()
    assert platform.charges_enabled is True
    assert platform.id.startswith("acct_")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _open(url: str, data: bytes | None = None) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=5) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), ""


def test_account_link_onboarding_page_completes_and_redirects_to_return_url(
    client: stripe.StripeClient,
) -> None:
    account = _express(client)
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "http://zen.localhost:8000/connect/refresh",
            "return_url": "http://zen.localhost:8000/connect/return",
        }
    )
    assert link.object == "account_link"
    status, _location, page = _open(link.url)
    assert status == 200 and "Complete onboarding" in page
    status, location, _ = _open(link.url, urllib.parse.urlencode({"action": "complete"}).encode())
    assert (status, location) == (303, "http://zen.localhost:8000/connect/return")
    done = client.v1.accounts.retrieve(account.id)
    assert done.details_submitted and done.charges_enabled and done.payouts_enabled
    assert done.capabilities.card_payments == "active"
    assert done.requirements.currently_due == []
    # Account links are single-use: a second visit goes to refresh_url.
    assert _open(link.url)[1] == "http://zen.localhost:8000/connect/refresh"
    events = client.v1.events.list(
        params={"type": "account.updated", "limit": 5}, options={"stripe_account": account.id}
    )
    event = next(e for e in events.data if e.data.object.id == account.id)
    assert event.account == account.id
    assert event.data.previous_attributes["charges_enabled"] is False


def test_abandoned_onboarding_leaves_the_account_restricted(client: stripe.StripeClient) -> None:
    account = _express(client)
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "http://zen.localhost:8000/r",
            "return_url": "http://zen.localhost:8000/done",
        }
    )
    status, location, _ = _open(link.url, b"action=abandon")
    assert (status, location) == (303, "http://zen.localhost:8000/done")
    assert client.v1.accounts.retrieve(account.id).details_submitted is False


def test_login_link_needs_completed_onboarding(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    account = _express(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.login_links.create(account.id)
    local(stripe_base_url, f"/_local/accounts/{account.id}/complete_onboarding", {})
    login = client.v1.accounts.login_links.create(account.id)
    assert login.object == "login_link"
    assert _open(login.url)[0] == 200


def test_account_update_list_and_delete(client: stripe.StripeClient) -> None:
    account = _express(client)
    updated = client.v1.accounts.update(
        account.id, params={"email": "new@example.com", "business_profile": {"name": "Zen"}}
    )
    assert updated.email == "new@example.com"
    assert updated.business_profile.name == "Zen"
    assert account.id in [a.id for a in client.v1.accounts.list(params={"limit": 100}).data]
    assert client.v1.accounts.delete(account.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.retrieve(account.id)


def test_destination_charge_needs_an_active_transfers_capability(
    client: stripe.StripeClient,
) -> None:
    account = _express(client)
    with pytest.raises(stripe.InvalidRequestError, match="capabilities"):
        client.v1.payment_intents.create(
            params={"amount": 2000, "currency": "eur", "transfer_data": {"destination": account.id}}
        )
