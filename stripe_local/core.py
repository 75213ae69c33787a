"""The bottom of local Stripe: constants, ids, money text, errors, form decoding and parameters.

Plain Python with no state; the engine (stripe_local.app) and the resources (stripe_local.payments,
.connect, .billing) build on it.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import time
import urllib.parse
from collections.abc import Iterable
from typing import Any

from stripe_local import shapes

API_VERSION = "2026-08-26.dahlia"
PLATFORM_ACCOUNT_ID = "acct_1LocalStripePlat"
APPLICATION_ID = "ca_1LocalStripeCreneauApplication"  # the platform's Connect application
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
