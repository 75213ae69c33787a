"""Balance transactions (with Stripe's fee details), /v1/balance and /v1/balance_transactions."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate
from stripe_local.app.registry import route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.core import ANY, APPLICATION_ID, template


def add_balance_transaction(
    state: State,
    owner: str | None,
    *,
    amount: int,
    currency: str,
    kind: str,
    source: str | None,
    description: str | None = None,
    fee_details: list[dict[str, Any]] | None = None,
    reporting_category: str | None = None,
    created: int | None = None,
) -> Record:
    fee_details = fee_details or []
    fee = sum(item["amount"] for item in fee_details)
    created = created or core.now_seconds()
    txn_id = core.new_id("txn")
    data = template(
        "balance_transaction",
        id=txn_id,
        amount=amount,
        available_on=created,
        created=created,
        currency=currency,
        description=description,
        exchange_rate=None,
        fee=fee,
        fee_details=fee_details,
        net=amount - fee,
        reporting_category=reporting_category or kind,
        source=source,
        status="available",
        type=kind,
        balance_type="payments",
    )
    return state.store.add(Record(txn_id, "balance_transaction", owner, data))


def fee_detail(amount: int, currency: str, kind: str) -> dict[str, Any]:
    return {
        "amount": amount,
        "application": APPLICATION_ID if kind == "application_fee" else None,
        "currency": currency,
        "description": "Stripe processing fees" if kind == "stripe_fee" else "Application fee",
        "type": kind,
    }


def balance_for(state: State, owner: str | None) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for txn in state.store.iter_newest_first(owner, "balance_transaction"):
        totals[txn.data["currency"]] = totals.get(txn.data["currency"], 0) + txn.data["net"]
    if not totals:
        totals = {"eur": 0}
    balance = template("balance")
    balance["available"] = [
        {"amount": amount, "currency": currency, "source_types": {"card": amount}}
        for currency, amount in sorted(totals.items())
    ]
    balance["pending"] = [
        {"amount": 0, "currency": currency, "source_types": {"card": 0}}
        for currency in sorted(totals)
    ]
    balance["connect_reserved"] = [{"amount": 0, "currency": c} for c in sorted(totals)]
    return balance


@route("GET", "/v1/balance", spec={})
def balance_retrieve(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return balance_for(ctx.state, ctx.account)


@route("GET", "/v1/balance_transactions/{id}", spec={})
def balance_transaction_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("balance_transaction", id, ctx.account))


@route(
    "GET",
    "/v1/balance_transactions",
    spec={
        **LIST_SPEC,
        "type": ANY,
        "source": ANY,
        "currency": ANY,
        "payout": ANY,
    },
)
def balance_transaction_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "balance_transaction",
        params,
        "/v1/balance_transactions",
        equals("type"),
        equals("source"),
        equals("currency"),
    )
