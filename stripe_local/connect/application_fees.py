"""/v1/application_fees and their refunds."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate, where
from stripe_local.app.registry import renderer, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.balance import add_balance_transaction
from stripe_local.core import ANY, MAP, template
from stripe_local.payment_errors import saved_error


def create_fee_refund(
    state: State, fee: Record, amount: int, metadata: dict[str, str] | None = None
) -> tuple[Record, dict[str, Any]]:
    f = fee.data
    fr_id = core.new_id("fr")
    txn = add_balance_transaction(
        state,
        None,
        amount=-amount,
        currency=f["currency"],
        kind="application_fee_refund",
        source=fr_id,
        description="Application fee refund",
    )
    if f["account"]:
        add_balance_transaction(
            state,
            f["account"],
            amount=amount,
            currency=f["currency"],
            kind="application_fee_refund",
            source=fr_id,
        )
    data = template(
        "fee_refund",
        id=fr_id,
        amount=amount,
        balance_transaction=txn.id,
        created=core.now_seconds(),
        currency=f["currency"],
        fee=fee.id,
    )
    data["metadata"] = dict(metadata or {})
    state.store.add(Record(fr_id, "fee_refund", None, data))
    previous = {"amount_refunded": f["amount_refunded"], "refunded": f["refunded"]}
    f["amount_refunded"] += amount
    f["refunded"] = f["amount_refunded"] >= f["amount"]
    return fee, previous


@renderer("application_fee")
def _render_fee(state: State, record: Record, obj: dict[str, Any]) -> None:
    refunds = (
        [
            state.render(r)
            for r in state.store.iter_newest_first(None, "fee_refund")
            if r.data["fee"] == record.id
        ][:10]
        if record.data["amount_refunded"]
        else []
    )
    obj["refunds"] = {
        "object": "list",
        "data": refunds,
        "has_more": False,
        "url": f"/v1/application_fees/{record.id}/refunds",
    }


@route("GET", "/v1/application_fees/{id}", spec={})
def application_fee_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("application_fee", id, ctx.account))


@route("GET", "/v1/application_fees", spec={**LIST_SPEC, "charge": ANY})
def application_fee_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "application_fee", params, "/v1/application_fees", equals("charge"))


@route("POST", "/v1/application_fees/{id}/refunds", spec={"amount": ANY, "metadata": MAP})
def application_fee_refund_create(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    fee = ctx.store.get("application_fee", id, ctx.account, param="id")
    remaining = fee.data["amount"] - fee.data["amount_refunded"]
    if remaining <= 0:
        raise saved_error(f"Application fee {id} has already been refunded.", param="id")
    amount = core.get_int(params, "amount", default=remaining, minimum=1)
    assert amount is not None
    if amount > remaining:
        raise saved_error(
            f"Refund amount ({core.format_amount(amount, fee.data['currency'])}) is greater than "
            f"unrefunded amount on fee ({core.format_amount(remaining, fee.data['currency'])})",
            param="amount",
        )
    metadata: dict[str, Any] = {}
    core.apply_metadata(metadata, params)
    _fee, previous = create_fee_refund(ctx.state, fee, amount, metadata.get("metadata"))
    ctx.state.emit("application_fee.refunded", fee, previous)
    newest = next(ctx.store.iter_newest_first(None, "fee_refund"))
    return ctx.state.render(newest)


@route("GET", "/v1/application_fees/{id}/refunds", spec=LIST_SPEC)
def application_fee_refund_list(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("application_fee", id, ctx.account, param="id")
    return paginate(
        ctx,
        "fee_refund",
        params,
        f"/v1/application_fees/{id}/refunds",
        where(lambda r: r.data["fee"] == id),
    )


@route("GET", "/v1/application_fees/{fee}/refunds/{id}", spec={})
def application_fee_refund_retrieve(
    ctx: Context, params: dict[str, Any], fee: str, id: str
) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("fee_refund", id, ctx.account)
    if record.data["fee"] != fee:
        raise core.not_found("fee_refund", id)
    return ctx.state.render(record)
