"""Who handles which Stripe event: apps register a handler per event type at start-up.

The inbox (`connect_payments.webhooks.inbox`) stores every verified event once; an event whose
type has a handler is dispatched to it, the others are kept for the record as ignored. A handler
receives a `ReceivedEvent` (plain data, no model) and returns True when it applied the event
(outcome "processed") or False when the event concerned nothing it knows ("ignored"); it may
raise `stripe.StripeError` to have the event retried. Handlers must be idempotent and
order-independent: Stripe delivers more than once, late and out of order, and a retried event
runs its handler again.

Each app registers its own handlers in its `AppConfig.ready()` (connect_payments for payments,
refunds and Connect accounts; billing for its subscriptions and invoices; memberships for pass
payments). The registry lives in `common`, below every app, so no app imports another's webhook
code to take part. Several apps may handle one type (a `payment_intent.succeeded` is a booking's
or a pass's): each handler answers for its own objects and returns False for the others; the
event was applied when one of them returns True. All of them run on every delivery, so each must
be idempotent on its own.

Events of one tenant name its schema: by default in `data.object.metadata.tenant_schema`; a
family of events that says it otherwise (Connect's `account.*`: the account map) registers a
schema resolver for its type prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class ReceivedEvent:
    """A stored Stripe event, as handlers see it."""

    event_id: str
    type: str
    account_id: str  # Connect events: the connected account
    tenant_schema: str  # "" when the event concerns no tenant (or an unknown one)
    payload: Mapping[str, Any]

    @property
    def object(self) -> Mapping[str, Any]:
        """`data.object` of the event ({} when absent)."""
        return (self.payload.get("data") or {}).get("object") or {}


Handler = Callable[[ReceivedEvent], bool]
SchemaResolver = Callable[[Mapping[str, Any]], str]

_handlers: dict[str, list[Handler]] = {}
_schema_resolvers: dict[str, SchemaResolver] = {}


def register(event_types: Iterable[str], handler: Handler) -> None:
    """Dispatch these event types to `handler` too (registering it twice changes nothing)."""
    for event_type in event_types:
        handlers = _handlers.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)


def register_schema_resolver(type_prefix: str, resolver: SchemaResolver) -> None:
    """The tenant schema of the events whose type starts with `type_prefix` ("" for none)."""
    existing = _schema_resolvers.get(type_prefix)
    if existing is not None and existing is not resolver:
        raise ImproperlyConfigured(f"Stripe events {type_prefix!r}* have a schema resolver.")
    _schema_resolvers[type_prefix] = resolver


def handler_for(event_type: str) -> Handler | None:
    """The handler of `event_type` (None: nobody handles it); with several registered, one
    that runs each in registration order and reports True when any applied the event."""
    handlers = tuple(_handlers.get(event_type) or ())
    if not handlers:
        return None
    if len(handlers) == 1:
        return handlers[0]

    def every_handler(event: ReceivedEvent) -> bool:
        applied = [handler(event) for handler in handlers]
        return any(applied)

    return every_handler


def schema_resolver_for(event_type: str) -> SchemaResolver | None:
    """The resolver of the longest registered prefix of `event_type`, if any."""
    matches = [prefix for prefix in _schema_resolvers if event_type.startswith(prefix)]
    return _schema_resolvers[max(matches, key=len)] if matches else None


def handled_types() -> frozenset[str]:
    return frozenset(_handlers)
