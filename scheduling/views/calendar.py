"""Staff back office: the day and week calendar of bookings.

Views stay thin: reads come from `scheduling.selectors`, every change goes through
`scheduling.services`, and domain errors become form errors or messages here, never a 500. Times
are shown in the business's zone (`tenant.time_zone`), whatever the browser's.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.urls import reverse

from scheduling.calendar_layout import (
    MINUTES_PER_DAY,
    css_percent,
    day_bounds,
    place_on_day,
    time_minute,
    visible_window,
    wall_minute,
    week_start,
)
from scheduling.forms.bookings import (
    CalendarForm,
)
from scheduling.models import Booking, BookingStatus, StaffMember
from scheduling.selectors.availability import staff_for_user
from scheduling.selectors.backoffice import (
    calendar_bookings,
    calendar_staff,
    staff_hours_on,
    staff_time_off,
)
from scheduling.views import base
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission

logger = logging.getLogger(__name__)

# Cancelled and expired bookings would hide the day's real work; cancelled ones can be shown.
CALENDAR_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------
@dataclass
class Column:
    staff: StaffMember
    colour: str
    bookings: list[dict] = field(default_factory=list)
    open_hours: list[dict] = field(default_factory=list)
    time_off: list[dict] = field(default_factory=list)
    slot_links: list[dict] = field(default_factory=list)
    new_url: str = ""


@member_required(Permission.VIEW_OWN_CALENDAR)
def calendar(request: MemberRequest) -> HttpResponse:
    zone = base.zone_of(request)
    sees_all = base.allows(request, Permission.VIEW_ALL_BOOKINGS)
    form = CalendarForm(request.GET or None, sees_all=sees_all)
    form.is_valid()  # invalid parameters are shown as errors and ignored
    params = getattr(form, "cleaned_data", {})
    view = params.get("view") or "day"
    day = params.get("date") or base.today(zone)
    context = {
        "form": form,
        "view": view,
        "day": day,
        "zone": zone,
        "sees_all": sees_all,
        "can_manage": base.allows(request, Permission.MANAGE_BOOKINGS),
    }
    own = None if sees_all else staff_for_user(request.user.pk)
    if not sees_all and own is None:
        return base.render_page(
            request, "calendar.html", {**context, "no_profile": True}, tab="calendar"
        )
    staff_filter = own.pk if own else (params["staff"].pk if params.get("staff") else None)
    resource = params.get("resource")
    statuses = CALENDAR_STATUSES + (
        (BookingStatus.CANCELLED,) if params.get("show_cancelled") else ()
    )
    now = base.now()
    today = base.today(zone)
    if view == "day":
        first = last = day
    else:
        first = week_start(day, first_weekday=base.first_day_of_week(request))
        last = first + timedelta(days=6)
    # Opened without a date, the week view may move on to next week (see _week_with_bookings).
    looks_ahead = view == "week" and not params.get("date")
    start, _ = day_bounds(first, zone)
    _, end = day_bounds(last + timedelta(days=7) if looks_ahead else last, zone)
    members = calendar_staff(start=start, end=end, statuses=statuses,
                                       staff_id=staff_filter)  # fmt: skip
    bookings = [
        booking
        for booking in calendar_bookings(
            start=start,
            end=end,
            staff_ids=[m.pk for m in members],
            statuses=statuses,
            resource_id=resource.pk if resource else None,
        )
        # A hold whose time ran out no longer reserves anything, even before the sweeper runs.
        # (A held booking always has hold_expires_at: the booking_held_expiry constraint.)
        if not (
            booking.status == BookingStatus.HELD
            and booking.hold_expires_at is not None
            and booking.hold_expires_at <= now
        )
    ]
    showing_next_week = False
    if looks_ahead:
        first, showing_next_week = _week_with_bookings(first=first, zone=zone, bookings=bookings,
                                                       now=now)  # fmt: skip
        last = first + timedelta(days=6)
        day = first if showing_next_week else day
        start, _ = day_bounds(first, zone)
        _, end = day_bounds(last, zone)
        bookings = [b for b in bookings if b.starts_at < end and b.ends_at > start]
    step = timedelta(days=1 if view == "day" else 7)
    filters = {}  # kept by the previous / next / today links
    if staff_filter is not None and sees_all:
        filters["staff"] = str(staff_filter)
    if resource is not None:
        filters["resource"] = str(resource.pk)
    if params.get("show_cancelled"):
        filters["show_cancelled"] = "on"
    context.update(
        members=members,
        own=own,
        nav={
            "previous": base.calendar_url(view, day - step, filters),
            "next": base.calendar_url(view, day + step, filters),
            # Today's week opens like the default week: the current one, or the next with bookings.
            "today": base.calendar_url(view, today if view == "day" else None, filters),
            "day": base.calendar_url("day", day, filters),
            "week": base.calendar_url("week", None if day == today else day, filters),
        },
        first=first,
        last=last,
        filters=filters,
        showing_next_week=showing_next_week,
    )
    if view == "day":
        context.update(_day_layout(day=day, zone=zone, members=members, bookings=bookings, now=now))
    else:
        context["days"] = _week_layout(first=first, zone=zone, bookings=bookings, filters=filters)
    return base.render_page(request, "calendar.html", context, tab="calendar")


def _week_with_bookings(*, first: date, zone: ZoneInfo, bookings: list[Booking],
                        now: datetime) -> tuple[date, bool]:  # fmt: skip
    """The week to open on (`bookings` cover this week and the next): this one while it has
    bookings still ahead, else the next one if it has any, so a Sunday does not open on a week
    that is over while tomorrow is full. Returns (its first day, whether it is the next)."""
    _, week_end = day_bounds(first + timedelta(days=6), zone)
    if any(b.ends_at > now and b.starts_at < week_end for b in bookings):
        return first, False
    if any(b.starts_at >= week_end for b in bookings):
        return first + timedelta(days=7), True
    return first, False


def _sessions_merged(bookings: list[Booking]) -> list[list[Booking]]:
    """One calendar entry per appointment, and one per group session for all its seats (a
    class of twelve is one block, not twelve slivers)."""
    entries: dict[tuple[str, int], list[Booking]] = {}
    for booking in bookings:
        if booking.occurrence_id is not None:
            key = ("session", booking.occurrence_id)
        else:
            key = ("booking", booking.pk)
        entries.setdefault(key, []).append(booking)
    return list(entries.values())


def _booking_entry(group: list[Booking], zone: ZoneInfo) -> dict:
    booking = group[0]
    local_day = booking.starts_at.astimezone(zone).date().isoformat()
    if booking.occurrence_id is None:
        url = reverse("booking_detail", args=[booking.reference])
    else:
        query = {"date_from": local_day, "date_to": local_day, "staff": booking.staff_id}
        url = f"{reverse('bookings')}?{urlencode(query)}"
    return {
        "booking": booking,
        "seats": len(group) if booking.occurrence_id is not None else 0,
        "url": url,
        "time": base.wall_time(booking.starts_at, zone)
        + "–"
        + base.wall_time(booking.ends_at, zone),
        "colour": base.safe_colour(booking.staff.colour),
    }


def _day_layout(*, day: date, zone: ZoneInfo, members: list[StaffMember], bookings: list[Booking],
                now: datetime) -> dict:  # fmt: skip
    start, end = day_bounds(day, zone)
    ids = [m.pk for m in members]
    hours = staff_hours_on(staff_ids=ids, day=day)
    absences = staff_time_off(staff_ids=ids, start=start, end=end)
    placed = {
        member.pk: place_on_day(
            (
                (group, group[0].starts_at, group[0].ends_at)
                for group in _sessions_merged([b for b in bookings if b.staff_id == member.pk])
            ),
            day=day,
            zone=zone,
        )
        for member in members
    }
    spans = [(p.top, p.bottom) for rows in placed.values() for p in rows]
    spans += [
        (time_minute(opens), time_minute(closes, is_end=True))
        for intervals in hours.values()
        for opens, closes in intervals
    ]
    window = visible_window(spans)

    def box(top: int, bottom: int) -> dict:
        top, bottom = max(top, window[0]), min(bottom, window[1])
        return {
            "top": css_percent(top, window),
            "height": css_percent(bottom - top, window, offset=False),
        }

    columns = []
    for member in members:
        column = Column(staff=member, colour=base.safe_colour(member.colour))
        for opens, closes in hours.get(member.pk, []):
            top, bottom = time_minute(opens), time_minute(closes, is_end=True)
            column.open_hours.append(box(top, bottom))
            # Tapping a free half hour of the grid starts a booking there with this person.
            for minute in range(top, bottom - base.SLOT_LINK_MINUTES + 1, base.SLOT_LINK_MINUTES):
                label = f"{minute // 60:02d}:{minute % 60:02d}"
                column.slot_links.append({
                    **box(minute, minute + base.SLOT_LINK_MINUTES),
                    "label": label,
                    "url": base.new_booking_url(day=day, staff_id=member.pk, slot=label),
                })  # fmt: skip
        for absence in absences.get(member.pk, []):
            top = wall_minute(absence.starts_at, day, zone)
            bottom = wall_minute(absence.ends_at, day, zone)
            if min(bottom, window[1]) > max(top, window[0]):
                column.time_off.append({**box(top, bottom), "reason": absence.reason})
        for row in placed[member.pk]:
            column.bookings.append(
                {**_booking_entry(row.item, zone), **box(row.top, row.bottom),
                 "lane": row.lane, "lanes": row.lanes}
            )  # fmt: skip
        column.new_url = base.new_booking_url(day=day, staff_id=member.pk)
        columns.append(column)
    now_line = None
    if now.astimezone(zone).date() == day:
        minute = wall_minute(now, day, zone)
        if window[0] <= minute < window[1]:
            now_line = css_percent(minute, window)
    return {
        "columns": columns,
        "hour_marks": [
            {"label": f"{minute // 60:02d}:00", "top": css_percent(minute, window)}
            for minute in range(window[0], min(window[1], MINUTES_PER_DAY), 60)
        ],
        "hour_count": (window[1] - window[0]) // 60,
        "now_line": now_line,
        "clocks_change": (end - start) != timedelta(days=1),
        "day_hours": int((end - start).total_seconds() // 3600),
    }


def _week_layout(*, first: date, zone: ZoneInfo, bookings: list[Booking], filters: dict) -> list:
    days = []
    today = base.today(zone)
    for offset in range(7):
        day = first + timedelta(days=offset)
        entries = [
            _booking_entry(group, zone)
            for group in _sessions_merged(bookings)
            # A booking running over midnight is listed on its first day (or the week's first).
            if max(group[0].starts_at.astimezone(zone).date(), first) == day
        ]
        days.append({
            "date": day,
            "is_today": day == today,
            "entries": entries,
            "url": base.calendar_url("day", day, filters),
        })  # fmt: skip
    return days
