"""Stripe list objects: the one pagination (limit, starting_after, ending_before, has_more, url)
and the filters list routes declare instead of writing their own predicates.

A list route reads like

    return paginate(ctx, "charge", params, "/v1/charges",
                    equals("customer"), equals("payment_intent"), created())

Each filter reads its query parameter (in the order given, so errors come out in that order)
and keeps the records that match; a parameter that is absent keeps everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe_local.app.context import Context
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, StripeError, get_bool, get_int, get_str, not_found

LIST_SPEC = {"limit": ANY, "starting_after": ANY, "ending_before": ANY, "created": MAP}

Predicate = Callable[[Record], bool]
# A filter reads the request's params and gives a predicate, or None when it does not apply.
Filter = Callable[[dict[str, Any]], Predicate | None]
Field = str | Callable[[Record], Any]


def _getter(field: Field) -> Callable[[Record], Any]:
    if callable(field):
        return field
    return lambda record: record.data[field]


def equals(param: str, field: Field | None = None) -> Filter:
    """`?param=value`: keep records whose `field` (data key, default `param`) equals the string."""
    get = _getter(field or param)

    def read(params: dict[str, Any]) -> Predicate | None:
        value = get_str(params, param)
        if value is None:
            return None
        return lambda record: get(record) == value

    return read


def flag(param: str, field: Field | None = None) -> Filter:
    """`?param=true|false`: keep records whose `field` equals the boolean."""
    get = _getter(field or param)

    def read(params: dict[str, Any]) -> Predicate | None:
        value = get_bool(params, param)
        if value is None:
            return None
        return lambda record: get(record) == value

    return read


def one_of(param: str, field: Field | None = None) -> Filter:
    """`?param[]=a&param[]=b`: keep records whose `field` is one of the given values."""
    get = _getter(field or param)

    def read(params: dict[str, Any]) -> Predicate | None:
        given = params.get(param)
        if not given:
            return None
        return lambda record: get(record) in given

    return read


def created(name: str = "created") -> Filter:
    """Stripe's `created[gte]=...` style range filter (also a bare `created=ts`)."""
    return lambda params: created_filter(params, name)


def where(predicate: Predicate) -> Filter:
    """A fixed condition, e.g. the parent object of a nested list."""
    return lambda _params: predicate


def created_filter(params: dict[str, Any], name: str = "created") -> Predicate:
    given = params.get(name)
    if given is None:
        return lambda _r: True
    if isinstance(given, str):
        exact = get_int(params, name)
        return lambda r: r.data.get(name) == exact
    bounds = {op: int(given[op]) for op in ("gt", "gte", "lt", "lte") if op in given}

    def keep(record: Record) -> bool:
        value = record.data.get(name) or 0
        return (
            ("gt" not in bounds or value > bounds["gt"])
            and ("gte" not in bounds or value >= bounds["gte"])
            and ("lt" not in bounds or value < bounds["lt"])
            and ("lte" not in bounds or value <= bounds["lte"])
        )

    return keep


def empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "url": url}


def paginate(
    ctx: Context, kind: str, params: dict[str, Any], url: str, *filters: Filter
) -> dict[str, Any]:
    """A Stripe list object of the request account's `kind` objects, newest first."""
    predicates = [p for p in (read(params) for read in filters) if p is not None]
    owner_id = ctx.account
    limit = get_int(params, "limit", default=10)
    assert limit is not None
    if limit < 1 or limit > 100:
        raise StripeError("Invalid limit: must be an integer between 1 and 100.", param="limit")
    starting_after = get_str(params, "starting_after")
    ending_before = get_str(params, "ending_before")
    store = ctx.store

    def keep(record: Record) -> bool:
        return all(predicate(record) for predicate in predicates)

    def cursor(object_id: str, param: str) -> int:
        record = store.find(object_id)
        if record is None or record.kind != kind or record.owner != owner_id:
            raise not_found(kind, object_id, param)
        return store.positions[object_id]

    page: list[Record] = []
    has_more = False
    if ending_before:
        position = cursor(ending_before, "ending_before")
        for record in store.iter_oldest_first_after(owner_id, kind, position):
            if keep(record):
                if len(page) == limit:
                    has_more = True
                    break
                page.append(record)
        page.reverse()
    else:
        position = cursor(starting_after, "starting_after") if starting_after else None
        for record in store.iter_newest_first(owner_id, kind, position):
            if keep(record):
                if len(page) == limit:
                    has_more = True
                    break
                page.append(record)
    return {
        "object": "list",
        "data": [ctx.state.render(r) for r in page],
        "has_more": has_more,
        "url": url,
    }
