"""The history of a payment (PaymentEvent rows) and the state its writes compare."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduling.actors import SYSTEM, Actor

from ..models import BookingPayment, PaymentEvent


def payment_event_record(
    payment: BookingPayment,
    *,
    action: str,
    actor: Actor = SYSTEM,
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    PaymentEvent.objects.create(
        payment=payment,
        action=action,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        message=message,
        data=dict(data or {}),
    )


def payment_state(payment: BookingPayment) -> tuple:
    return (
        payment.intent_status,
        payment.status,
        payment.paid_minor,
        payment.refunded_minor,
        payment.fee_refunded_minor,
        payment.last_error,
        payment.charge_id,
    )
