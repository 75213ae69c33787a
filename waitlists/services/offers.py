"""Freed places and their offers: from a booking transition to a booking made from the waitlist.

1. A transition that frees a seat or a time (cancelled, expired hold, moved away) reaches
   `place_on_booking_transition` inside its own transaction, which writes an outbox row when
   someone waits for that session or day: nothing slow, no lock, inside the freeing transaction.
2. After commit, on a worker of the `offers` queue (the outbox row's task), `place_open`
   re-counts under scheduling's row lock (the session's, else the staff member's) whether the
   seat or time is really free, open places included, and writes the place once (`source_key`
   unique per freeing event). Then the first fitting people in line get offers.
3. Accepting locks the place row first; the booking is made under it. Five people accepting
   one place at once queue on that lock: the first books, the others find the place filled.
   A place ever has one accepted offer (a partial unique index), so never two bookings.
4. Declining, an expired offer (the beat sweep) or leaving passes the place to the next person.

Lock order here: place → entry → scheduling's own (staff → resource → occurrence → booking).
`place_open` takes scheduling's lock first but then only inserts a new place and reads entries
with SKIP LOCKED, so it never waits on a lock the accepting side holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from outbox.services import outbox_enqueue
from scheduling import ports
from scheduling.actors import CUSTOMER, SYSTEM, Actor
from scheduling.exceptions import BookingError
from scheduling.locking import lock_occurrence, lock_staff_and_resource
from scheduling.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    Occurrence,
    PaymentMode,
    Service,
)
from scheduling.services.bookings import booking_confirm, booking_hold, booking_take_seat
from scheduling.services.customers import customer_upsert
from scheduling.slot_types import SlotError
from tenants.context import active_schema

from ..exceptions import NoSeatFree
from ..join_cards import carry_card_to_booking
from ..models import (
    OPEN_ENTRY_STATUSES,
    EntryStatus,
    FreedPlace,
    OfferStatus,
    PlaceStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
)
from ..selectors import business_zone, next_position, waitlist_settings

logger = logging.getLogger(__name__)

OPEN_PLACE_TASK = "waitlists.tasks.open_freed_place"
SEND_OFFER_TASK = "waitlists.tasks.send_offer_email"
AUTOMATIC_TASK = "waitlists.tasks.book_automatically"
NOTICE_TASK = "waitlists.tasks.send_offer_notice"
FREEING_STATUSES = (BookingStatus.CANCELLED, BookingStatus.EXPIRED)
RESCHEDULED = "creneau.booking.rescheduled"
CANDIDATES_PER_ROUND = 200  # entries read per offering round (fit is checked in Python)
ONLINE_MODES = (PaymentMode.ONLINE_FULL, PaymentMode.ONLINE_DEPOSIT)
# People whose service asked for a card on file are offered places once the card is saved.
CARD_READY = Q(needs_card=False) | Q(card_setup__status="saved")


# ---------------------------------------------------------------------------
# 1. A booking transition frees something
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Freed:
    service_id: int
    staff_id: int
    occurrence_id: int | None
    starts_at: datetime
    ends_at: datetime


def _freed_by(transition: ports.BookingTransition, event: BookingEvent | None) -> Freed | None:
    booking = Booking.objects.filter(pk=transition.booking_id).first()
    if booking is None:
        return None
    if transition.to_status in FREEING_STATUSES and transition.from_status in ACTIVE_STATUSES:
        return Freed(booking.service_id, booking.staff_id, booking.occurrence_id,
                     booking.starts_at, booking.ends_at)  # fmt: skip
    if transition.action == RESCHEDULED and event is not None:
        before = event.data.get("from") or {}
        if "starts_at" not in before:
            return None
        starts_at = datetime.fromisoformat(before["starts_at"])
        return Freed(booking.service_id, int(before.get("staff") or booking.staff_id),
                     before.get("occurrence"), starts_at,
                     starts_at + (booking.ends_at - booking.starts_at))  # fmt: skip
    return None


def _someone_waits(freed: Freed) -> bool:
    waiting = WaitlistEntry.objects.filter(status=EntryStatus.WAITING)
    if freed.occurrence_id is not None:
        return waiting.filter(occurrence_id=freed.occurrence_id).exists()
    day = freed.starts_at.astimezone(business_zone()).date()
    return waiting.filter(day=day, occurrence__isnull=True).exists()


def _back_of_the_line(*, booking_id: int) -> None:
    """Someone took a place and did not pay before the hold ran out (or gave it up): they are
    waiting again, at the end of the line, so the place is not offered back to them at once."""
    WaitlistEntry.objects.filter(booking_id=booking_id, status=EntryStatus.BOOKED).update(
        status=EntryStatus.WAITING, booking=None, position=next_position()
    )


def place_on_booking_transition(transition: ports.BookingTransition) -> None:
    """The listener of `scheduling.ports.register_booking_transition` (inside the transition's
    transaction): an outbox row when the change freed something someone waits for."""
    if not (
        (transition.to_status in FREEING_STATUSES and transition.from_status in ACTIVE_STATUSES)
        or transition.action == RESCHEDULED
    ):
        return
    if transition.from_status == BookingStatus.HELD and transition.to_status in FREEING_STATUSES:
        _back_of_the_line(booking_id=transition.booking_id)
    event = (
        BookingEvent.objects.filter(booking_id=transition.booking_id, action=transition.action)
        .order_by("-pk")
        .first()
    )
    freed = _freed_by(transition, event)
    if freed is None or not _someone_waits(freed):
        return
    settings_row = WaitlistSettings.objects.filter(pk=1).first()
    if settings_row is not None and not settings_row.is_enabled:
        return
    booking_id, event_id = transition.booking_id, event.pk if event else None
    # Opened by a worker of the `offers` queue (settings CELERY_TASK_ROUTES), off the cancelling
    # request and never behind the default queue's emails; the outbox row hands it over after
    # commit, or the sweep does if the broker was away (docs/decisions/0016).
    outbox_enqueue(OPEN_PLACE_TASK, kwargs={"booking_id": booking_id, "event_id": event_id},
                   schema_name=active_schema())  # fmt: skip


# ---------------------------------------------------------------------------
# 2. The place, counted under scheduling's lock, then its first offers
# ---------------------------------------------------------------------------
def place_open(*, booking_id: int, event_id: int | None, now: datetime | None = None) -> str:
    """After commit: write the freed place (once) if it is still free, and offer it. Returns
    what happened ("offered", "duplicate", "taken", "past", "nobody")."""
    now = now or timezone.now()
    event = BookingEvent.objects.filter(pk=event_id).first() if event_id else None
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or event is None:
        return "gone"
    transition = ports.BookingTransition(booking_id, event.from_status, event.to_status,
                                         event.action, SYSTEM)  # fmt: skip
    freed = _freed_by(transition, event)
    if freed is None:
        return "gone"
    service = Service.objects.get(pk=freed.service_id)
    if freed.starts_at <= now + timedelta(minutes=service.minimum_notice_minutes):
        return "past"
    source_key = f"booking-{booking_id}-event-{event.pk}"
    with transaction.atomic():
        if freed.occurrence_id is not None:
            session = lock_occurrence(freed.occurrence_id)
        else:
            lock_staff_and_resource(staff_id=freed.staff_id, resource_id=None)
        # Under the lock: a second handling of this event (the outbox handed the row twice,
        # two workers at once) finds the first one's place.
        if FreedPlace.objects.filter(source_key=source_key).exists():
            return "duplicate"
        if freed.occurrence_id is not None:
            if session.is_cancelled or not _seat_free(session):
                return "taken"
        elif _time_taken(freed):
            return "taken"
        try:
            with transaction.atomic():
                place = FreedPlace.objects.create(
                    service_id=freed.service_id, occurrence_id=freed.occurrence_id,
                    staff_id=freed.staff_id, starts_at=freed.starts_at, ends_at=freed.ends_at,
                    source_key=source_key, created_at=now,
                )  # fmt: skip
        except IntegrityError:  # the same time is already being offered
            return "duplicate"
        offers = _offer_next(place, settings_row=waitlist_settings(), now=now)
    logger.info("waitlist.place_opened", extra={"place": place.pk, "offers": len(offers)})
    return "offered" if offers else "nobody"


def _seat_free(session: Occurrence) -> bool:
    """Under the session's row lock: a seat nobody holds and no open place offers already."""
    taken = Booking.objects.filter(occurrence=session, status__in=ACTIVE_STATUSES).count()
    open_places = FreedPlace.objects.filter(occurrence=session, status=PlaceStatus.OPEN).count()
    return taken + open_places < session.capacity


def _time_taken(freed: Freed) -> bool:
    return Booking.objects.filter(
        staff_id=freed.staff_id,
        status__in=ACTIVE_STATUSES,
        starts_at__lt=freed.ends_at,
        ends_at__gt=freed.starts_at,
    ).exists()


def _fits(entry: WaitlistEntry, place: FreedPlace, *, staff_services: set[int]) -> bool:
    """Whether the entry's request fits the place (the session, or the day, person and window)."""
    if place.occurrence_id is not None:
        return entry.occurrence_id == place.occurrence_id
    if entry.occurrence_id is not None or entry.service_id not in staff_services:
        return False
    if entry.staff_id is not None and entry.staff_id != place.staff_id:
        return False
    zone = business_zone()
    start = place.starts_at.astimezone(zone)
    if entry.day != start.date():
        return False
    duration = timedelta(minutes=entry.service.duration_minutes)
    if duration > place.ends_at - place.starts_at:
        return False
    if entry.window_start and start.time() < entry.window_start:
        return False
    end = (start + duration).time()
    return not (entry.window_end and (end > entry.window_end or end < start.time()))


def _candidates(place: FreedPlace) -> Q:
    if place.occurrence_id is not None:
        return Q(occurrence_id=place.occurrence_id)
    day = place.starts_at.astimezone(business_zone()).date()
    return Q(day=day, occurrence__isnull=True)


def _offer_next(
    place: FreedPlace, *, settings_row: WaitlistSettings, now: datetime
) -> list[WaitlistOffer]:
    """Offer the (place's row-locked or new) place to the next fitting people in line, up to
    `offers_at_once` open offers; the place lapses when nobody is left."""
    pending = place.offers.filter(status=OfferStatus.PENDING).count()
    wanted = settings_row.offers_at_once - pending
    if wanted <= 0:
        return []
    already = place.offers.values_list("entry_id", flat=True)
    rows = (
        WaitlistEntry.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(_candidates(place), status=EntryStatus.WAITING)
        .filter(CARD_READY)
        .exclude(pk__in=already)
        # A session's place fits everyone in its line: lock only the people offered, not 200.
        .order_by("position", "id")[: wanted if place.occurrence_id else CANDIDATES_PER_ROUND]
    )
    staff_services = set(
        Service.staff.through.objects.filter(staffmember_id=place.staff_id).values_list(
            "service_id", flat=True
        )
    )
    chosen: list[WaitlistEntry] = []
    for entry in rows:
        if _fits(entry, place, staff_services=staff_services):
            chosen.append(entry)
            if len(chosen) == wanted:
                break
    offers = [_offer_make(place, entry, settings_row=settings_row, now=now) for entry in chosen]
    if not offers and pending == 0:
        FreedPlace.objects.filter(pk=place.pk).update(status=PlaceStatus.LAPSED, closed_at=now)
    return offers


def _offer_make(place: FreedPlace, entry: WaitlistEntry, *, settings_row: WaitlistSettings,
                now: datetime, offered_by: str = "") -> WaitlistOffer:  # fmt: skip
    offer = WaitlistOffer.objects.create(
        place=place, entry=entry, created_at=now, offered_by=offered_by,
        expires_at=now + timedelta(minutes=settings_row.offer_minutes),
    )  # fmt: skip
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.OFFERED)
    if _books_automatically(entry, settings_row):
        outbox_enqueue(AUTOMATIC_TASK, args=[offer.pk], schema_name=active_schema())
    else:
        outbox_enqueue(SEND_OFFER_TASK, args=[offer.pk], schema_name=active_schema())
    logger.info("waitlist.offered", extra={"offer": offer.pk, "place": place.pk})
    return offer


def _books_automatically(entry: WaitlistEntry, settings_row: WaitlistSettings) -> bool:
    """Automatic mode books and charges at once, for people with a saved card whose card was
    not declined before (those get offers by link instead)."""
    from ..models import AcceptanceMode
    from ..payment import saved_card_charger

    charger = saved_card_charger()
    if settings_row.mode != AcceptanceMode.AUTOMATIC or charger is None:
        return False
    if entry.offers.filter(status=OfferStatus.CARD_DECLINED).exists():
        return False
    return charger.has_saved_card(email=entry.email)


def place_pass_on(*, place_id: int, now: datetime | None = None) -> list[WaitlistOffer]:
    """Offer an open place to the next people (after a decline, an expiry, a departure)."""
    now = now or timezone.now()
    with transaction.atomic():
        place = FreedPlace.objects.select_for_update().get(pk=place_id)
        if place.status != PlaceStatus.OPEN:
            return []
        if place.starts_at <= now:
            _lapse(place, now=now)
            return []
        return _offer_next(place, settings_row=waitlist_settings(), now=now)


def _lapse(place: FreedPlace, *, now: datetime) -> None:
    for offer in place.offers.filter(status=OfferStatus.PENDING):
        _close_offer(offer, status=OfferStatus.EXPIRED, now=now)
    FreedPlace.objects.filter(pk=place.pk).update(status=PlaceStatus.LAPSED, closed_at=now)


def _close_offer(offer: WaitlistOffer, *, status: str, now: datetime) -> bool:
    """Pending → `status`; the person is back in line (their place in it kept). A place lost to
    someone else is told to them by email (`NOTICE_TASK`)."""
    updated = WaitlistOffer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING).update(
        status=status, decided_at=now
    )
    if updated:
        WaitlistEntry.objects.filter(pk=offer.entry_id, status=EntryStatus.OFFERED).update(
            status=EntryStatus.WAITING
        )
        if status == OfferStatus.LOST:  # told kindly, by email, after commit
            outbox_enqueue(NOTICE_TASK, args=[offer.pk], schema_name=active_schema())
    return bool(updated)


# ---------------------------------------------------------------------------
# 3. Accepting, declining, expiring
# ---------------------------------------------------------------------------
class Outcome:
    BOOKED = "booked"  # confirmed at once (free, pay at the venue)
    PAY = "pay"  # held: pay through the Payment Element
    ALREADY = "already"  # this offer was accepted before (a second click)
    TAKEN = "taken"  # someone else got the place
    EXPIRED = "expired"
    CLOSED = "closed"  # declined, or the person left


@dataclass(frozen=True)
class Acceptance:
    outcome: str
    booking: Booking | None = None
    message: str = ""


def offer_accept(
    *, offer: WaitlistOffer, actor: Actor = CUSTOMER, now: datetime | None = None
) -> Acceptance:
    """Book the offered place for the person, or say kindly why not. Never pays: the caller
    starts the payment once this committed (`waitlists.payment`)."""
    now = now or timezone.now()
    with transaction.atomic():
        place = FreedPlace.objects.select_for_update().get(pk=offer.place_id)
        current = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        if current.status == OfferStatus.ACCEPTED:
            return Acceptance(Outcome.ALREADY, current.booking)
        if current.status == OfferStatus.LOST:
            return Acceptance(Outcome.TAKEN)
        if current.status == OfferStatus.EXPIRED or (
            current.status == OfferStatus.PENDING and current.expires_at <= now
        ):
            if current.status == OfferStatus.PENDING:
                _close_offer(current, status=OfferStatus.EXPIRED, now=now)
                transaction.on_commit(lambda: place_pass_on(place_id=place.pk))
            return Acceptance(Outcome.EXPIRED)
        if current.status != OfferStatus.PENDING:
            return Acceptance(Outcome.CLOSED)
        if place.status != PlaceStatus.OPEN:
            _close_offer(current, status=OfferStatus.LOST, now=now)
            return Acceptance(Outcome.TAKEN)
        entry = WaitlistEntry.objects.select_for_update().get(pk=current.entry_id)
        booking, refusal = _book(place, entry, actor=actor, now=now)
        if booking is None:
            _lapse_taken(place, now=now)
            return Acceptance(Outcome.TAKEN, message=refusal)
        if entry.card_setup_id is not None:  # the consent and card given when joining
            carry_card_to_booking(entry=entry, booking=booking)
        WaitlistOffer.objects.filter(pk=current.pk).update(
            status=OfferStatus.ACCEPTED, decided_at=now, booking=booking
        )
        FreedPlace.objects.filter(pk=place.pk).update(
            status=PlaceStatus.FILLED, booking=booking, closed_at=now
        )
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.BOOKED, booking=booking)
        for other in place.offers.filter(status=OfferStatus.PENDING).exclude(pk=current.pk):
            _close_offer(other, status=OfferStatus.LOST, now=now)
        if booking.payment_mode in ONLINE_MODES and booking.price_minor > 0:
            outcome = Outcome.PAY
        else:
            booking = booking_confirm(
                booking=booking, actor=actor, reason="Booked from the waitlist."
            )
            outcome = Outcome.BOOKED
    logger.info("waitlist.accepted", extra={"offer": offer.pk, "booking": booking.reference})
    return Acceptance(outcome, booking)


def _book(place: FreedPlace, entry: WaitlistEntry, *, actor: Actor,
          now: datetime) -> tuple[Booking | None, str]:  # fmt: skip
    """The hold (a seat or a time) for the person, in a savepoint: refused → (None, why)."""
    customer = customer_upsert(name=entry.name, email=entry.email)
    try:
        with transaction.atomic():
            if place.occurrence_id is not None:
                session = Occurrence.objects.select_related("service").get(pk=place.occurrence_id)
                return booking_take_seat(occurrence=session, customer=customer, actor=actor,
                                         notes="From the waitlist.", now=now,
                                         language=entry.language), ""  # fmt: skip
            return booking_hold(service=entry.service, starts_at=place.starts_at,
                                customer=customer, staff_id=place.staff_id, actor=actor,
                                notes="From the waitlist.", now=now,
                                language=entry.language), ""  # fmt: skip
    except (BookingError, SlotError) as error:
        return None, str(error)


def _lapse_taken(place: FreedPlace, *, now: datetime) -> None:
    """The place went elsewhere (a booking made on the booking page meanwhile)."""
    for pending in place.offers.filter(status=OfferStatus.PENDING):
        _close_offer(pending, status=OfferStatus.LOST, now=now)
    FreedPlace.objects.filter(pk=place.pk).update(status=PlaceStatus.LAPSED, closed_at=now)


def offer_decline(*, offer: WaitlistOffer, now: datetime | None = None) -> bool:
    """ "Not this time": the person stays in line for another place; this one passes on."""
    now = now or timezone.now()
    with transaction.atomic():
        FreedPlace.objects.select_for_update().get(pk=offer.place_id)
        declined = _close_offer(offer, status=OfferStatus.DECLINED, now=now)
    if declined:
        place_pass_on(place_id=offer.place_id, now=now)
    return declined


def _pass_on_later(place_id: int) -> Callable[[], object]:
    return lambda: place_pass_on(place_id=place_id)


def offer_close_for_entry(*, entry: WaitlistEntry) -> None:
    """The person left (or was removed): their open offer passes on after commit."""
    now = timezone.now()
    for offer in WaitlistOffer.objects.filter(entry=entry, status=OfferStatus.PENDING):
        if _close_offer(offer, status=OfferStatus.DECLINED, now=now):
            transaction.on_commit(_pass_on_later(offer.place_id))


def offers_expire_due(*, now: datetime | None = None) -> int:
    """The beat job's work in one business: expire open offers past their time and pass their
    places on; lapse open places whose time has come. Returns how many offers expired."""
    now = now or timezone.now()
    expired = 0
    due = list(
        WaitlistOffer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", "place_id")
    )
    for offer_id, place_id in due:
        with transaction.atomic():
            FreedPlace.objects.select_for_update().get(pk=place_id)
            offer = WaitlistOffer.objects.get(pk=offer_id)
            if _close_offer(offer, status=OfferStatus.EXPIRED, now=now):
                expired += 1
        place_pass_on(place_id=place_id, now=now)
    for place_id in FreedPlace.objects.filter(
        status=PlaceStatus.OPEN, starts_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            place = FreedPlace.objects.select_for_update().get(pk=place_id)
            if place.status == PlaceStatus.OPEN:
                _lapse(place, now=now)
    return expired


# ---------------------------------------------------------------------------
# 4. The team offers a place by hand
# ---------------------------------------------------------------------------
def offer_by_hand(
    *,
    entry: WaitlistEntry,
    actor: Actor,
    starts_at: datetime | None = None,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> WaitlistOffer:
    """Offer a place to this person now, whatever their rank: a seat of their session when one
    is free (counted as for a freed seat), or a time the team names for a day's request."""
    now = now or timezone.now()
    settings_row = waitlist_settings()
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status not in OPEN_ENTRY_STATUSES:
            raise NoSeatFree("This person is no longer waiting.")
        if locked.status == EntryStatus.OFFERED:
            raise NoSeatFree("This person already has an open offer.")
        if not WaitlistEntry.objects.filter(CARD_READY, pk=locked.pk).exists():
            raise NoSeatFree("This person has not saved the card the service asks for yet.")
        if locked.occurrence_id is not None:
            session = lock_occurrence(locked.occurrence_id)
            if session.is_cancelled or session.starts_at <= now or not _seat_free(session):
                raise NoSeatFree()
            place = FreedPlace.objects.create(
                service_id=locked.service_id, occurrence=session, staff_id=session.staff_id,
                starts_at=session.starts_at, ends_at=session.ends_at, created_at=now,
                source_key=f"hand-{locked.pk}-{now.timestamp()}",
            )  # fmt: skip
        else:
            staff = staff_id or locked.staff_id
            if starts_at is None or staff is None or starts_at <= now:
                raise NoSeatFree("Choose a time in the future and who will do it.")
            service = locked.service
            ends_at = starts_at + timedelta(minutes=service.duration_minutes)
            lock_staff_and_resource(staff_id=staff, resource_id=None)
            if _time_taken(Freed(service.pk, staff, None, starts_at, ends_at)):
                raise NoSeatFree("This time is taken.")
            try:
                with transaction.atomic():
                    place = FreedPlace.objects.create(
                        service=service, staff_id=staff, starts_at=starts_at, ends_at=ends_at,
                        created_at=now, source_key=f"hand-{locked.pk}-{now.timestamp()}",
                    )  # fmt: skip
            except IntegrityError:
                raise NoSeatFree("This time is already being offered to someone.")
        return _offer_make(place, locked, settings_row=settings_row, now=now,
                           offered_by=actor.label)  # fmt: skip
