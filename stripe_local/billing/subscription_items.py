"""/v1/subscription_items (read-only; items change through their subscription)."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, paginate, where
from stripe_local.app.registry import renderer, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.products import plan_from_price
from stripe_local.core import ANY


@renderer("subscription_item")
def _render_item(state: State, record: Record, obj: dict[str, Any]) -> None:
    price = state.store.find(record.data["price"])
    if price is not None:
        obj["price"] = state.render(price)
        obj["plan"] = plan_from_price(price.data)


@route("GET", "/v1/subscription_items", spec={**LIST_SPEC, "subscription": ANY})
def subscription_item_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    sub_id = core.get_str(params, "subscription", required=True)
    ctx.store.get("subscription", sub_id, ctx.account, param="subscription")
    return paginate(
        ctx,
        "subscription_item",
        params,
        f"/v1/subscription_items?subscription={sub_id}",
        where(lambda r: r.data["subscription"] == sub_id),
    )


@route("GET", "/v1/subscription_items/{id}", spec={})
def subscription_item_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("subscription_item", id, ctx.account))
