"""Object shapes from Stripe's official fixtures (fixtures3.json, github.com/stripe/openapi, MIT).

`blank(kind)` gives a new object with every key of Stripe's example and neutral values: nested
hashes keep their keys, lists are empty, strings and numbers are null, booleans keep the example.
Resources then fill in what they know. See LICENSE-openapi beside this file.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

# Top-level hashes that Stripe returns as null until they mean something (for example a
# PaymentIntent's next_action), rather than as a hash of nulls.
NULL_HASHES: dict[str, set[str]] = {
    "payment_intent": {
        "last_payment_error",
        "next_action",
        "processing",
        "shipping",
        "transfer_data",
        "payment_method_configuration_details",
        "canceled_at",
        "managed_payments",
    },
    "setup_intent": {"last_setup_error", "next_action", "payment_method_configuration_details"},
    "charge": {"shipping", "source", "transfer_data", "fraud_details"},
    "customer": {"discount", "shipping", "address"},
    "refund": set(),
    "subscription": {
        "pause_collection",
        "pending_invoice_item_interval",
        "pending_update",
        "transfer_data",
        "billing_cycle_anchor_config",
        "billing_thresholds",
        "managed_payments",
    },
    "subscription_item": {"billing_thresholds"},
    "invoice": {
        "from_invoice",
        "last_finalization_error",
        "shipping_cost",
        "shipping_details",
        "customer_shipping",
        "parent",
        "customer_address",
    },
    "line_item": {"parent"},
    "invoiceitem": {"parent"},
    "price": {"custom_unit_amount", "transform_quantity", "recurring"},
    "plan": {"transform_usage"},
    "product": {"package_dimensions"},
}


def fixtures_path() -> Path:
    """Where fixtures3.json is: $STRIPE_LOCAL_FIXTURES, the package's copy, or ../shared/stripe."""
    explicit = os.environ.get("STRIPE_LOCAL_FIXTURES")
    if explicit:
        return Path(explicit)
    bundled = Path(__file__).with_name("fixtures3.json")
    if bundled.exists():
        return bundled
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "stripe" / "fixtures3.json"
        if candidate.exists():
            return candidate
        sibling = parent.parent / "shared" / "stripe" / "fixtures3.json"
        if sibling.exists():
            return sibling
    raise FileNotFoundError("fixtures3.json not found; set STRIPE_LOCAL_FIXTURES")


@functools.cache
def fixtures() -> dict[str, Any]:
    """The `resources` map of fixtures3.json: object name -> Stripe's example object."""
    with fixtures_path().open(encoding="utf-8") as handle:
        return json.load(handle)["resources"]


def _blank_value(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("object") == "list":
            return {"object": "list", "data": [], "has_more": False, "url": value.get("url")}
        if "id" in value and "object" in value:
            return None
        return {key: _blank_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return []
    if isinstance(value, bool):
        return value
    return None


@functools.cache
def _blank_template(kind: str) -> dict[str, Any]:
    example = fixtures()[kind]
    blank = {key: _blank_value(value) for key, value in example.items()}
    for key in NULL_HASHES.get(kind, ()):
        if key in blank:
            blank[key] = None
    if "object" in example:
        blank["object"] = example["object"]
    if "livemode" in blank:
        blank["livemode"] = False
    if "metadata" in blank:
        blank["metadata"] = {}
    return blank


def blank(kind: str) -> dict[str, Any]:
    """A fresh object of `kind` with Stripe's keys and neutral values."""
    return copy.deepcopy(_blank_template(kind))
