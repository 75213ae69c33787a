"""Writes of scheduling: holds, confirmations, cancellations, reschedules, hold expiry.

Transitions are conditional updates (`filter(status__in=sources).update(...)`): zero rows updated
means another request got there first, which is reported, never ignored. Every transition appends
a BookingEvent. Overlaps are refused by PostgreSQL's exclusion constraints; SQLSTATE 23P01 is
mapped to SlotTaken here and nowhere else.

Row locks are taken through scheduling.locking, in its one order (staff → resource → occurrence
→ booking).
"""

import dataclasses
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q
from django.utils import timezone

from scheduling import ports, slots
from scheduling.actors import CUSTOMER, SYSTEM, Actor
from scheduling.cancellation_policy import (
    CancellationPolicy,
    RefundDecision,
    refund_for_cancellation,
)
from scheduling.exceptions import InvalidTransition, SessionFull, SlotTaken
from scheduling.locking import (
    is_exclusion_violation,
    lock_booking,
    lock_occurrence,
    lock_staff_and_resource,
)
from scheduling.models import (
    ACTIVE_STATUSES,
    PAID_WITH_CREDIT,
    Booking,
    BookingEvent,
    BookingSource,
    BookingStatus,
    Customer,
    NotificationKind,
    Occurrence,
    Resource,
    SchedulingSettings,
    Service,
)
from scheduling.selectors.availability import (
    resource_pool,
    scheduling_calendar,
    service_rules,
    staff_schedules,
)
from scheduling.signals import booking_changed_send
from tenants.context import current_tenant_or_none

logger = logging.getLogger(__name__)

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U


def scheduling_settings() -> SchedulingSettings:
    settings_row, _ = SchedulingSettings.objects.get_or_create(pk=1)
    return settings_row


def _reference_prefix() -> str:
    prefix = scheduling_settings().reference_prefix
    if prefix:
        return prefix.upper()
    tenant = current_tenant_or_none()
    slug = tenant.slug if tenant is not None else "BKG"
    return "".join(ch for ch in slug.upper() if ch.isalnum())[:3] or "BKG"


def _new_reference() -> str:
    """A short code a customer can read out on the phone, unused in this business.

    Four characters give 810,000 codes: after a few hundred bookings a random draw collides
    now and then (seen in bench/contention.py), so draw again; a business that has used most of
    them gets longer codes.
    """
    prefix = _reference_prefix()
    for attempt in range(12):
        length = 4 if attempt < 8 else 6
        reference = f"{prefix}-{''.join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))}"
        if not Booking.objects.filter(reference=reference).exists():
            return reference
    raise RuntimeError("Could not draw an unused booking reference.")


def _record(booking: Booking | int, *, actor: Actor, action: str, from_status: str,
            to_status: str, reason: str = "", data: dict | None = None) -> None:  # fmt: skip
    """The audit row of a transition, then the listeners of `ports.booking_transitioned` (same
    transaction: a listener's writes commit or roll back with the transition)."""
    booking_id = booking if isinstance(booking, int) else booking.pk
    BookingEvent.objects.create(
        booking_id=booking_id,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )
    ports.booking_transitioned(
        ports.BookingTransition(booking_id=booking_id, from_status=from_status,
                                to_status=to_status, action=action, actor=actor)
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Holds
# ---------------------------------------------------------------------------
def _occupied_range(service: Service, starts_at: datetime) -> tuple[datetime, datetime, datetime]:
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    return (
        ends_at,
        starts_at - timedelta(minutes=service.buffer_before_minutes),
        ends_at + timedelta(minutes=service.buffer_after_minutes),
    )


def _expire_overlapping_holds(*, now: datetime, overlap: Q) -> None:
    """Expired holds stop blocking at once: expire those in the way inside this transaction."""
    stale = list(
        Booking.objects.select_for_update()
        .filter(overlap, status=BookingStatus.HELD, hold_expires_at__lte=now)
        .values_list("pk", flat=True)
    )
    if stale:
        booking_expire(booking_ids=stale, now=now)


def _rules_for(service: Service, *, team_booking: bool) -> slots.ServiceRules:
    rules = service_rules(service)
    if team_booking:
        return dataclasses.replace(rules, minimum_notice_minutes=0, maximum_advance_days=None)
    return rules


def booking_hold(
    *,
    service: Service,
    starts_at: datetime,
    customer: Customer,
    staff_id: int | None = None,
    source: str = BookingSource.WIDGET,
    embedded_on: str = "",
    notes: str = "",
    now: datetime | None = None,
    actor: Actor = CUSTOMER,
    team_booking: bool = False,
    use_credit: bool = False,
    member_pricing: bool = False,
    language: str = "",
) -> Booking:
    """Reserve a slot while the customer pays (or confirm at once for staff bookings).

    A team booking (a walk-in, a phoned-in customer) ignores the online booking window, minimum
    notice and maximum advance, which exist to protect the team from customers; never the past.
    `use_credit`: pay with a credit of a pass or membership (the credits port takes it inside
    this transaction; without one, CreditUnavailable and nothing is held). Only for a signed-in
    customer or the team: the caller decides that. `member_pricing`: the customer is identified
    by their signed-in account session (or chosen by the team), so a member price applies
    (`ports.pricing()`); never for an email typed into a form. `language`: the one the customer
    booked in (their emails are written in it); empty for the business's language.
    """
    now = now or timezone.now()
    if service.capacity > 1:
        raise InvalidTransition("This is a group service: book a seat in one of its sessions.")
    if not service.is_active:
        raise slots.SlotUnavailable("This service is not available for booking.")
    window_start = starts_at - timedelta(days=1)
    window_end = starts_at + timedelta(days=1)
    schedules = staff_schedules(
        service=service, start=window_start, end=window_end, now=now, staff_id=staff_id
    )
    # The engine keeps staff ids opaque (`StaffId`); ours are primary keys.
    assigned = int(
        slots.validate_requested_start(
            calendar=scheduling_calendar(),
            service=_rules_for(service, team_booking=team_booking),
            staff=schedules,
            start=starts_at,
            now=now,
            staff_id=staff_id,
            resource=resource_pool(service=service, start=window_start, end=window_end, now=now),
        )
    )
    ends_at, occupied_start, occupied_end = _occupied_range(service, starts_at)
    occupied = DateTimeTZRange(occupied_start, occupied_end, "[)")
    resource = service.resource
    hold_minutes = scheduling_settings().hold_minutes
    price_minor, price_data = _price_of(service, customer, member_pricing and not use_credit)
    overlap = Q(occupied__overlap=occupied) & (
        Q(staff_id=assigned) | (Q(resource=resource) if resource else Q(pk__in=[]))
    )
    try:
        with transaction.atomic():
            lock_staff_and_resource(
                staff_id=assigned, resource_id=resource.pk if resource else None
            )
            _expire_overlapping_holds(now=now, overlap=overlap)
            if resource is not None and resource.quantity > 1:
                _check_resource_units(resource=resource, occupied=occupied)
            booking = Booking.objects.create(
                reference=_new_reference(),
                service=service,
                staff_id=assigned,
                resource=resource,
                resource_exclusive=resource is not None and resource.quantity == 1,
                customer=customer,
                starts_at=starts_at,
                ends_at=ends_at,
                occupied=occupied,
                status=BookingStatus.HELD,
                hold_expires_at=now + timedelta(minutes=hold_minutes),
                price_minor=price_minor,
                currency=_tenant_currency(),
                payment_mode=PAID_WITH_CREDIT if use_credit else service.payment_mode,
                policy_snapshot=service.cancellation_policy,
                source=source,
                embedded_on=embedded_on,
                notes=notes,
                language=language,
            )
            _record(booking, actor=actor, action="creneau.booking.held", from_status="",
                    to_status=BookingStatus.HELD, data=price_data)  # fmt: skip
            if use_credit:
                ports.credits().take_for_hold(booking=booking, now=now)
    except IntegrityError as error:
        if is_exclusion_violation(error):
            raise SlotTaken()
        raise
    logger.info("booking.held", extra={"reference": booking.reference})
    return booking


def _price_of(service: Service, customer: Customer, member_pricing: bool) -> tuple[int, dict]:
    """The booking's price and what the held event records: the service's price, or the member
    price the pricing port gives an identified member."""
    if member_pricing:
        member = ports.pricing().member_price_for(customer=customer, service=service)
        if member is not None and 0 < member.price_minor < service.price_minor:
            return member.price_minor, {"member_price": {
                "price_minor": member.price_minor, "normal_minor": service.price_minor,
                "percent_off": member.percent_off, "membership": member.label,
            }}  # fmt: skip
    return service.price_minor, {}


def _tenant_currency() -> str:
    tenant = current_tenant_or_none()
    return (tenant.currency if tenant is not None else "") or "EUR"


def _check_resource_units(
    *, resource: Resource, occupied: DateTimeTZRange, exclude_booking_id: int | None = None
) -> None:
    """Several units (the resource row is locked by the caller): count overlapping bookings."""
    in_use = Booking.objects.filter(
        resource=resource, status__in=ACTIVE_STATUSES, occupied__overlap=occupied
    )
    if exclude_booking_id is not None:
        in_use = in_use.exclude(pk=exclude_booking_id)
    if _max_concurrent(in_use.values_list("occupied", flat=True), occupied) >= resource.quantity:
        raise SlotTaken("No room is free at this time. Please pick another time.")


def _max_concurrent(ranges: Iterable[DateTimeTZRange], within: DateTimeTZRange) -> int:
    points: list[tuple[datetime, int]] = []
    for item in ranges:
        points.append((max(item.lower, within.lower), 1))
        points.append((min(item.upper, within.upper), -1))
    current = peak = 0
    for _, delta in sorted(points, key=lambda p: (p[0], p[1])):
        current += delta
        peak = max(peak, current)
    return peak


def _lock_session_with_a_free_seat(occurrence: Occurrence, *, now: datetime) -> Occurrence:
    """Lock the session's row and make sure a seat is free (stale holds give theirs back); the
    caller takes or moves a seat in the same transaction."""
    locked = lock_occurrence(occurrence.pk)
    if locked.is_cancelled:
        raise SessionFull("This session was cancelled.")
    _expire_overlapping_holds(now=now, overlap=Q(occurrence=locked))
    taken = Booking.objects.filter(occurrence=locked, status__in=ACTIVE_STATUSES).count()
    if taken >= locked.capacity:
        raise SessionFull()
    return locked


def booking_take_seat(
    *,
    occurrence: Occurrence,
    customer: Customer,
    source: str = BookingSource.WIDGET,
    embedded_on: str = "",
    notes: str = "",
    now: datetime | None = None,
    actor: Actor = CUSTOMER,
    use_credit: bool = False,
    member_pricing: bool = False,
    language: str = "",
) -> Booking:
    """A seat in a group session: the occurrence row is locked while seats are counted.
    `use_credit`, `member_pricing` and `language` as for `booking_hold`."""
    now = now or timezone.now()
    service = occurrence.service
    price_minor, price_data = _price_of(service, customer, member_pricing and not use_credit)
    if occurrence.starts_at < now + timedelta(minutes=service.minimum_notice_minutes):
        raise slots.SlotTooSoon()
    with transaction.atomic():
        locked = _lock_session_with_a_free_seat(occurrence, now=now)
        booking = Booking.objects.create(
            reference=_new_reference(),
            service=service,
            staff=locked.staff,
            occurrence=locked,
            customer=customer,
            starts_at=locked.starts_at,
            ends_at=locked.ends_at,
            occupied=DateTimeTZRange(locked.starts_at, locked.ends_at, "[)"),
            status=BookingStatus.HELD,
            hold_expires_at=now + timedelta(minutes=scheduling_settings().hold_minutes),
            price_minor=price_minor,
            currency=_tenant_currency(),
            payment_mode=PAID_WITH_CREDIT if use_credit else service.payment_mode,
            policy_snapshot=service.cancellation_policy,
            source=source,
            embedded_on=embedded_on,
            notes=notes,
            language=language,
        )
        _record(booking, actor=actor, action="creneau.booking.held", from_status="",
                to_status=BookingStatus.HELD,
                data={"occurrence": locked.pk, **price_data})  # fmt: skip
        if use_credit:
            ports.credits().take_for_hold(booking=booking, now=now)
    return booking


# ---------------------------------------------------------------------------
# Transitions
# ---------------------------------------------------------------------------
TRANSITIONS: dict[str, tuple[str, ...]] = {
    BookingStatus.CONFIRMED: (BookingStatus.HELD,),
    BookingStatus.COMPLETED: (BookingStatus.CONFIRMED,),
    BookingStatus.NO_SHOW: (BookingStatus.CONFIRMED,),
    BookingStatus.CANCELLED: (BookingStatus.HELD, BookingStatus.CONFIRMED),
    BookingStatus.EXPIRED: (BookingStatus.HELD,),
}


def _transition(booking: Booking, *, to: str, actor: Actor, reason: str = "",
                data: dict | None = None, extra: dict | None = None) -> Booking:  # fmt: skip
    sources = TRANSITIONS[to]
    with transaction.atomic():
        current = lock_booking(booking.pk)
        if current.status == to:
            return current  # already done: idempotent
        updated = Booking.objects.filter(pk=booking.pk, status__in=sources).update(
            status=to, **(extra or {})
        )
        if updated != 1:
            raise InvalidTransition(
                f"This booking is {current.get_status_display().lower()} and cannot become "
                f"{BookingStatus(to).label.lower()}."
            )
        _record(current, actor=actor, action=f"creneau.booking.{to}", from_status=current.status,
                to_status=to, reason=reason, data=data)  # fmt: skip
    current.refresh_from_db()
    return current


def booking_confirm(*, booking: Booking, actor: Actor = SYSTEM, reason: str = "") -> Booking:
    confirmed = _transition(
        booking, to=BookingStatus.CONFIRMED, actor=actor, reason=reason,
        extra={"hold_expires_at": None},
    )  # fmt: skip
    booking_changed_send(booking_id=confirmed.pk, kind=NotificationKind.CONFIRMED)
    return confirmed


def booking_complete(*, booking: Booking, actor: Actor, now: datetime | None = None) -> Booking:
    if booking.starts_at > (now or timezone.now()):
        raise InvalidTransition("A booking can be completed once it has started.")
    return _transition(booking, to=BookingStatus.COMPLETED, actor=actor)


def booking_mark_no_show(*, booking: Booking, actor: Actor, now: datetime | None = None) -> Booking:
    if booking.starts_at > (now or timezone.now()):
        raise InvalidTransition("A no-show can be recorded once the booking has started.")
    return _transition(booking, to=BookingStatus.NO_SHOW, actor=actor)


def booking_cancel(
    *,
    booking: Booking,
    actor: Actor,
    by_business: bool,
    reason: str = "",
    paid_minor: int = 0,
    already_refunded_minor: int = 0,
    now: datetime | None = None,
) -> RefundDecision:
    """Cancel and return the refund the payments code must execute (nothing about money here).

    The policy is the snapshot taken at booking time, not the service's current one.
    """
    now = now or timezone.now()
    decision = refund_for_cancellation(
        policy=CancellationPolicy.from_json(booking.policy_snapshot),
        paid_minor=paid_minor,
        already_refunded_minor=already_refunded_minor,
        starts_at=booking.starts_at,
        cancelled_at=now,
        cancelled_by_business=by_business,
    )
    _transition(
        booking,
        to=BookingStatus.CANCELLED,
        actor=actor,
        reason=reason,
        data={"refund_percent": decision.percent, "refund_minor": decision.amount_minor},
    )
    refund_minor = decision.amount_minor if paid_minor else None  # None: nothing paid online
    booking_changed_send(booking_id=booking.pk, kind=NotificationKind.CANCELLED,
                         refund_minor=refund_minor)  # fmt: skip
    return decision


def booking_cancel_with_refund(
    *,
    booking: Booking,
    actor: Actor,
    by_business: bool,
    reason: str = "",
    now: datetime | None = None,
) -> RefundDecision:
    """Cancel with the policy applied to the money really paid, then have it refunded.

    For the customer's cancel endpoint and the staff calendar alike. The amounts and the refund
    come from the payments port (scheduling.ports): without payments, nothing was paid online.
    """
    payments = ports.payments()
    paid_minor, already_refunded_minor = payments.cancellation_amounts(booking=booking)
    decision = booking_cancel(
        booking=booking,
        actor=actor,
        by_business=by_business,
        reason=reason,
        paid_minor=paid_minor,
        already_refunded_minor=already_refunded_minor,
        now=now,
    )
    payments.refund_for_cancellation(booking=booking, decision=decision, actor=actor)
    return decision


def booking_retake_after_late_payment(*, booking: Booking, now: datetime | None = None) -> bool:
    """Expired → confirmed when the slot is still free (a payment arrived after the hold ran out).

    The one transition out of `expired`, with the same locks, conditional update and BookingEvent
    as the others. Returns False when the time was taken meanwhile (the caller refunds).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            lock_staff_and_resource(staff_id=booking.staff_id, resource_id=booking.resource_id)
            if booking.occurrence_id:
                occurrence = lock_occurrence(booking.occurrence_id)
                taken = Booking.objects.filter(
                    occurrence=occurrence, status__in=ACTIVE_STATUSES
                ).count()
                if occurrence.is_cancelled or taken >= occurrence.capacity:
                    return False
            else:
                overlap = Q(occupied__overlap=booking.occupied) & (
                    Q(staff_id=booking.staff_id)
                    | (Q(resource_id=booking.resource_id) if booking.resource_id else Q(pk__in=[]))
                )
                _expire_overlapping_holds(now=now, overlap=overlap)
                if booking.resource_id and not booking.resource_exclusive:
                    resource = Resource.objects.get(pk=booking.resource_id)
                    in_use = Booking.objects.filter(
                        resource_id=resource.pk,
                        status__in=ACTIVE_STATUSES,
                        occupied__overlap=booking.occupied,
                    ).count()
                    if in_use >= resource.quantity:
                        return False
            updated = Booking.objects.filter(pk=booking.pk, status=BookingStatus.EXPIRED).update(
                status=BookingStatus.CONFIRMED, hold_expires_at=None
            )
            if updated != 1:
                return False
            _record(booking.pk, actor=SYSTEM, action="creneau.booking.confirmed",
                    from_status=BookingStatus.EXPIRED, to_status=BookingStatus.CONFIRMED,
                    reason="Paid after the hold expired; the time was still free.")  # fmt: skip
    except IntegrityError as error:
        if is_exclusion_violation(error):
            return False
        raise
    return True


def booking_expire(*, booking_ids: list[int], now: datetime | None = None) -> int:
    """Expire holds whose time ran out; returns how many this call expired."""
    now = now or timezone.now()
    expired = 0
    for booking_id in booking_ids:
        updated = Booking.objects.filter(
            pk=booking_id, status=BookingStatus.HELD, hold_expires_at__lte=now
        ).update(status=BookingStatus.EXPIRED)
        if updated:
            expired += 1
            _record(booking_id, actor=SYSTEM, action="creneau.booking.expired",
                    from_status=BookingStatus.HELD, to_status=BookingStatus.EXPIRED,
                    reason="The hold ran out before payment.")  # fmt: skip
    return expired


def booking_expire_due_holds(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Booking.objects.select_for_update(skip_locked=True)
            .filter(status=BookingStatus.HELD, hold_expires_at__lte=now)
            .values_list("pk", flat=True)
        )
        return booking_expire(booking_ids=due, now=now)


def booking_reschedule(
    *,
    booking: Booking,
    new_start: datetime,
    actor: Actor,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Move a booking atomically: one UPDATE takes the new range and releases the old one, so a
    failure (slot taken, constraint) leaves the original booking exactly as it was."""
    now = now or timezone.now()
    if booking.status not in ACTIVE_STATUSES or booking.occurrence_id:
        raise InvalidTransition("Only an active appointment can be moved.")
    service = booking.service
    window_start = new_start - timedelta(days=1)
    window_end = new_start + timedelta(days=1)
    schedules = staff_schedules(
        service=service, start=window_start, end=window_end, now=now,
        staff_id=staff_id, exclude_booking_id=booking.pk,
    )  # fmt: skip
    # The engine keeps staff ids opaque (`StaffId`); ours are primary keys.
    assigned = int(slots.validate_requested_start(
        calendar=scheduling_calendar(),
        service=service_rules(service),
        staff=schedules,
        start=new_start,
        now=now,
        staff_id=staff_id,
        resource=resource_pool(
            service=service, start=window_start, end=window_end, now=now,
            exclude_booking_id=booking.pk,
        ),
    ))  # fmt: skip
    ends_at, occupied_start, occupied_end = _occupied_range(service, new_start)
    occupied = DateTimeTZRange(occupied_start, occupied_end, "[)")
    try:
        with transaction.atomic():
            lock_staff_and_resource(staff_id=assigned, resource_id=service.resource_id)
            current = lock_booking(booking.pk)
            if current.status not in ACTIVE_STATUSES:
                raise InvalidTransition("This booking can no longer be moved.")
            overlap = Q(occupied__overlap=occupied) & ~Q(pk=current.pk) & (
                Q(staff_id=assigned) | (Q(resource=service.resource) if service.resource
                                        else Q(pk__in=[]))
            )  # fmt: skip
            _expire_overlapping_holds(now=now, overlap=overlap)
            if service.resource is not None and service.resource.quantity > 1:
                _check_resource_units(
                    resource=service.resource, occupied=occupied, exclude_booking_id=current.pk
                )
            previous = {"starts_at": current.starts_at.isoformat(), "staff": current.staff_id}
            Booking.objects.filter(pk=current.pk).update(
                starts_at=new_start, ends_at=ends_at, occupied=occupied, staff_id=assigned
            )
            _record(current, actor=actor, action="creneau.booking.rescheduled",
                    from_status=current.status, to_status=current.status,
                    data={"from": previous, "to": {"starts_at": new_start.isoformat(),
                                                   "staff": assigned}})  # fmt: skip
    except IntegrityError as error:
        if is_exclusion_violation(error):
            raise SlotTaken()
        raise
    booking_changed_send(booking_id=booking.pk, kind=NotificationKind.RESCHEDULED)
    booking.refresh_from_db()
    return booking


def booking_move_seat(
    *,
    booking: Booking,
    occurrence: Occurrence,
    actor: Actor,
    now: datetime | None = None,
) -> Booking:
    """Move a seat to another session of the same class ("I can't come Tuesday, put me on
    Thursday"). The new session's row is locked while its seats are counted, as when a seat is
    taken; one UPDATE moves the booking, so a full session leaves the seat where it was. The
    payment, price and policy stay with the booking. Customers keep to the minimum notice; the
    team may move anyone to any session that has not started."""
    now = now or timezone.now()
    if booking.status not in ACTIVE_STATUSES or booking.occurrence_id is None:
        raise InvalidTransition("Only an active seat in a session can be moved to another one.")
    if occurrence.service_id != booking.service_id:
        raise InvalidTransition("A seat can only move to another session of the same class.")
    if occurrence.pk == booking.occurrence_id:
        raise InvalidTransition("The booking is already in this session.")
    if occurrence.starts_at <= now:
        raise slots.SlotInPast("This session has already started.")
    if actor == CUSTOMER:
        service = booking.service
        if occurrence.starts_at < now + timedelta(minutes=service.minimum_notice_minutes):
            raise slots.SlotTooSoon()
        if occurrence.starts_at > now + timedelta(days=service.maximum_advance_days):
            raise slots.SlotTooFarAhead()
    with transaction.atomic():
        locked = _lock_session_with_a_free_seat(occurrence, now=now)
        current = lock_booking(booking.pk)
        if current.status not in ACTIVE_STATUSES or current.starts_at <= now:
            raise InvalidTransition("This booking can no longer be moved.")
        previous = {
            "starts_at": current.starts_at.isoformat(),
            "staff": current.staff_id,
            "occurrence": current.occurrence_id,
        }
        Booking.objects.filter(pk=current.pk).update(
            occurrence=locked,
            staff_id=locked.staff_id,
            starts_at=locked.starts_at,
            ends_at=locked.ends_at,
            occupied=DateTimeTZRange(locked.starts_at, locked.ends_at, "[)"),
        )
        _record(current, actor=actor, action="creneau.booking.rescheduled",
                from_status=current.status, to_status=current.status,
                data={"from": previous, "to": {"starts_at": locked.starts_at.isoformat(),
                                               "staff": locked.staff_id,
                                               "occurrence": locked.pk}})  # fmt: skip
    booking_changed_send(booking_id=booking.pk, kind=NotificationKind.RESCHEDULED)
    booking.refresh_from_db()
    return booking
