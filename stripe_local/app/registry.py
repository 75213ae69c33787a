"""Where resource modules plug into the engine: API routes, renderers, expand-only fields,
/_local helpers and hooks.

The engine (state, server) reads these tables and never imports a resource module; importing
a resource module (stripe_local.resources imports them all) fills them in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[..., Any]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    publishable: bool
    spec: dict[str, Any] | None


ROUTES: list[Route] = []
# kind -> fn(state, record, obj) adjusting the rendered copy of a record of that kind.
RENDERERS: dict[str, Callable[[Any, Any, dict[str, Any]], None]] = {}
# (kind, field) -> function giving the value of a field that only appears when expanded.
EXPAND_ONLY: dict[tuple[str, str], Callable[[Any, Any], Any]] = {}


def route(
    method: str, path: str, *, publishable: bool = False, spec: dict[str, Any] | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler for `METHOD /v1/path/{param}`; `spec` lists the accepted params."""
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"

    def decorator(handler: Handler) -> Handler:
        entry = Route(method, re.compile(regex), handler, publishable, spec)
        # Literal paths first, so /v1/invoices/create_preview is not read as /v1/invoices/{id}.
        if "{" in path:
            ROUTES.append(entry)
        else:
            ROUTES.insert(0, entry)
        return handler

    return decorator


def renderer(kind: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorator(fn: Callable[..., None]) -> Callable[..., None]:
        RENDERERS[kind] = fn
        return fn

    return decorator


def expand_only(kind: str, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register fn(state, record) giving `name` of a `kind` object, shown only when expanded."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        EXPAND_ONLY[(kind, name)] = fn
        return fn

    return decorator


# -- /_local helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalReply:
    """What a /_local helper answers: a JSON value, or (html=True) an HTML page."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    html: bool = False
    content_type: str | None = None  # raw bytes or text of this type (e.g. application/pdf)


def html_reply(page: tuple[int, dict[str, str], str]) -> LocalReply:
    status, headers, body = page
    return LocalReply(status, body, headers, html=True)


# fn(state, method, parts, params) -> LocalReply, or None when the request is not its own.
# `parts` is the path after /_local split on "/", so parts[0] is the helper's name.
LocalHelper = Callable[[Any, str, list[str], dict[str, Any]], LocalReply | None]
LOCAL_HELPERS: dict[str, list[LocalHelper]] = {}


def local_helper(name: str) -> Callable[[LocalHelper], LocalHelper]:
    """Register a handler for /_local/<name>/...; several may share a name (first answer wins)."""

    def decorator(fn: LocalHelper) -> LocalHelper:
        LOCAL_HELPERS.setdefault(name, []).append(fn)
        return fn

    return decorator


# -- Hooks -------------------------------------------------------------------------------------

# fn(state): the store has no platform account (new or reset state); create it.
PLATFORM_ACCOUNT_MISSING = "platform_account_missing"
# fn(state, customer_record): a customer is about to be deleted.
CUSTOMER_DELETING = "customer_deleting"
# fn(state, invoice_id, payment_intent_record, succeeded): an invoice's PaymentIntent settled.
INVOICE_PAYMENT_RESULT = "invoice_payment_result"
# fn(ctx, subscription_record, at): a test clock passed the end of the current phase of the
# subscription's schedule (billing/schedules.py handles it).
SCHEDULE_PHASE_END = "schedule_phase_end"
# fn(ctx, schedule_record, at): a test clock reached a not_started schedule's start.
SCHEDULE_START = "schedule_start"
# fn(state, subscription_record): a subscription was just canceled (its schedule ends with it).
SUBSCRIPTION_CANCELED = "subscription_canceled"

HOOKS: dict[str, list[Callable[..., None]]] = {}


def hook(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register fn to be called by `notify(name, ...)`."""

    def decorator(fn: Callable[..., None]) -> Callable[..., None]:
        HOOKS.setdefault(name, []).append(fn)
        return fn

    return decorator


def notify(name: str, *args: Any) -> None:
    for fn in HOOKS.get(name, ()):
        fn(*args)
