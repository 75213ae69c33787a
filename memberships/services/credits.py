"""Writes of the credit ledger: grant, hold, spend, return, forfeit, adjust, suspend, expire.

Every change of a balance is a conditional UPDATE of the grant's `remaining` under the grant's
row lock plus one new `CreditEntry`, in one transaction; PostgreSQL refuses a negative
`remaining` (CHECK) and any change to an entry (trigger), so a bug here fails loudly instead of
overdrawing. Lock order: the grant row comes after scheduling's (staff → resource → occurrence
→ booking), since holds, spends and returns run inside booking transitions.

Booking-linked entries are once per booking and kind (a unique index): spending or returning
twice is a no-op, which makes the transition listener idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from scheduling.actors import SYSTEM, Actor
from scheduling.models import Booking, Customer

from ..exceptions import CreditRefused, CreditUnavailable
from ..exceptions import lazy_text as _
from ..models import CreditEntry, CreditEntryKind, CreditGrant, CreditSourceKind
from ..selectors.credits import cap_allows, credit_of_booking, usable_grants

logger = logging.getLogger(__name__)


def _entry(grant: CreditGrant, *, kind: str, delta: int, booking_id: int | None = None,
           reason: str = "", actor: Actor = SYSTEM) -> CreditEntry:  # fmt: skip
    return CreditEntry.objects.create(
        grant=grant,
        customer_id=grant.customer_id,
        kind=kind,
        delta=delta,
        booking_id=booking_id,
        reason=reason[:300],
        actor_label=actor.label,
    )


def credit_grant(
    *,
    customer: Customer,
    source_kind: str,
    source_id: str,
    credits: int | None,
    expires_at: datetime | None,
    service_ids: Iterable[int],
    idempotency_key: str,
    cap_per_day: int | None = None,
    cap_per_week: int | None = None,
    valid_days_after_first_use: int | None = None,
    valid_from: datetime | None = None,
    reason: str = "",
    actor: Actor = SYSTEM,
) -> CreditGrant:
    """Give `credits` (None: unlimited) to a customer; the same key returns the same grant.

    A purchase's webhook, a renewal's `invoice.paid` and their duplicates all call this with
    the key of what caused them, so a credit is granted once however often they arrive.
    `expires_at` None with `valid_days_after_first_use` makes the validity start at the first
    hold; None with neither: no expiry.
    """
    if source_kind not in CreditSourceKind.values:
        raise CreditRefused(f"Unknown source of credits: {source_kind!r}.")
    if credits is not None and credits < 0:
        raise CreditRefused(_("A grant cannot have a negative number of credits."))
    existing = CreditGrant.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            grant = CreditGrant.objects.create(
                customer=customer,
                source_kind=source_kind,
                source_id=str(source_id),
                credits_total=credits,
                remaining=credits,
                cap_per_day=cap_per_day,
                cap_per_week=cap_per_week,
                expires_at=expires_at,
                valid_days_after_first_use=valid_days_after_first_use,
                valid_from=valid_from or timezone.now(),
                idempotency_key=idempotency_key,
            )
            grant.services.set(list(service_ids))
            _entry(grant, kind=CreditEntryKind.GRANTED, delta=credits or 0, reason=reason,
                   actor=actor)  # fmt: skip
    except IntegrityError:  # the same key granted concurrently
        return CreditGrant.objects.get(idempotency_key=idempotency_key)
    logger.info("credits.granted", extra={"grant": grant.pk, "credits": credits})
    return grant


def credit_hold(*, booking: Booking, now: datetime | None = None) -> CreditEntry:
    """Take one credit for a held booking; call inside the hold's transaction.

    Tries the customer's usable grants soonest-expiring first, each under its row lock; the
    decrement is `UPDATE … WHERE remaining > 0`, so when concurrent holds race for the last
    credit exactly one gets it. Raises CreditUnavailable (the hold rolls back with it).
    """
    now = now or timezone.now()
    with transaction.atomic():
        existing = credit_of_booking(booking_id=booking.pk)
        if existing is not None:
            return existing
        candidates = list(
            usable_grants(
                customer=booking.customer, service=booking.service,
                starts_at=booking.starts_at, now=now,
            ).values_list("pk", flat=True)
        )  # fmt: skip
        for grant_id in candidates:
            grant = CreditGrant.objects.select_for_update().get(pk=grant_id)
            if grant.suspended or grant.expired_at is not None:
                continue
            if not cap_allows(grant, starts_at=booking.starts_at):
                continue
            if grant.remaining is not None:
                taken = CreditGrant.objects.filter(pk=grant.pk, remaining__gt=0).update(
                    remaining=F("remaining") - 1
                )
                if taken != 1:
                    continue  # emptied by the hold before ours
            if grant.expires_at is None and grant.valid_days_after_first_use is not None:
                CreditGrant.objects.filter(pk=grant.pk).update(
                    expires_at=now + timedelta(days=grant.valid_days_after_first_use)
                )
            entry = _entry(grant, kind=CreditEntryKind.HELD, delta=-1, booking_id=booking.pk,
                           reason=f"Booking {booking.reference}")  # fmt: skip
            logger.info("credits.held", extra={"grant": grant.pk, "booking": booking.pk})
            return entry
    raise CreditUnavailable()


def credit_spend(*, booking: Booking, reason: str = "Booking confirmed") -> CreditEntry | None:
    """The booking is confirmed: its held credit is spent (no change of balance). No-op when
    the booking has no credit or it was spent or returned already."""
    with transaction.atomic():
        held = credit_of_booking(booking_id=booking.pk)
        if held is None:
            return None
        done = CreditEntry.objects.filter(
            booking_id=booking.pk, kind__in=(CreditEntryKind.SPENT, CreditEntryKind.RETURNED)
        ).exists()
        if done:
            return None
        grant = CreditGrant.objects.select_for_update().get(pk=held.grant_id)
        return _entry(grant, kind=CreditEntryKind.SPENT, delta=0, booking_id=booking.pk,
                      reason=reason)  # fmt: skip


def credit_return(*, booking: Booking, reason: str, actor: Actor = SYSTEM) -> CreditEntry | None:
    """Give the booking's credit back (in-policy cancellation, expired hold). Once per booking.

    A credit given back to a grant that expired meanwhile expires again at once (an `expired`
    entry follows), so the balance of an expired grant stays 0.
    """
    with transaction.atomic():
        held = credit_of_booking(booking_id=booking.pk)
        if held is None:
            return None
        grant = CreditGrant.objects.select_for_update().get(pk=held.grant_id)
        if CreditEntry.objects.filter(
            booking_id=booking.pk, kind=CreditEntryKind.RETURNED
        ).exists():
            return None
        if grant.remaining is not None:
            CreditGrant.objects.filter(pk=grant.pk).update(remaining=F("remaining") + 1)
        entry = _entry(grant, kind=CreditEntryKind.RETURNED, delta=+1, booking_id=booking.pk,
                       reason=reason, actor=actor)  # fmt: skip
        if grant.expired_at is not None and grant.remaining is not None:
            CreditGrant.objects.filter(pk=grant.pk).update(remaining=F("remaining") - 1)
            _entry(grant, kind=CreditEntryKind.EXPIRED, delta=-1,
                   reason="Returned after the credits expired.")  # fmt: skip
        logger.info("credits.returned", extra={"grant": grant.pk, "booking": booking.pk})
        return entry


def credit_forfeit(*, booking: Booking, reason: str) -> CreditEntry | None:
    """Late cancellation or no-show: the credit stays used. A credit only held is spent now;
    one already spent stays so (nothing new is written)."""
    return credit_spend(booking=booking, reason=reason)


def credit_adjust(*, customer: Customer, grant: CreditGrant | None, delta: int, reason: str,
                  actor: Actor) -> CreditEntry:  # fmt: skip
    """A team member adds or removes credits, with a reason. `grant` None and a positive delta:
    a new adjustment grant (every service, no expiry). Never below zero: refused here and by
    the database."""
    reason = reason.strip()
    if not reason:
        raise CreditRefused(_("Say why the credits change."))
    if delta == 0:
        raise CreditRefused(_("The change must add or remove at least one credit."))
    if grant is None:
        if delta < 0:
            raise CreditRefused(_("Choose the credits to remove."))
        created = credit_grant(
            customer=customer, source_kind=CreditSourceKind.ADJUSTMENT,
            source_id=f"customer-{customer.pk}", credits=0, expires_at=None, service_ids=[],
            idempotency_key=f"adjustment:{customer.pk}:{timezone.now().isoformat()}:{delta}",
            actor=actor, reason="Opened for an adjustment",
        )  # fmt: skip
        grant = created
    if grant.customer_id != customer.pk:
        raise CreditRefused(_("These credits belong to another customer."))
    with transaction.atomic():
        locked = CreditGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.remaining is None:
            raise CreditRefused(_("Unlimited credits cannot be adjusted."))
        updated = CreditGrant.objects.filter(Q(pk=locked.pk) & Q(remaining__gte=-delta)).update(
            remaining=F("remaining") + delta
        )
        if updated != 1:
            raise CreditRefused(f"Only {locked.remaining} credit(s) are left to remove.")
        if delta > 0 and locked.credits_total is not None:
            CreditGrant.objects.filter(pk=locked.pk).update(
                credits_total=F("credits_total") + delta
            )
        return _entry(locked, kind=CreditEntryKind.ADJUSTED, delta=delta, reason=reason,
                      actor=actor)  # fmt: skip


def credit_grants_suspend(*, source_kind: str, source_id: str, suspended: bool) -> int:
    """Make the grants of one membership (or pass) unusable (past due) or usable again.
    Credits already held by bookings stay with them. Returns the number of grants changed."""
    changed = (
        CreditGrant.objects.filter(
            source_kind=source_kind, source_id=str(source_id), expired_at__isnull=True
        )
        .exclude(suspended=suspended)
        .update(suspended=suspended)
    )
    logger.info(
        "credits.suspended" if suspended else "credits.resumed",
        extra={"source_kind": source_kind, "source_id": source_id, "grants": changed},
    )
    return changed


def credits_expire_due(*, now: datetime | None = None) -> int:
    """Expire the grants whose date has passed: an `expired` entry takes what was left.

    Each grant in its own transaction under its row lock, skipping rows another sweep holds;
    running it twice expires nothing twice. Returns how many grants expired.
    """
    now = now or timezone.now()
    due = list(
        CreditGrant.objects.filter(expired_at__isnull=True, expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    expired = 0
    for grant_id in due:
        with transaction.atomic():
            grant = (
                CreditGrant.objects.select_for_update(skip_locked=True)
                .filter(pk=grant_id, expired_at__isnull=True)
                .first()
            )
            if grant is None:
                continue
            left = grant.remaining or 0
            CreditGrant.objects.filter(pk=grant.pk).update(
                expired_at=now, remaining=0 if grant.remaining is not None else None
            )
            if left:
                _entry(grant, kind=CreditEntryKind.EXPIRED, delta=-left,
                       reason="The credits reached their expiry date.")  # fmt: skip
            expired += 1
    if expired:
        logger.info("credits.expired", extra={"grants": expired})
    return expired


def credits_expiry_reminders_due(
    *, remind: Callable[[int], object], now: datetime | None = None, days_before: int = 7
) -> list[int]:
    """Mark the grants expiring within `days_before` days that still hold credits and were not
    reminded yet, calling `remind(grant_id)` for each in the same transaction (it writes the
    email's outbox row), so each grant is reminded once. Returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            CreditGrant.objects.select_for_update(skip_locked=True)
            .filter(
                expired_at__isnull=True,
                expiry_reminder_sent_at__isnull=True,
                expires_at__gt=now,
                expires_at__lte=now + timedelta(days=days_before),
                remaining__gt=0,
                suspended=False,
            )
            .values_list("pk", flat=True)
        )
        CreditGrant.objects.filter(pk__in=ids).update(expiry_reminder_sent_at=now)
        for grant_id in ids:
            remind(grant_id)
    return ids
