"""Requests, errors, idempotency, pagination, expand and Stripe-Account scoping."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
import stripe

from stripe_local.core import decode_form
from stripe_local.server import serve_in_thread, start_subprocess
from stripe_local.testing import local, make_client, raw


def test_nested_form_parameters_decode_to_dicts_and_lists() -> None:
    decoded = decode_form(
        "metadata[key]=v&items[0][price]=price_1&items[0][quantity]=2&items[1][price]=price_2"
        "&expand[]=a&expand[]=b.c&metadata[0]=zero"
    )
    assert decoded == {
        "metadata": {"key": "v", "0": "zero"},
        "items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
        "expand": ["a", "b.c"],
    }


def test_missing_api_key_is_an_authentication_error(stripe_base_url: str) -> None:
    status, _headers, body = raw(stripe_base_url, "GET", "/v1/customers")
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    with pytest.raises(stripe.AuthenticationError):
        make_client(stripe_base_url, api_key="sk_live_nope").v1.customers.list()


def test_publishable_key_is_refused_on_secret_endpoints(stripe_base_url: str) -> None:
    with pytest.raises(stripe.AuthenticationError, match="publishable API key"):
        make_client(stripe_base_url, api_key="pk_test_local").v1.customers.list()


def test_basic_auth_is_accepted(stripe_base_url: str) -> None:
    import base64

    token = base64.b64encode(b"sk_test_local:").decode()
    status, headers, body = raw(
        stripe_base_url, "GET", "/v1/customers", headers={"Authorization": f"Basic {token}"}
    )
    assert status == 200
    assert body["object"] == "list"
    assert headers["Request-Id"].startswith("req_")


def test_unknown_parameter_is_refused_like_stripe(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"email": "a@example.com", "colour": "blue"})  # type: ignore[typeddict-unknown-key]
    assert raised.value.http_status == 400
    assert raised.value.param == "colour"
    assert raised.value.user_message == "Received unknown parameter: colour"
    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "eur", "transfer_data": {"nope": "x"}}  # type: ignore[typeddict-unknown-key]
        )
    assert nested.value.param == "transfer_data[nope]"


def test_missing_object_is_a_404_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.retrieve("cus_doesnotexist")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert "No such customer: 'cus_doesnotexist'" in str(raised.value)


def test_unknown_url_is_a_404(stripe_base_url: str) -> None:
    status, _headers, body = raw(
        stripe_base_url, "GET", "/v1/nothing_here", headers={"Authorization": "Bearer sk_test_x"}
    )
    assert status == 404
    assert "Unrecognized request URL" in body["error"]["message"]


def test_idempotency_key_replays_the_same_response(stripe_base_url: str) -> None:
    headers = {"Authorization": "Bearer sk_test_x", "Idempotency-Key": "idem-replay-1"}
    first = raw(stripe_base_url, "POST", "/v1/customers", "email=a%40example.com", headers)
    second = raw(stripe_base_url, "POST", "/v1/customers", "email=a%40example.com", headers)
    assert first[0] == second[0] == 200
    assert first[2] == second[2]
    assert second[1].get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first[1]


def test_idempotency_key_reused_with_other_parameters_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    options: dict = {"idempotency_key": "idem-conflict-1"}
    client.v1.customers.create(params={"email": "one@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.customers.create(params={"email": "two@example.com"}, options=options)
    assert raised.value.http_status == 400


def test_idempotency_keys_are_scoped_per_account(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    from stripe_local.testing import onboarded_account

    account = onboarded_account(client, stripe_base_url)
    platform = client.v1.customers.create(
        params={"email": "p@example.com"}, options={"idempotency_key": "idem-scope"}
    )
    connected = client.v1.customers.create(
        params={"email": "p@example.com"},
        options={"idempotency_key": "idem-scope", "stripe_account": account},
    )
    assert platform.id != connected.id


def test_card_errors_are_replayed_under_their_idempotency_key(client: stripe.StripeClient) -> None:
    params: dict = {
        "amount": 2000,
        "currency": "eur",
        "payment_method": "pm_card_chargeDeclined",
        "confirm": True,
    }
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as raised:
            client.v1.payment_intents.create(
                params=params, options={"idempotency_key": "idem-card"}
            )
        errors.append(raised.value)
    assert errors[0].json_body == errors[1].json_body
    assert errors[1].headers["idempotent-replayed"] == "true"


def test_fail_next_makes_requests_fail_and_the_sdk_retry_with_the_same_key_succeeds(
    stripe_base_url: str,
) -> None:
    local(
        stripe_base_url,
        "/_local/fail_next",
        {"path": "/v1/payment_intents", "method": "POST", "status": 500, "count": 1},
    )
    retrying = make_client(stripe_base_url, max_network_retries=2)
    intent = retrying.v1.payment_intents.create(
        params={"amount": 1500, "currency": "eur"}, options={"idempotency_key": "idem-retry-500"}
    )
    assert intent.status == "requires_payment_method"
    local(stripe_base_url, "/_local/fail_next", {"path": "/v1/customers", "status": 500})
    with pytest.raises(stripe.APIError) as raised:
        make_client(stripe_base_url).v1.customers.create(params={"email": "x@example.com"})
    assert raised.value.http_status == 500


def test_list_pagination_with_starting_after_and_ending_before(client: stripe.StripeClient) -> None:
    tag = str(time.time_ns())
    created = [
        client.v1.products.create(params={"name": f"Page {i}", "metadata": {"tag": tag}}).id
        for i in range(5)
    ]
    newest_first = list(reversed(created))
    first = client.v1.products.list(params={"limit": 2})
    assert first.object == "list"
    assert first.url == "/v1/products"
    assert [p.id for p in first.data] == newest_first[:2]
    assert first.has_more is True
    second = client.v1.products.list(params={"limit": 2, "starting_after": first.data[-1].id})
    assert [p.id for p in second.data] == newest_first[2:4]
    back = client.v1.products.list(params={"limit": 2, "ending_before": second.data[0].id})
    assert [p.id for p in back.data] == newest_first[:2]
    ids = [p.id for p in client.v1.products.list(params={"limit": 3}).auto_paging_iter()]
    assert ids[:5] == newest_first
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.list(params={"limit": 101})


def test_expand_nested_properties(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "expand": ["latest_charge.balance_transaction", "payment_method"],
        }
    )
    assert intent.latest_charge.object == "charge"
    assert intent.latest_charge.balance_transaction.object == "balance_transaction"
    assert intent.payment_method.object == "payment_method"
    listed = client.v1.payment_intents.list(params={"limit": 1, "expand": ["data.latest_charge"]})
    assert listed.data[0].latest_charge.object == "charge"
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.payment_intents.retrieve(intent.id, params={"expand": ["nonsense"]})


def test_objects_of_one_account_are_invisible_to_others(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    from stripe_local.testing import onboarded_account

    first = onboarded_account(client, stripe_base_url)
    second = onboarded_account(client, stripe_base_url)
    customer = client.v1.customers.create(
        params={"email": "c@example.com"}, options={"stripe_account": first}
    )
    assert client.v1.customers.retrieve(customer.id, options={"stripe_account": first}).id
    for options in ({"stripe_account": second}, {}):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.customers.retrieve(customer.id, options=options)  # type: ignore[arg-type]
        assert raised.value.http_status == 404
    listed = client.v1.customers.list(params={"limit": 100}, options={"stripe_account": second})
    assert customer.id not in [c.id for c in listed.data]


def test_unknown_stripe_account_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.PermissionError):
        client.v1.customers.list(options={"stripe_account": "acct_1Unknown"})


def test_stripe_version_header_is_accepted(stripe_base_url: str) -> None:
    status, headers, _body = raw(
        stripe_base_url,
        "GET",
        "/v1/account",
        headers={"Authorization": "Bearer sk_test_x", "Stripe-Version": "2024-06-20"},
    )
    assert status == 200
    assert headers["Stripe-Version"]


def test_reset_clears_state_and_state_file_persists(tmp_path) -> None:
    state_file = tmp_path / "stripe.json"
    base_url, stop = serve_in_thread(state_file=str(state_file))
    customer = make_client(base_url).v1.customers.create(params={"email": "keep@example.com"})
    stop()
    assert json.loads(state_file.read_text())["records"]
    base_url, stop = serve_in_thread(state_file=str(state_file))
    try:
        client = make_client(base_url)
        assert client.v1.customers.retrieve(customer.id).email == "keep@example.com"
        local(base_url, "/_local/reset", {})
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.retrieve(customer.id)
    finally:
        stop()


def test_server_runs_as_a_subprocess() -> None:
    base_url, process = start_subprocess(port=0)
    try:
        with urllib.request.urlopen(base_url + "/_local/health", timeout=5) as response:
            assert json.loads(response.read()) == {"ok": True}
        assert make_client(base_url).v1.balance.retrieve().object == "balance"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cors_preflight_allows_stripe_js_headers(stripe_base_url: str) -> None:
    request = urllib.request.Request(
        stripe_base_url + "/v1/payment_intents/pi_x/confirm",
        method="OPTIONS",
        headers={"Origin": "http://zen.localhost:8000"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "http://zen.localhost:8000"
        assert "Stripe-Account" in response.headers["Access-Control-Allow-Headers"]
