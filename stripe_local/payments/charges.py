"""/v1/charges (rendered with their refunds), nested refunds, and the local receipt page."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, created, equals, paginate, where
from stripe_local.app.registry import LocalReply, html_reply, local_helper, renderer, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP


@renderer("charge")
def _render_charge(state: State, record: Record, obj: dict[str, Any]) -> None:
    refunds = (
        [
            state.render(r)
            for r in state.store.iter_newest_first(record.owner, "refund")
            if r.data["charge"] == record.id
        ][:10]
        if record.data["amount_refunded"]
        else []
    )
    obj["refunds"] = {
        "object": "list",
        "data": refunds,
        "has_more": False,
        "url": f"/v1/charges/{record.id}/refunds",
    }
    if record.internal.get("transfer"):
        obj["transfer"] = record.internal["transfer"]


@route("GET", "/v1/charges/{id}", spec={})
def charge_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("charge", id, ctx.account, param="charge"))


@route(
    "POST",
    "/v1/charges/{id}",
    spec={
        "metadata": MAP,
        "description": ANY,
        "receipt_email": ANY,
        "fraud_details": MAP,
        "shipping": MAP,
        "transfer_group": ANY,
        "customer": ANY,
    },
)
def charge_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("charge", id, ctx.account, param="charge")
    before = core.deep_copy(record.data)
    for name in ("description", "receipt_email", "transfer_group"):
        if name in params:
            record.data[name] = core.get_str(params, name)
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data[k]}
    if previous:
        ctx.state.emit("charge.updated", record, previous)
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/charges",
    spec={**LIST_SPEC, "customer": ANY, "payment_intent": ANY, "transfer_group": ANY},
)
def charge_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "charge",
        params,
        "/v1/charges",
        equals("customer"),
        equals("payment_intent"),
        created(),
    )


@route("GET", "/v1/charges/{id}/refunds", spec=LIST_SPEC)
def charge_refunds(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("charge", id, ctx.account, param="charge")
    return paginate(
        ctx, "refund", params, f"/v1/charges/{id}/refunds", where(lambda r: r.data["charge"] == id)
    )


@route("GET", "/v1/charges/{charge}/refunds/{id}", spec={})
def charge_refund_retrieve(
    ctx: Context, params: dict[str, Any], charge: str, id: str
) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("refund", id, ctx.account)
    if record.data["charge"] != charge:
        raise core.not_found("refund", id)
    return ctx.state.render(record)


@local_helper("receipts")
def receipt_helper(
    state: State, method: str, parts: list[str], params: dict[str, Any]
) -> LocalReply | None:
    """/_local/receipts/<charge>: the page a charge's receipt_url points at."""
    if len(parts) != 2:
        return None
    return html_reply(_receipt_page(state, parts[1]))


def _receipt_page(state: State, charge_id: str) -> tuple[int, dict[str, str], str]:
    with state.lock:
        charge = state.store.find(charge_id)
        if charge is None or charge.kind != "charge":
            return 404, {}, "<h1>No such receipt</h1>"
        amount = core.format_amount(charge.data["amount"], charge.data["currency"])
    return 200, {}, f"<!doctype html><h1>Receipt</h1><p>{charge_id}: {amount}</p>"
