"""The engine of local Stripe: errors, form decoding, the object store, lists, expansion, events.

Everything here is plain Python; the HTTP layer (server.py) and the resources (connect.py,
payments.py, billing.py, events.py) build on it. One re-entrant lock guards the whole state.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from stripe_local import shapes

API_VERSION = "2026-08-26.dahlia"
PLATFORM_ACCOUNT_ID = "acct_1LocalStripePlat"
ALNUM = string.ascii_letters + string.digits
ZERO_DECIMAL_CURRENCIES = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "chf": "CHF ", "cad": "CA$", "jpy": "¥"}
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50, "jpy": 50}

ANY = None
MAP = "map"


def new_id(prefix: str, length: int = 24) -> str:
    """An id shaped like Stripe's: prefix, underscore, '1', then random letters and digits."""
    return f"{prefix}_1" + "".join(secrets.choice(ALNUM) for _ in range(length - 1))


def format_amount(amount: int, currency: str) -> str:
    """Stripe's way of writing money in error messages, e.g. '€10.00'."""
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    if currency in ZERO_DECIMAL_CURRENCIES:
        text = f"{amount}"
    else:
        text = f"{amount // 100}.{amount % 100:02d}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


class StripeError(Exception):
    """An API error rendered with Stripe's error body and status code."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's own field name
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def not_found(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param
    )


# --------------------------------------------------------------------------------------------
# Form decoding and parameter checking
# --------------------------------------------------------------------------------------------

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def decode_form(raw: str) -> dict[str, Any]:
    """Decode Stripe's nested form encoding (`a[b][0][c]=v`, `expand[]=x`) into dicts and lists."""
    result: dict[str, Any] = {}
    for key, value in urllib.parse.parse_qsl(raw, keep_blank_values=True):
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key[len(head) :])]
        node: dict[str, Any] = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _listify(result, ())


def _listify(value: Any, path: tuple[str, ...]) -> Any:
    if not isinstance(value, dict):
        return value
    free_form = bool(path) and path[-1] == "metadata"
    converted = {k: _listify(v, (*path, k)) for k, v in value.items()}
    if not free_form and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def check_params(params: dict[str, Any], spec: dict[str, Any], prefix: str = "") -> None:
    """Refuse unknown parameters the way Stripe does: 400 and `Received unknown parameter: x`."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in spec:
            raise StripeError(f"Received unknown parameter: {name}", param=name)
        sub = spec[key]
        if isinstance(sub, dict):
            if isinstance(value, dict):
                check_params(value, sub, name)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        check_params(item, sub, f"{name}[{i}]")
            elif value != "":
                raise StripeError(
                    f"Invalid object: {name} must be a hash, got a string", param=name
                )


def get_int(
    params: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    default: int | None = None,
    minimum: int | None = None,
    label: str | None = None,
) -> int | None:
    label = label or name
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeError(f"Missing required param: {label}.", param=label)
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeError(f"Invalid integer: {value}", param=label)
    if minimum is not None and number < minimum:
        raise StripeError(f"This value must be greater than or equal to {minimum}.", param=label)
    return number


def get_bool(params: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1"):
        return True
    if value in ("false", "False", "0"):
        return False
    raise StripeError(f"Invalid boolean: {value}", param=name)


def get_str(
    params: dict[str, Any], name: str, *, required: bool = False, label: str | None = None
) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeError(f"Missing required param: {label or name}.", param=label or name)
        return None
    if not isinstance(value, str):
        raise StripeError(f"Invalid string: {name} must be a string", param=label or name)
    return value


def get_enum(
    params: dict[str, Any], name: str, choices: Iterable[str], default: str | None = None
) -> str | None:
    value = get_str(params, name)
    if value is None:
        return default
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(choices[:-1]) + (", or " if len(choices) > 2 else " or ") + choices[-1]
        raise StripeError(f"Invalid {name}: must be one of {listed}", param=name)
    return value


def get_currency(params: dict[str, Any], name: str = "currency", required: bool = True) -> str:
    value = get_str(params, name, required=required)
    if value is None:
        return ""
    if not re.fullmatch(r"[a-zA-Z]{3}", value):
        raise StripeError(f"Invalid currency: {value.lower()}.", param=name)
    return value.lower()


def apply_metadata(target: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe's metadata update rules: merge, empty value unsets, `metadata=` clears all.

    Returns the previous metadata when something changed (for previous_attributes)."""
    if "metadata" not in params:
        return None
    given = params["metadata"]
    before = dict(target.get("metadata") or {})
    if given == "" or given is None:
        target["metadata"] = {}
    elif isinstance(given, dict):
        merged = dict(before)
        for key, value in given.items():
            if len(key) > 40:
                raise StripeError(
                    "Invalid metadata: metadata keys can be at most 40 characters long.",
                    param=f"metadata[{key}]",
                )
            if value == "" or value is None:
                merged.pop(key, None)
            else:
                merged[key] = str(value)
        if len(merged) > 50:
            raise StripeError(
                "Invalid metadata: metadata can have up to 50 keys.", param="metadata"
            )
        target["metadata"] = merged
    else:
        raise StripeError("Invalid metadata: must be a hash", param="metadata")
    return before if before != target["metadata"] else None


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


@dataclass
class Record:
    """One stored object. `owner` is None for the platform or a connected account id."""

    id: str
    kind: str
    owner: str | None
    data: dict[str, Any]
    internal: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "owner": self.owner,
            "data": self.data,
            "internal": self.internal,
            "deleted": self.deleted,
        }


class Store:
    """Objects by id, plus per (owner, kind) lists in creation order for pagination."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.lists: dict[tuple[str | None, str], list[str]] = {}
        self.positions: dict[str, int] = {}

    def add(self, record: Record) -> Record:
        self.records[record.id] = record
        ids = self.lists.setdefault((record.owner, record.kind), [])
        self.positions[record.id] = len(ids)
        ids.append(record.id)
        return record

    def find(self, object_id: str) -> Record | None:
        return self.records.get(object_id)

    def get(
        self,
        kind: str,
        object_id: Any,
        owner: str | None,
        *,
        param: str = "id",
        label: str | None = None,
        allow_deleted: bool = False,
    ) -> Record:
        record = self.records.get(object_id) if isinstance(object_id, str) else None
        if (
            record is None
            or record.kind != kind
            or record.owner != owner
            or (record.deleted and not allow_deleted)
        ):
            raise not_found(label or kind, str(object_id), param)
        return record

    def iter_newest_first(
        self, owner: str | None, kind: str, before_position: int | None = None
    ) -> Iterator[Record]:
        ids = self.lists.get((owner, kind), [])
        start = len(ids) - 1 if before_position is None else before_position - 1
        for index in range(start, -1, -1):
            record = self.records[ids[index]]
            if not record.deleted:
                yield record

    def iter_oldest_first_after(
        self, owner: str | None, kind: str, after_position: int
    ) -> Iterator[Record]:
        ids = self.lists.get((owner, kind), [])
        for index in range(after_position + 1, len(ids)):
            record = self.records[ids[index]]
            if not record.deleted:
                yield record

    def all_of(self, kind: str) -> Iterator[Record]:
        for (_owner, list_kind), ids in list(self.lists.items()):
            if list_kind == kind:
                for object_id in ids:
                    record = self.records[object_id]
                    if not record.deleted:
                        yield record

    def to_json(self) -> list[dict[str, Any]]:
        ordered = []
        for ids in self.lists.values():
            ordered.extend(self.records[i].to_json() for i in ids)
        return ordered

    def load_json(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.add(Record(**row))


# --------------------------------------------------------------------------------------------
# Request context
# --------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What a handler knows about the request it serves."""

    state: Any  # stripe_local.state.State (kept loose to avoid an import cycle)
    account: str | None  # connected account from Stripe-Account, or None for the platform
    key_type: str = "secret"  # "secret" or "publishable"
    request_id: str | None = None
    idempotency_key: str | None = None
    base_url: str = ""
    api_version: str = API_VERSION

    @property
    def store(self) -> Store:
        return self.state.store

    def now(self, customer_id: str | None = None) -> int:
        return self.state.now(customer_id)


# --------------------------------------------------------------------------------------------
# Lists: the one pagination, and the filters list routes declare
# --------------------------------------------------------------------------------------------
#
# A list route reads like
#
#     return paginate(ctx, "charge", params, "/v1/charges",
#                     equals("customer"), equals("payment_intent"), created())
#
# Each filter reads its query parameter (in the order given, so errors come out in that order)
# and keeps the records that match; a parameter that is absent keeps everything.

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


def template(kind: str, **values: Any) -> dict[str, Any]:
    """A new object of `kind` in the shape of Stripe's fixture, with `values` applied."""
    obj = shapes.blank(kind)
    obj.update(values)
    return obj


def now_seconds() -> int:
    return int(time.time())


def deep_copy(value: Any) -> Any:
    return copy.deepcopy(value)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class StateLock:
    """The single lock around the state; a class so tests can assert it is not held."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> StateLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
