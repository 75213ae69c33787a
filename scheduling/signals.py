"""Booking events other apps react to; scheduling sends them and imports none of its listeners.

`booking_changed` is sent inside the transaction that changes the booking, at the moment the
customer must hear of it (confirmed, cancelled, rescheduled, seat moved). A receiver that acts
after the commit registers `transaction.on_commit` itself, so nothing is sent for a change that
rolls back. notifications (emails and reminders) is the receiver today.

Arguments: `booking_id`, `kind` (a NotificationKind value), `refund_minor` (the refund a
cancellation grants, None when nothing was paid online) and `key` (distinguishes two messages
of one kind, e.g. two refunds).
"""

from __future__ import annotations

from django.dispatch import Signal

booking_changed = Signal()


def booking_changed_send(
    *, booking_id: int, kind: str, refund_minor: int | None = None, key: str = ""
) -> None:
    booking_changed.send(
        sender=None, booking_id=booking_id, kind=kind, refund_minor=refund_minor, key=key
    )
