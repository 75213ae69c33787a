"""/v1/customers/{id}/tax_ids: a customer's tax ids (a business's VAT number), which Stripe
prints on its invoices (`customer_tax_ids`, copied when the invoice is made).

Only what Creneau needs: create, retrieve, list and delete; `eu_vat` (and the UK and Swiss VAT
types) checked for their shape the way Stripe refuses a malformed one (`tax_id_invalid`). The
verification stays `pending`: local Stripe never asks VIES.
"""

from __future__ import annotations

import re
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, paginate, where
from stripe_local.app.registry import route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.core import ANY, StripeError, template

# EU VAT numbers: the member state's prefix (Greece writes EL) and 2 to 13 letters or digits.
EU_PREFIXES = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
}  # fmt: skip
SHAPES = {
    "eu_vat": re.compile(r"(?P<prefix>[A-Z]{2})[0-9A-Z+*.]{2,13}"),
    "gb_vat": re.compile(r"GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})"),
    "ch_vat": re.compile(r"CHE-?\d{3}\.?\d{3}\.?\d{3} ?(?:MWST|TVA|IVA)"),
}
MAX_TAX_IDS = 25  # Stripe's limit per customer


def _country(kind: str, value: str) -> str | None:
    if kind == "eu_vat":
        prefix = value[:2]
        return {"EL": "GR", "XI": "GB"}.get(prefix, prefix)
    return {"gb_vat": "GB", "ch_vat": "CH"}.get(kind)


def _normalised(kind: str, raw: str) -> str:
    value = raw.strip().upper()
    return re.sub(r"[\s-]", "", value) if kind == "eu_vat" else value


def _checked(kind: str, raw: str) -> str:
    value = _normalised(kind, raw)
    shape = SHAPES[kind].fullmatch(value)
    if shape is None or (kind == "eu_vat" and shape.group("prefix") not in EU_PREFIXES):
        raise StripeError(f"Invalid value for {kind}.", code="tax_id_invalid", param="value")
    return value


def customer_tax_ids(state: State, customer_id: str) -> list[dict[str, Any]]:
    """The `customer_tax_ids` of an invoice made now for the customer (oldest first)."""
    found = [
        r
        for r in state.store.records.values()
        if r.kind == "tax_id" and not r.deleted and r.data["customer"] == customer_id
    ]
    return [{"type": r.data["type"], "value": r.data["value"]} for r in found]


@route("POST", "/v1/customers/{id}/tax_ids", spec={"type": ANY, "value": ANY})
def tax_id_create(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    customer = ctx.store.get("customer", id, ctx.account, param="customer")
    kind = core.get_enum(params, "type", sorted(SHAPES))
    if kind is None:
        raise StripeError("Missing required param: type.", param="type")
    raw = core.get_str(params, "value")
    if not raw:
        raise StripeError("Missing required param: value.", param="value")
    value = _checked(kind, raw)
    if len(customer_tax_ids(ctx.state, customer.id)) >= MAX_TAX_IDS:
        raise StripeError(f"A customer can have at most {MAX_TAX_IDS} tax ids.", param="customer")
    tax_id = core.new_id("txi")
    data = template(
        "tax_id",
        id=tax_id,
        country=_country(kind, value),
        created=ctx.now(customer.id),
        customer=customer.id,
        customer_account=None,
        livemode=False,
        owner={"customer": customer.id, "type": "customer", "customer_account": None},
        type=kind,
        value=value,
        verification={"status": "pending", "verified_address": None, "verified_name": None},
    )
    record = ctx.store.add(Record(tax_id, "tax_id", ctx.account, data))
    ctx.state.emit("customer.tax_id.created", record)
    return ctx.state.render(record)


def _owned(ctx: Context, customer_id: str, tax_id: str) -> Record:
    ctx.store.get("customer", customer_id, ctx.account, param="customer")
    record = ctx.store.get("tax_id", tax_id, ctx.account, param="id")
    if record.data["customer"] != customer_id:
        raise StripeError(f"No such tax id: '{tax_id}'", code="resource_missing", param="id",
                          status=404)  # fmt: skip
    return record


@route("GET", "/v1/customers/{customer}/tax_ids/{id}", spec={})
def tax_id_retrieve(ctx: Context, params: dict[str, Any], customer: str, id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(_owned(ctx, customer, id))


@route("DELETE", "/v1/customers/{customer}/tax_ids/{id}", spec={})
def tax_id_delete(ctx: Context, params: dict[str, Any], customer: str, id: str) -> dict[str, Any]:  # noqa: A002
    record = _owned(ctx, customer, id)
    record.deleted = True
    ctx.state.emit("customer.tax_id.deleted", record)
    return template("deleted_tax_id", id=id)


@route("GET", "/v1/customers/{id}/tax_ids", spec=LIST_SPEC)
def tax_id_list(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("customer", id, ctx.account, param="customer")
    return paginate(
        ctx,
        "tax_id",
        params,
        f"/v1/customers/{id}/tax_ids",
        where(lambda r: r.data["customer"] == id),
    )
