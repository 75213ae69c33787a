"""`add_invoice_items` of a new subscription: one-time prices (a joining fee) billed on its first
invoice only, as pending invoice items of the subscription that the first invoice pulls in."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.store import Record
from stripe_local.billing.invoice_items import invoice_item_create
from stripe_local.core import StripeError


def check_added_items(ctx: Context, given: Any, currency: str) -> list[dict[str, Any]]:
    """The invoice-item parameters of `add_invoice_items`, checked before anything is stored."""
    if given in (None, "", []):
        return []
    if not isinstance(given, list):
        raise StripeError("Invalid array", param="add_invoice_items")
    if len(given) > 20:
        raise StripeError(
            "You can only add up to 20 invoice items at a time.", param="add_invoice_items"
        )
    made = []
    for index, item in enumerate(given):
        name = f"add_invoice_items[{index}]"
        if not isinstance(item, dict):
            raise StripeError(f"Invalid {name}: must be a hash", param=name)
        quantity = core.get_int(item, "quantity", default=1, minimum=1, label=f"{name}[quantity]")
        params: dict[str, Any] = {"quantity": quantity}
        if item.get("price"):
            price = ctx.store.get("price", item["price"], ctx.account, param=f"{name}[price]")
            if price.data["type"] != "one_time":
                raise StripeError(
                    "The price specified is set to `type=recurring` but this field only accepts "
                    "prices with `type=one_time`.",
                    param=f"{name}[price]",
                )
            if price.data["currency"] != currency:
                raise StripeError(
                    "All prices on a subscription must have the same currency.",
                    param=f"{name}[price]",
                )
            params["pricing"] = {"price": price.id}
        elif isinstance(item.get("price_data"), dict):
            data = item["price_data"]
            unit = core.get_int(
                data,
                "unit_amount",
                required=True,
                minimum=0,
                label=f"{name}[price_data][unit_amount]",
            )
            if str(data.get("currency") or "").lower() != currency:
                raise StripeError(
                    "All prices on a subscription must have the same currency.",
                    param=f"{name}[price_data][currency]",
                )
            params.update(amount=(unit or 0) * (quantity or 1), currency=currency)
        else:
            raise StripeError(f"Missing required param: {name}[price].", param=f"{name}[price]")
        if isinstance(item.get("metadata"), dict):
            params["metadata"] = item["metadata"]
        made.append(params)
    return made


def add_items_to_first_invoice(ctx: Context, sub: Record, items: list[dict[str, Any]]) -> None:
    """Store the checked items as the subscription's pending invoice items."""
    for params in items:
        created = invoice_item_create(ctx, {"customer": sub.data["customer"], **params})
        record = ctx.store.records[created["id"]]
        record.internal["subscription"] = sub.id
        record.data["parent"] = {
            "subscription_details": {"subscription": sub.id, "subscription_item": None},
            "type": "subscription_details",
        }
