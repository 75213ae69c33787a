"""Shape contract: every object local Stripe returns has the keys and value types of Stripe's
official example of that object (fixtures3.json from github.com/stripe/openapi)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stripe_local.shapes import fixtures
from stripe_local.testing import local, onboarded_account, raw

# Keys Stripe sends only in some responses, which its example therefore lacks.
OPTIONAL_EXTRAS = {
    "charge": {"transfer"},
    "event": {"account"},
    "webhook_endpoint": {"secret"},
}


def _kind_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(ours: Any, example: Any, path: str, top: bool, kind: str) -> None:
    if example is None or ours is None:
        return
    if path.endswith(".metadata") or (kind == "event" and path.startswith(".data.")):
        return  # free-form hashes: metadata, and an event's data.object of any type
    if (
        isinstance(example, dict)
        and "id" in example
        and "object" in example
        and isinstance(ours, str)
    ):
        return  # an expandable reference, returned as an id unless expanded
    assert _kind_type(ours) == _kind_type(example), f"{kind}{path}: {ours!r} vs example {example!r}"
    if isinstance(example, dict):
        missing = set(example) - set(ours)
        assert not missing, f"{kind}{path}: missing keys {sorted(missing)}"
        if top:
            extra = set(ours) - set(example) - OPTIONAL_EXTRAS.get(kind, set())
            assert not extra, f"{kind}{path}: keys Stripe's example lacks {sorted(extra)}"
        for key in example:
            assert_same_shape(ours[key], example[key], f"{path}.{key}", False, kind)
    elif isinstance(example, list) and example and ours:
        assert_same_shape(ours[0], example[0], f"{path}[0]", False, kind)


def _get(base_url: str, path: str, account: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": "Bearer sk_test_shape"}
    if account:
        headers["Stripe-Account"] = account
    status, _headers, body = raw(base_url, "GET", path, headers=headers)
    assert status == 200, body
    return body


@pytest.fixture(scope="module")
def samples(stripe_base_url: str) -> dict[str, dict[str, Any]]:
    """One object of every type local Stripe serves, as raw JSON from the API."""
    from stripe_local.testing import make_client

    client = make_client(stripe_base_url)
    base = stripe_base_url
    out: dict[str, dict[str, Any]] = {}
    account = onboarded_account(client, base)
    out["account"] = _get(base, f"/v1/accounts/{account}")
    link = client.v1.account_links.create(
        params={
            "account": account,
            "type": "account_onboarding",
            "return_url": "http://x.localhost/r",
            "refresh_url": "http://x.localhost/f",
        }
    )
    out["account_link"] = link.to_dict()
    out["login_link"] = client.v1.accounts.login_links.create(account).to_dict()
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    out["test_helpers.test_clock"] = _get(base, f"/v1/test_helpers/test_clocks/{clock.id}")
    customer = client.v1.customers.create(
        params={"email": "shape@example.com", "test_clock": clock.id}
    )
    out["customer"] = _get(base, f"/v1/customers/{customer.id}")
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}}
    )
    out["payment_method"] = _get(base, f"/v1/payment_methods/{pm.id}")
    setup = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method": "pm_card_visa", "confirm": True}
    )
    out["setup_intent"] = _get(base, f"/v1/setup_intents/{setup.id}")
    intent = client.v1.payment_intents.create(
        params={
            "amount": 8000,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "application_fee_amount": 800,
            "transfer_data": {"destination": account},
        }
    )
    out["payment_intent"] = _get(base, f"/v1/payment_intents/{intent.id}")
    charge = _get(base, f"/v1/charges/{intent.latest_charge}")
    refund = client.v1.refunds.create(
        params={
            "charge": charge["id"],
            "amount": 1000,
            "reverse_transfer": True,
            "refund_application_fee": True,
        }
    )
    out["charge"] = _get(base, f"/v1/charges/{intent.latest_charge}")
    out["refund"] = _get(base, f"/v1/refunds/{refund.id}")
    out["transfer"] = _get(base, f"/v1/transfers/{charge['transfer']}")
    out["transfer_reversal"] = _get(
        base, f"/v1/transfers/{charge['transfer']}/reversals/{refund.transfer_reversal}"
    )
    out["application_fee"] = _get(base, f"/v1/application_fees/{charge['application_fee']}")
    out["fee_refund"] = out["application_fee"]["refunds"]["data"][0]
    out["balance"] = _get(base, "/v1/balance")
    out["balance_transaction"] = _get(
        base, f"/v1/balance_transactions/{charge['balance_transaction']}"
    )
    product = client.v1.products.create(params={"name": "Shape"})
    out["product"] = _get(base, f"/v1/products/{product.id}")
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
        }
    )
    out["price"] = _get(base, f"/v1/prices/{price.id}")
    coupon = client.v1.coupons.create(params={"percent_off": 10.5, "duration": "forever"})
    out["coupon"] = _get(base, f"/v1/coupons/{coupon.id}")
    promo = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}}
    )
    out["promotion_code"] = _get(base, f"/v1/promotion_codes/{promo.id}")
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "discounts": [{"coupon": coupon.id}],
        }
    )
    out["subscription"] = _get(base, f"/v1/subscriptions/{sub.id}")
    out["subscription_item"] = _get(base, f"/v1/subscription_items/{sub['items'].data[0].id}")
    out["plan"] = out["subscription_item"]["plan"]
    out["discount"] = _get(base, f"/v1/subscriptions/{sub.id}?expand[]=discounts")["discounts"][0]
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    out["subscription_schedule"] = _get(base, f"/v1/subscription_schedules/{schedule.id}")
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 500, "currency": "eur"}
    )
    item = client.v1.invoice_items.list(params={"customer": customer.id, "limit": 1}).data[0]
    out["invoiceitem"] = _get(base, f"/v1/invoiceitems/{item.id}")
    invoice = _get(base, f"/v1/invoices/{sub.latest_invoice}")
    out["invoice"] = invoice
    out["line_item"] = invoice["lines"]["data"][0]
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/h", "enabled_events": ["*"]}
    )
    out["webhook_endpoint"] = _get(base, f"/v1/webhook_endpoints/{endpoint.id}")
    client.v1.webhook_endpoints.delete(endpoint.id)
    local(base, "/_local/webhooks/wait", {"timeout": 1})
    out["event"] = _get(base, "/v1/events?limit=1")["data"][0]
    deleted = client.v1.customers.create(params={})
    out["deleted_customer"] = client.v1.customers.delete(deleted.id).to_dict()
    return out


KINDS = [
    "account",
    "account_link",
    "login_link",
    "test_helpers.test_clock",
    "customer",
    "payment_method",
    "setup_intent",
    "payment_intent",
    "charge",
    "refund",
    "transfer",
    "transfer_reversal",
    "application_fee",
    "fee_refund",
    "balance",
    "balance_transaction",
    "product",
    "price",
    "plan",
    "coupon",
    "promotion_code",
    "subscription",
    "subscription_item",
    "subscription_schedule",
    "discount",
    "invoiceitem",
    "invoice",
    "line_item",
    "webhook_endpoint",
    "event",
    "deleted_customer",
]


@pytest.mark.parametrize("kind", KINDS)
def test_object_matches_stripe_example_shape(samples: dict[str, dict[str, Any]], kind: str) -> None:
    ours = samples[kind]
    example = fixtures()[kind]
    if "object" in example:
        assert ours["object"] == example["object"]
    if "id" in ours and isinstance(example.get("id"), str) and "_" in example["id"]:
        prefix = example["id"].split("_", 1)[0]
        if kind not in ("coupon", "line_item", "plan"):
            assert ours["id"].startswith(prefix + "_"), (ours["id"], prefix)
    if "livemode" in ours:
        assert ours["livemode"] is False
    assert_same_shape(ours, example, "", True, kind)
