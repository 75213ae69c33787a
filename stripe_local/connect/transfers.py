"""/v1/transfers and their reversals (destination charges create transfers on capture)."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate, where
from stripe_local.app.registry import renderer, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.balance import add_balance_transaction, balance_for
from stripe_local.connect.accounts import get_connected_account
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payment_errors import saved_error


def create_transfer_record(
    state: State,
    *,
    amount: int,
    currency: str,
    destination: str,
    source_transaction: str | None = None,
    transfer_group: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    created: int | None = None,
) -> Record:
    transfer_id = core.new_id("tr")
    payment_id = core.new_id("py")
    txn = add_balance_transaction(
        state,
        None,
        amount=-amount,
        currency=currency,
        kind="transfer",
        source=transfer_id,
        description=description,
    )
    add_balance_transaction(
        state,
        destination,
        amount=amount,
        currency=currency,
        kind="payment",
        source=payment_id,
    )
    data = template(
        "transfer",
        id=transfer_id,
        amount=amount,
        amount_reversed=0,
        balance_transaction=txn.id,
        created=created or core.now_seconds(),
        currency=currency,
        description=description,
        destination=destination,
        destination_payment=payment_id,
        reversed=False,
        source_transaction=source_transaction,
        source_type="card",
        transfer_group=transfer_group,
    )
    data["metadata"] = dict(metadata or {})
    return state.store.add(Record(transfer_id, "transfer", None, data))


def create_transfer_reversal(
    state: State,
    transfer: Record,
    amount: int,
    source_refund: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Record:
    t = transfer.data
    reversal_id = core.new_id("trr")
    txn = add_balance_transaction(
        state,
        None,
        amount=amount,
        currency=t["currency"],
        kind="transfer_refund",
        source=reversal_id,
        description="Transfer reversal",
    )
    add_balance_transaction(
        state,
        t["destination"],
        amount=-amount,
        currency=t["currency"],
        kind="payment_refund",
        source=core.new_id("pyr"),
    )
    data = template(
        "transfer_reversal",
        id=reversal_id,
        amount=amount,
        balance_transaction=txn.id,
        created=core.now_seconds(),
        currency=t["currency"],
        destination_payment_refund=core.new_id("pyr"),
        source_refund=source_refund,
        transfer=transfer.id,
    )
    data["metadata"] = dict(metadata or {})
    record = state.store.add(Record(reversal_id, "transfer_reversal", None, data))
    previous = {"amount_reversed": t["amount_reversed"], "reversed": t["reversed"]}
    t["amount_reversed"] += amount
    t["reversed"] = t["amount_reversed"] >= t["amount"]
    state.emit("transfer.reversed", transfer, previous)
    return record


@renderer("transfer")
def _render_transfer(state: State, record: Record, obj: dict[str, Any]) -> None:
    reversals = (
        [
            state.render(r)
            for r in state.store.iter_newest_first(None, "transfer_reversal")
            if r.data["transfer"] == record.id
        ][:10]
        if record.data["amount_reversed"]
        else []
    )
    obj["reversals"] = {
        "object": "list",
        "data": reversals,
        "has_more": False,
        "url": f"/v1/transfers/{record.id}/reversals",
    }


@route(
    "POST",
    "/v1/transfers",
    spec={
        "amount": ANY,
        "currency": ANY,
        "destination": ANY,
        "description": ANY,
        "metadata": MAP,
        "source_transaction": ANY,
        "transfer_group": ANY,
        "source_type": ANY,
    },
)
def transfer_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.account is not None:
        raise StripeError("Transfers are made by the platform; omit Stripe-Account.")
    currency = core.get_currency(params)
    amount = core.get_int(params, "amount", required=True, minimum=1)
    assert amount is not None
    destination = core.get_str(params, "destination", required=True)
    assert destination is not None
    account = get_connected_account(ctx, destination, "destination")
    if account.data["capabilities"].get("transfers") != "active":
        raise StripeError(
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            param="destination",
            code="insufficient_capabilities_for_transfer",
        )
    source = core.get_str(params, "source_transaction")
    if source:
        ctx.store.get("charge", source, None, param="source_transaction")
    else:
        available = next(
            (
                b["amount"]
                for b in balance_for(ctx.state, None)["available"]
                if b["currency"] == currency
            ),
            0,
        )
        if available < amount:
            raise saved_error(
                "You have insufficient available funds in your Stripe account. Try adding funds "
                "directly to your available balance by creating Charges using the "
                "4000000000000077 test card.",
                code="balance_insufficient",
            )
    metadata: dict[str, Any] = {}
    core.apply_metadata(metadata, params)
    record = create_transfer_record(
        ctx.state,
        amount=amount,
        currency=currency,
        destination=destination,
        source_transaction=source,
        transfer_group=core.get_str(params, "transfer_group"),
        description=core.get_str(params, "description"),
        metadata=metadata.get("metadata"),
    )
    ctx.state.emit("transfer.created", record)
    return ctx.state.render(record)


@route("GET", "/v1/transfers/{id}", spec={})
def transfer_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("transfer", id, ctx.account, param="transfer"))


@route("POST", "/v1/transfers/{id}", spec={"metadata": MAP, "description": ANY})
def transfer_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("transfer", id, ctx.account, param="transfer")
    if "description" in params:
        record.data["description"] = core.get_str(params, "description")
    previous = core.apply_metadata(record.data, params)
    if previous is not None:
        ctx.state.emit("transfer.updated", record, {"metadata": previous})
    return ctx.state.render(record)


@route("GET", "/v1/transfers", spec={**LIST_SPEC, "destination": ANY, "transfer_group": ANY})
def transfer_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "transfer", params, "/v1/transfers", equals("destination"), equals("transfer_group")
    )


@route(
    "POST",
    "/v1/transfers/{id}/reversals",
    spec={
        "amount": ANY,
        "metadata": MAP,
        "description": ANY,
        "refund_application_fee": ANY,
    },
)
def transfer_reversal_create(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    transfer = ctx.store.get("transfer", id, ctx.account, param="id")
    remaining = transfer.data["amount"] - transfer.data["amount_reversed"]
    amount = core.get_int(params, "amount", default=remaining, minimum=1)
    assert amount is not None
    if remaining <= 0:
        raise saved_error(
            f"Transfer {id} has already been fully reversed.",
            code="transfer_already_reversed",
        )
    if amount > remaining:
        raise saved_error(
            f"Reversal amount ({core.format_amount(amount, transfer.data['currency'])}) is "
            f"greater than the remaining transfer amount "
            f"({core.format_amount(remaining, transfer.data['currency'])}).",
            param="amount",
        )
    metadata: dict[str, Any] = {}
    core.apply_metadata(metadata, params)
    record = create_transfer_reversal(
        ctx.state, transfer, amount, metadata=metadata.get("metadata")
    )
    return ctx.state.render(record)


@route("GET", "/v1/transfers/{id}/reversals", spec=LIST_SPEC)
def transfer_reversal_list(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("transfer", id, ctx.account, param="id")
    return paginate(
        ctx,
        "transfer_reversal",
        params,
        f"/v1/transfers/{id}/reversals",
        where(lambda r: r.data["transfer"] == id),
    )


@route("GET", "/v1/transfers/{transfer}/reversals/{id}", spec={})
def transfer_reversal_retrieve(
    ctx: Context, params: dict[str, Any], transfer: str, id: str
) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("transfer_reversal", id, ctx.account)
    if record.data["transfer"] != transfer:
        raise core.not_found("transfer_reversal", id)
    return ctx.state.render(record)
