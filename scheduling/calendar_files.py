"""iCalendar files: one booking for its customer, and a staff member's subscribable feed.

Times are written in UTC (`DTSTART:20300604T080000Z`), which every calendar app reads without a
VTIMEZONE block. UIDs are stable per booking (and per group session in feeds), so importing a file
again or refreshing a subscription updates the event instead of duplicating it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext
from icalendar import Calendar, Event

from scheduling.models import Booking, BookingStatus, StaffMember

PRODUCT_ID = "-//Creneau//Bookings//EN"
# How often subscribing apps should refresh (a hint: Google refreshes on its own schedule).
FEED_REFRESH = timedelta(hours=1)

ICS_STATUS = {
    BookingStatus.HELD: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
}


@dataclass(frozen=True)
class Business:
    """Who the calendar belongs to: names for people, `uid_domain` to make UIDs unique."""

    name: str
    uid_domain: str  # e.g. "alpha.creneau": the tenant's schema is stable where slugs may not be


def business_of(tenant) -> Business:
    """The calendar identity of a tenant, shared by `.ics` downloads, feeds and emails: the same
    UIDs everywhere, so a calendar app replaces an event instead of showing it twice."""
    return Business(name=tenant.name, uid_domain=f"{tenant.schema_name}.creneau")


def booking_uid(booking: Booking, business: Business) -> str:
    return f"booking-{booking.pk}-{booking.reference}@{business.uid_domain}"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _calendar(name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def booking_calendar(
    *,
    booking: Booking,
    business: Business,
    revision: int,
    now: datetime,
    manage_url: str | None = None,
) -> bytes:
    """The customer's `.ics` of one booking; a cancelled booking carries STATUS:CANCELLED.

    `manage_url` (the customer's signed link to cancel or move) is the customer's own secret, so
    it belongs in their file, never in a staff feed."""
    event = Event()
    event.add("uid", booking_uid(booking, business))
    event.add("dtstamp", _utc(now))
    event.add("created", _utc(booking.created_at))
    event.add("sequence", revision)
    event.add("dtstart", _utc(booking.starts_at))
    event.add("dtend", _utc(booking.ends_at))
    event.add("summary", f"{booking.service.name} — {business.name}")
    event.add("location", business.name)
    # In the active language: the customer's email renders it in theirs (notifications).
    description = "\n".join((
        gettext("Booking reference: %(reference)s") % {"reference": booking.reference},
        gettext("With: %(name)s") % {"name": booking.staff.display_name},
        gettext("At: %(business)s") % {"business": business.name},
    ))  # fmt: skip
    if manage_url:
        description += "\n" + gettext("Cancel or move: %(url)s") % {"url": manage_url}
        event.add("url", manage_url)
    event.add("description", description)
    event.add("status", ICS_STATUS[BookingStatus(booking.status)])
    event.add("transp", "TRANSPARENT" if event["status"] == "CANCELLED" else "OPAQUE")
    calendar = _calendar()
    calendar.add_component(event)
    return calendar.to_ical()


def staff_feed_calendar(
    *, staff: StaffMember, bookings: Iterable[Booking], business: Business, now: datetime
) -> bytes:
    """A staff member's subscribable calendar: customer names and services, never contact data
    (feed URLs end up in places like shared calendars and browser histories).

    Seats of one group session become one event listing its participants.
    """
    calendar = _calendar(f"{staff.display_name} — {business.name}")
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # Outlook's older name for the same hint
    sessions: dict[int, list[Booking]] = {}
    for booking in bookings:
        if booking.occurrence_id is not None:
            sessions.setdefault(booking.occurrence_id, []).append(booking)
            continue
        event = _feed_event(booking.starts_at, booking.ends_at, now=now)
        event.add("uid", booking_uid(booking, business))
        held = booking.status == BookingStatus.HELD
        event.add(
            "summary",
            f"{'(held) ' if held else ''}{booking.service.name} — {booking.customer.name}",
        )
        event.add(
            "description",
            f"Customer: {booking.customer.name}\nService: {booking.service.name}\n"
            f"Reference: {booking.reference}\nStatus: {booking.get_status_display()}",
        )
        event.add("status", ICS_STATUS[BookingStatus(booking.status)])
        calendar.add_component(event)
    for occurrence_id, seats in sessions.items():
        first = seats[0]
        event = _feed_event(first.starts_at, first.ends_at, now=now)
        event.add("uid", f"session-{occurrence_id}@{business.uid_domain}")
        capacity = first.occurrence.capacity if first.occurrence else len(seats)
        event.add("summary", f"{first.service.name} — {len(seats)}/{capacity} booked")
        names = "\n".join(f"- {seat.customer.name} ({seat.reference})" for seat in seats)
        event.add("description", f"Service: {first.service.name}\nParticipants:\n{names}")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()


def _feed_event(starts_at: datetime, ends_at: datetime, *, now: datetime) -> Event:
    event = Event()
    event.add("dtstamp", _utc(now))
    event.add("dtstart", _utc(starts_at))
    event.add("dtend", _utc(ends_at))
    event.add("transp", "OPAQUE")
    return event
