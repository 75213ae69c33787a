"""The webhook inbox: verify a Stripe event, store it once, dispatch it to its handler.

`stripe_event_receive` (the webhook view) verifies the signature against either signing secret
(platform and Connect endpoints), stores the event once by its id and, for a type that has a
handler (`common.stripe_events`), queues its processing through the outbox (written in the same
transaction, handed to Celery after commit, swept again if the broker was away): the Celery task
`connect_payments.tasks.process_stripe_event`, named so that this module does not import the tasks
(which import it). `stripe_event_process` (the task) runs the handler and records the
outcome; a Stripe failure marks the event failed and the task retries it; Stripe's redelivery of
a failed event queues it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.stripe_events import ReceivedEvent, handler_for, schema_resolver_for
from outbox.services import outbox_enqueue
from tenants.models import Tenant

from ..exceptions import InvalidWebhook
from ..models import StripeEvent, StripeEventOutcome

logger = logging.getLogger(__name__)

# The task that runs `stripe_event_process` (connect_payments/tasks.py gives it this name).
PROCESS_TASK = "connect_payments.tasks.process_stripe_event"


def _signed_at(signature: str) -> int | None:
    """The `t=` timestamp of a Stripe-Signature header (None when absent or not a number)."""
    for item in signature.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            return int(value) if value.isdigit() else None
    return None


def _verified_event(payload: bytes, signature: str) -> dict[str, Any]:
    secrets = [
        s for s in (settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_CONNECT_WEBHOOK_SECRET) if s
    ]
    if not secrets:
        raise InvalidWebhook("No webhook signing secret is configured.")
    text = payload.decode("utf-8", errors="replace")
    last_error: Exception | None = None
    for secret in secrets:
        try:
            stripe.Webhook.construct_event(text, signature, secret)
        except stripe.SignatureVerificationError as error:
            last_error = error
            continue
        except ValueError as error:
            raise InvalidWebhook("The body is not a JSON event.") from error
        # The SDK refuses a timestamp older than its tolerance, not one ahead of it: a signature
        # dated in the future would stay replayable until that date.
        signed_at = _signed_at(signature)
        tolerance = stripe.Webhook.DEFAULT_TOLERANCE
        if signed_at is None or signed_at > timezone.now().timestamp() + tolerance:
            raise InvalidWebhook("The signature's timestamp is in the future.")
        # The body as Stripe signed it, not the SDK's object: that one reads `*_decimal` fields
        # (prices, invoice lines) as Decimals, which the JSON column cannot store.
        payload_dict: dict[str, Any] = json.loads(text)
        return payload_dict
    raise InvalidWebhook("Signature verification failed.") from last_error


def _schema_from_metadata(event: Mapping[str, Any]) -> str:
    """The tenant schema named in the object's metadata, if it is a tenant's."""
    obj = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}
    schema = metadata.get("tenant_schema") if isinstance(metadata, Mapping) else None
    if isinstance(schema, str) and schema and schema != settings.PUBLIC_SCHEMA_NAME:
        if Tenant.objects.filter(schema_name=schema).exists():
            return schema
    return ""


def _schema_for_event(event: Mapping[str, Any]) -> str:
    """The tenant schema an event concerns: its type's resolver (the account map for
    `account.*`), else the object's metadata."""
    resolver = schema_resolver_for(str(event.get("type") or ""))
    if resolver is not None:
        return resolver(event)
    return _schema_from_metadata(event)


def stripe_event_receive(*, payload: bytes, signature: str) -> StripeEvent | None:
    """Verify and store an event once; None for a duplicate. Processing is queued after commit."""
    event = _verified_event(payload, signature)
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise InvalidWebhook("The body is not a Stripe event.")
    known = StripeEvent.objects.filter(event_id=event_id).first()
    if known is not None:
        # A duplicate. Stripe redelivers until it gets a 2xx; an event whose processing failed
        # (Stripe unreachable while re-reading the object) is queued again, others ignored.
        if known.outcome == StripeEventOutcome.FAILED:
            _queue_processing(known)
        return None
    event_type = str(event.get("type") or "")[:80]
    handled = handler_for(event_type) is not None
    try:
        with transaction.atomic():  # the event and its processing are written down together
            stored = StripeEvent.objects.create(
                event_id=event_id,
                type=event_type,
                account_id=str(event.get("account") or "")[:64],
                tenant_schema=_schema_for_event(event),
                payload=event,
                # Types without a handler are kept for the record and cost no task.
                outcome=StripeEventOutcome.RECEIVED if handled else StripeEventOutcome.IGNORED,
                processed_at=None if handled else timezone.now(),
            )
            if handled:
                _queue_processing(stored)
    except IntegrityError:  # the same event delivered concurrently
        return None
    return stored


def _queue_processing(stored: StripeEvent) -> None:
    """Through the outbox: a broker outage at commit delays the processing, never loses it."""
    outbox_enqueue(
        PROCESS_TASK,
        args=[stored.pk],
        schema_name=stored.tenant_schema or settings.PUBLIC_SCHEMA_NAME,
    )


def stripe_event_process(*, event_pk: int) -> str:
    """Apply one stored event through its type's handler; returns the outcome."""
    event = StripeEvent.objects.get(pk=event_pk)
    if event.outcome in (StripeEventOutcome.PROCESSED, StripeEventOutcome.IGNORED):
        return event.outcome
    StripeEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1)
    handler = handler_for(event.type)
    outcome = StripeEventOutcome.IGNORED
    received = ReceivedEvent(
        event_id=event.event_id,
        type=event.type,
        account_id=event.account_id,
        tenant_schema=event.tenant_schema,
        payload=event.payload,
    )
    if handler is not None and handler(received):
        outcome = StripeEventOutcome.PROCESSED
    StripeEvent.objects.filter(pk=event.pk).update(
        outcome=outcome, processed_at=timezone.now(), error=""
    )
    logger.info(
        "stripe.event_processed",
        extra={"event": event.event_id, "type": event.type, "outcome": outcome},
    )
    return outcome


def stripe_event_failed(*, event_pk: int, error: str) -> None:
    StripeEvent.objects.filter(pk=event_pk).update(
        outcome=StripeEventOutcome.FAILED, error=error[:2000]
    )
