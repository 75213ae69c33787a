"""Staff back office of bookings: day/week calendar, booking list and page, and the team's actions
(book a phoned-in customer, confirm, move, cancel, mark completed or no-show).

Views stay thin: reads come from `scheduling.selectors`, every change goes through
`scheduling.services`, and domain errors become form errors or messages here, never a 500. Times
are shown in the business's zone (`tenant.time_zone`), whatever the browser's.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.money import Money, format_money
from scheduling import ports, slots
from scheduling.actors import Actor
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
from scheduling.cancellation_policy import InvalidPolicy
from scheduling.exceptions import BookingError, InvalidCustomer, InvalidTransition, SlotTaken
from scheduling.forms.bookings import (
    OTHER_TIME,
    BookingCancelForm,
    BookingCreateForm,
    BookingFilterForm,
    BookingMoveForm,
    CalendarForm,
)
from scheduling.models import Booking, BookingSource, BookingStatus, Occurrence, StaffMember
from scheduling.selectors.availability import available_slots, sessions_to_move_to, staff_for_user
from scheduling.selectors.backoffice import (
    available_slots_for_move,
    back_office_booking,
    back_office_bookings,
    calendar_bookings,
    calendar_staff,
    cancellation_outcome,
    qualified_staff,
    staff_hours_on,
    staff_time_off,
)
from scheduling.services.bookings import (
    booking_cancel_with_refund,
    booking_complete,
    booking_confirm,
    booking_hold,
    booking_mark_no_show,
    booking_move_seat,
    booking_reschedule,
)
from scheduling.services.customers import customer_upsert
from tenants.access import member_required
from tenants.roles import Permission, role_allows

logger = logging.getLogger(__name__)

# Cancelled and expired bookings would hide the day's real work; cancelled ones can be shown.
CALENDAR_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)
LIST_DEFAULT_STATUSES = [s for s in BookingStatus if s != BookingStatus.EXPIRED]
BOOKINGS_PER_PAGE = 25
DEFAULT_COLOUR = "#2f5d50"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
TIME_TAKEN = "That time was just taken. Please pick another time."
SLOT_LINK_MINUTES = 30


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _now() -> datetime:
    """The one clock of these pages (tests pin it to a fixed moment)."""
    return timezone.now()


def _zone(request: HttpRequest) -> ZoneInfo:
    return ZoneInfo(request.tenant.time_zone or "UTC")


def _allows(request: HttpRequest, permission: Permission) -> bool:
    return role_allows(request.membership.role, permission)


def _actor(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(label=user.full_name or user.email, user_id=user.pk)


def _today(zone: ZoneInfo) -> date:
    return _now().astimezone(zone).date()


def _safe_colour(value: str) -> str:
    # Interpolated into a style attribute: only a plain hex colour may get there.
    return value if _COLOUR.fullmatch(value or "") else DEFAULT_COLOUR


def _own_staff_id(request: HttpRequest) -> int | None:
    """None when the member sees everyone's bookings; else their StaffMember id (or 404)."""
    if _allows(request, Permission.VIEW_ALL_BOOKINGS):
        return None
    own = staff_for_user(request.user.pk)
    if own is None:
        raise Http404("No such booking.")
    return own.pk


def _booking_or_404(request: HttpRequest, reference: str) -> Booking:
    booking = back_office_booking(reference=reference, staff_id=_own_staff_id(request))
    if booking is None:
        raise Http404("No such booking.")
    return booking


def _render(request: HttpRequest, template: str, context: dict, *, tab: str = "",
            status: int = 200) -> HttpResponse:  # fmt: skip
    """Render one of this module's pages, with the section tabs the member's role allows."""
    zone = _zone(request)
    can_manage = _allows(request, Permission.MANAGE_BOOKINGS)
    day = context.get("day")
    new_day = day if isinstance(day, date) else _today(zone)
    tabs = {
        "tab": tab,
        "nav_bookings": _allows(request, Permission.VIEW_ALL_BOOKINGS),
        "nav_new": _new_booking_url(day=new_day) if can_manage else "",
    }
    return render(request, f"scheduling/calendar/{template}", {**tabs, **context}, status=status)


def _detail(booking: Booking) -> HttpResponse:
    return redirect("booking_detail", reference=booking.reference)


def _wall(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


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
def calendar(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    sees_all = _allows(request, Permission.VIEW_ALL_BOOKINGS)
    form = CalendarForm(request.GET or None, sees_all=sees_all)
    form.is_valid()  # invalid parameters are shown as errors and ignored
    params = getattr(form, "cleaned_data", {})
    view = params.get("view") or "day"
    day = params.get("date") or _today(zone)
    context = {
        "form": form,
        "view": view,
        "day": day,
        "zone": zone,
        "sees_all": sees_all,
        "can_manage": _allows(request, Permission.MANAGE_BOOKINGS),
    }
    own = None if sees_all else staff_for_user(request.user.pk)
    if not sees_all and own is None:
        return _render(request, "calendar.html", {**context, "no_profile": True}, tab="calendar")
    staff_filter = own.pk if own else (params["staff"].pk if params.get("staff") else None)
    resource = params.get("resource")
    statuses = CALENDAR_STATUSES + (
        (BookingStatus.CANCELLED,) if params.get("show_cancelled") else ()
    )
    first = day if view == "day" else week_start(day)
    last = day if view == "day" else first + timedelta(days=6)
    start, _ = day_bounds(first, zone)
    _, end = day_bounds(last, zone)
    members = calendar_staff(start=start, end=end, statuses=statuses,
                                       staff_id=staff_filter)  # fmt: skip
    now = _now()
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
        if not (booking.status == BookingStatus.HELD and booking.hold_expires_at <= now)
    ]
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
            "previous": _calendar_url(view, day - step, filters),
            "next": _calendar_url(view, day + step, filters),
            "today": _calendar_url(view, _today(zone), filters),
            "day": _calendar_url("day", day, filters),
            "week": _calendar_url("week", day, filters),
        },
        first=first,
        last=last,
        filters=filters,
    )
    if view == "day":
        context.update(_day_layout(day=day, zone=zone, members=members, bookings=bookings, now=now))
    else:
        context["days"] = _week_layout(first=first, zone=zone, bookings=bookings, filters=filters)
    return _render(request, "calendar.html", context, tab="calendar")


def _calendar_url(view: str, day: date, filters: dict) -> str:
    return f"{reverse('calendar')}?{urlencode({'view': view, 'date': day.isoformat(), **filters})}"


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
        "time": f"{_wall(booking.starts_at, zone)}–{_wall(booking.ends_at, zone)}",
        "colour": _safe_colour(booking.staff.colour),
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
        column = Column(staff=member, colour=_safe_colour(member.colour))
        for opens, closes in hours.get(member.pk, []):
            top, bottom = time_minute(opens), time_minute(closes, is_end=True)
            column.open_hours.append(box(top, bottom))
            # Tapping a free half hour of the grid starts a booking there with this person.
            for minute in range(top, bottom - SLOT_LINK_MINUTES + 1, SLOT_LINK_MINUTES):
                label = f"{minute // 60:02d}:{minute % 60:02d}"
                column.slot_links.append({
                    **box(minute, minute + SLOT_LINK_MINUTES),
                    "label": label,
                    "url": _new_booking_url(day=day, staff_id=member.pk, slot=label),
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
        column.new_url = _new_booking_url(day=day, staff_id=member.pk)
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
    today = _today(zone)
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
            "url": _calendar_url("day", day, filters),
        })  # fmt: skip
    return days


def _new_booking_url(*, day: date, staff_id: int | None = None, slot: str = "") -> str:
    query = {"date": day.isoformat()}
    if staff_id is not None:
        query["staff"] = str(staff_id)
    if slot:
        query["slot"] = slot
    return f"{reverse('booking_new')}?{urlencode(query)}"


# ---------------------------------------------------------------------------
# Booking list and page
# ---------------------------------------------------------------------------
@member_required(Permission.VIEW_ALL_BOOKINGS)
def booking_list(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    form = BookingFilterForm(request.GET or None)
    form.is_valid()  # a bad filter is reported and left out; the others still apply
    filters = getattr(form, "cleaned_data", {})
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    bookings = back_office_bookings(
        now=_now(),
        start=day_bounds(date_from, zone)[0] if date_from else None,
        end=day_bounds(date_to, zone)[1] if date_to else None,
        statuses=[filters["status"]] if filters.get("status") else LIST_DEFAULT_STATUSES,
        staff_id=filters["staff"].pk if filters.get("staff") else None,
        search=filters.get("q", ""),
    )
    page = Paginator(bookings, BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    return _render(
        request,
        "booking_list.html",
        {
            "form": form,
            "page": page,
            "zone": zone,
            "can_manage": _allows(request, Permission.MANAGE_BOOKINGS),
        },
        tab="bookings",
    )


@member_required(Permission.VIEW_OWN_CALENDAR)
def booking_detail(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking_or_404(request, reference)
    zone = _zone(request)
    now = _now()
    can_manage = _allows(request, Permission.MANAGE_BOOKINGS)
    started = booking.starts_at <= now
    return _render(
        request,
        "booking_detail.html",
        {
            "booking": booking,
            "zone": zone,
            "history": _history(booking, zone),
            "can_manage": can_manage,
            "price": _price(request, booking),
            "payment": _payment_summary(request, booking),
            "actions": {
                "confirm": can_manage and booking.status == BookingStatus.HELD,
                "complete": can_manage and booking.status == BookingStatus.CONFIRMED and started,
                "no_show": can_manage and booking.status == BookingStatus.CONFIRMED and started,
                # A seat moves to another session only before its own one starts.
                "move": can_manage
                and booking.is_active
                and (booking.occurrence_id is None or not started),
                "cancel": can_manage and booking.is_active,
            },
            "hold_ran_out": booking.status == BookingStatus.HELD
            and booking.hold_expires_at is not None
            and booking.hold_expires_at <= now,
            "calendar_url": _calendar_url("day", booking.starts_at.astimezone(zone).date(), {}),
        },
    )


def _history(booking: Booking, zone: ZoneInfo) -> list[dict]:
    """The BookingEvent rows in words: who, when, from → to, why."""
    events = list(booking.events.all())
    staff_ids = set()
    for event in events:
        for side in ("from", "to"):
            moved = _event_data(event).get(side)
            if isinstance(moved, dict) and isinstance(moved.get("staff"), int):
                staff_ids.add(moved["staff"])
    names = dict(StaffMember.objects.filter(pk__in=staff_ids).values_list("pk", "display_name"))
    labels = dict(BookingStatus.choices)
    history = []
    for event in events:
        data = _event_data(event)
        before, after = labels.get(event.from_status, ""), labels.get(event.to_status, "")
        if event.action == "creneau.booking.rescheduled":
            change = "moved " + " → ".join(
                _moved_to(data.get(side), zone, names) for side in ("from", "to")
            )
        elif not before:
            change = f"created as {after.lower()}"
        elif before == after:  # an event that is not a transition (a payment, a note...)
            change = event.action.rsplit(".", 1)[-1].replace("_", " ")
        else:
            change = f"{before.lower()} → {after.lower()}"
        if "refund_percent" in data:
            change += f" (refund {data['refund_percent']}% of what was paid)"
        history.append(
            {"when": event.created_at, "who": event.actor_label or "system", "change": change,
             "reason": event.reason}
        )  # fmt: skip
    return history


def _event_data(event) -> dict:
    return event.data if isinstance(event.data, dict) else {}


def _moved_to(side: object, zone: ZoneInfo, names: dict[int, str]) -> str:
    if not isinstance(side, dict):
        return "?"
    try:
        moment = datetime.fromisoformat(side.get("starts_at", ""))
    except (TypeError, ValueError):
        return "?"
    if moment.tzinfo is None:
        return "?"
    staff_id = side.get("staff")
    staff = names.get(staff_id, "") if isinstance(staff_id, int) else ""
    text = f"{moment.astimezone(zone):%a %d %b %H:%M}"
    return f"{text} ({staff})" if staff else text


def _price(request: HttpRequest, booking: Booking) -> str | None:
    """Amounts are for roles that see money (docs/roles.md); others see the payment mode only."""
    if not _allows(request, Permission.VIEW_MONEY):
        return None
    return format_money(Money(booking.price_minor, booking.currency))


def _payment_summary(request: HttpRequest, booking: Booking) -> dict:
    """ "Paid / deposit / due" for every role; the link to the money record for money roles."""
    summary = ports.payments().staff_summary(
        booking=booking, with_money=_allows(request, Permission.VIEW_MONEY)
    )
    return {
        "label": summary["label"],
        "due": format_money(Money(summary["due_minor"], summary["currency"]))
        if summary["due_minor"]
        else "",
        "detail_url": summary["detail_url"],
    }


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------
@member_required(Permission.MANAGE_BOOKINGS)
@require_POST
def booking_transition(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """Confirm a hold, or mark a started booking completed or no-show."""
    booking = _booking_or_404(request, reference)
    actor = _actor(request)
    try:
        if action == "confirm":
            booking = booking_confirm(booking=booking, actor=actor, reason="Confirmed by the team.")
        elif action == "complete":
            booking = booking_complete(booking=booking, actor=actor, now=_now())
        elif action == "no_show":
            booking = booking_mark_no_show(booking=booking, actor=actor, now=_now())
        else:
            raise Http404("No such action.")
    except InvalidTransition as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Booking {booking.reference} is {booking.get_status_display().lower()}."
        )
    return _detail(booking)


@member_required(Permission.MANAGE_BOOKINGS)
def booking_cancel(request: HttpRequest, reference: str) -> HttpResponse:
    """A confirmation page showing what the cancellation gives, then the cancellation."""
    booking = _booking_or_404(request, reference)
    if not booking.is_active:
        messages.error(
            request, f"This booking is {booking.get_status_display().lower()}: nothing to cancel."
        )
        return _detail(booking)
    form = BookingCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Staff cancel on the business's behalf: the refund is everything still refundable,
            # whatever the policy says (cancellation_policy.refund_for_cancellation).
            # The policy is applied to the money really paid, then refunded through Stripe
            # (after the cancellation commits; a refund Stripe refuses is retried, shown pending).
            decision = booking_cancel_with_refund(
                booking=booking, actor=_actor(request), by_business=True,
                reason=form.cleaned_data["reason"], now=_now(),
            )  # fmt: skip
        except BookingError as error:
            messages.error(request, str(error))
            return _detail(booking)
        except InvalidPolicy:
            # booking_cancel reads the snapshot even when the business cancels; a corrupt one
            # is a data problem to fix, not something to paper over here.
            logger.error("booking.cancel.unreadable_policy", extra={"reference": reference})
            messages.error(
                request,
                "The cancellation policy saved with this booking cannot be read, so it was not "
                "cancelled. Please contact Creneau support.",
            )
            return _detail(booking)
        messages.success(
            request,
            f"Booking {booking.reference} is cancelled. The customer is due "
            f"{decision.percent}% of what they paid back.",
        )
        return _detail(booking)
    paid_minor, already_refunded_minor = ports.payments().cancellation_amounts(booking=booking)
    outcome = cancellation_outcome(
        booking=booking, now=_now(), paid_minor=paid_minor - already_refunded_minor
    )
    return _render(
        request,
        "booking_cancel.html",
        {
            "booking": booking,
            "zone": _zone(request),
            "form": form,
            "outcome": outcome,
            "sees_money": _allows(request, Permission.VIEW_MONEY),
            "pays_online": booking.payment_mode in ("online_full", "online_deposit"),
            "refund_amount": format_money(
                Money(outcome.by_business.amount_minor, booking.currency)
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@member_required(Permission.MANAGE_BOOKINGS)
def booking_move(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _booking_or_404(request, reference)
    if not booking.is_active:
        messages.error(request, "Only an upcoming booking (held or confirmed) can be moved.")
        return _detail(booking)
    if booking.occurrence_id is not None:
        return _move_seat(request, booking)
    zone = _zone(request)
    now = _now()
    wants_times = "show_times" in request.POST
    local = booking.starts_at.astimezone(zone)
    initial = {"staff": booking.staff_id, "date": local.date(), "time": local.time()}
    if request.method == "POST" and not wants_times:
        form = BookingMoveForm(request.POST, booking=booking, zone=zone)
    else:
        form = BookingMoveForm(initial={**initial, **_posted(request)}, booking=booking, zone=zone)
    status = 200
    if request.method == "POST" and not wants_times:
        if form.is_valid():
            try:
                booking_reschedule(
                    booking=booking, new_start=form.cleaned_data["starts_at"],
                    actor=_actor(request), staff_id=form.cleaned_data["staff"].pk, now=now,
                )  # fmt: skip
            except InvalidTransition as error:
                messages.error(request, str(error))
                return _detail(booking)
            except (slots.SlotError, BookingError) as error:
                form.add_error(None, _refusal(error, booking.service))
            else:
                booking.refresh_from_db()
                messages.success(
                    request,
                    f"Booking {booking.reference} moved to "
                    f"{booking.starts_at.astimezone(zone):%A %d %B at %H:%M} "
                    f"with {booking.staff}.",
                )
                return _detail(booking)
        status = 400
    day, staff = _field_value(form, "date"), _field_value(form, "staff")
    times = []
    if day is not None and staff is not None:
        found = available_slots_for_move(booking=booking, day=day, now=now, staff_id=staff.pk)
        times = [{"value": slot.in_zone(zone).strftime("%H:%M")} for slot in found]
    return _render(
        request,
        "booking_move.html",
        {"booking": booking, "zone": zone, "form": form, "times": times, "day": day},
        status=status,
    )


def _move_seat(request: HttpRequest, booking: Booking) -> HttpResponse:
    """A seat in a class moves to another session of the same class, chosen from a list."""
    zone = _zone(request)
    now = _now()
    error = None
    if request.method == "POST":
        chosen = request.POST.get("occurrence", "")
        occurrence = (
            Occurrence.objects.filter(pk=int(chosen), service_id=booking.service_id).first()
            if chosen.isdigit() and len(chosen) < 19
            else None
        )
        if occurrence is None:
            error = "Choose the session to move this seat to."
        else:
            try:
                booking_move_seat(
                    booking=booking, occurrence=occurrence, actor=_actor(request), now=now
                )
            except (slots.SlotError, BookingError) as refused:
                error = str(refused)
            else:
                booking.refresh_from_db()
                messages.success(
                    request,
                    f"Booking {booking.reference} moved to the session of "
                    f"{booking.starts_at.astimezone(zone):%A %d %B at %H:%M} "
                    f"with {booking.staff}.",
                )
                return _detail(booking)
    return _render(
        request,
        "booking_move_seat.html",
        {
            "booking": booking,
            "zone": zone,
            "sessions": sessions_to_move_to(booking=booking, now=now),
            "error": error,
        },
        status=400 if error else 200,
    )


@member_required(Permission.MANAGE_BOOKINGS)
def booking_new(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    now = _now()
    wants_times = "show_times" in request.POST
    if request.method == "POST" and not wants_times:
        form = BookingCreateForm(request.POST, zone=zone)
    else:
        form = BookingCreateForm(
            initial={"date": _today(zone), **request.GET.dict(), **_posted(request)}, zone=zone
        )
    status = 200
    if request.method == "POST" and not wants_times:
        if form.is_valid():
            booking = _create_confirmed_booking(request, form)
            if booking is not None:
                messages.success(
                    request,
                    f"Booking {booking.reference} confirmed for {booking.customer.name}, "
                    f"{booking.starts_at.astimezone(zone):%A %d %B at %H:%M} with {booking.staff}.",
                )
                return _detail(booking)
        status = 400
    service, staff, day = (_field_value(form, name) for name in ("service", "staff", "date"))
    times = []
    if service is not None and day is not None and service.capacity == 1:
        names = {member.pk: member.display_name for member in qualified_staff(
            service=service)}  # fmt: skip
        found = available_slots(
            service=service, start_date=day, end_date=day, now=now,
            staff_id=staff.pk if staff else None,
        )  # fmt: skip
        times = [
            {"value": slot.in_zone(zone).strftime("%H:%M"), "staff": names.get(slot.staff_id, "")}
            for slot in found
        ]
    _keep_unlisted_time(form, times)
    return _render(
        request,
        "booking_new.html",
        {"form": form, "zone": zone, "times": times, "day": day, "any_staff": staff is None},
        tab="new",
        status=status,
    )


def _keep_unlisted_time(form: BookingCreateForm, times: list[dict]) -> None:
    """A time chosen before the free times are listed (tapped on the calendar, or picked for
    another service) becomes the typed time, so it survives "Show free times"."""
    slot = form.initial.get("slot", "")
    if form.is_bound or not slot or slot == OTHER_TIME:
        return
    if slot not in {option["value"] for option in times}:
        form.initial.update(slot=OTHER_TIME, time=form.initial.get("time") or slot)


def _create_confirmed_booking(request: HttpRequest, form: BookingCreateForm) -> Booking | None:
    """Hold then confirm in one transaction: a refusal writes nothing, not even the customer."""
    data = form.cleaned_data
    actor = _actor(request)
    try:
        with transaction.atomic():
            customer = customer_upsert(
                name=data["name"], email=data["email"], phone=data["phone"],
                region=request.tenant.country or None,
            )  # fmt: skip
            booking = booking_hold(
                service=data["service"], starts_at=data["starts_at"], customer=customer,
                staff_id=data["staff"].pk if data["staff"] else None,
                source=BookingSource.STAFF, notes=data["notes"], actor=actor, now=_now(),
                team_booking=True,
            )  # fmt: skip
            return booking_confirm(booking=booking, actor=actor, reason="Booked by the team.")
    except InvalidCustomer as error:
        form.add_error("phone" if "phone" in str(error) else None, str(error))
    except (slots.SlotError, BookingError) as error:
        form.add_error(None, _refusal(error, data["service"]))
    return None


def _refusal(error: Exception, service) -> str:
    """What to tell the team when the services refuse a time."""
    if isinstance(error, SlotTaken | slots.SlotUnavailable):
        return TIME_TAKEN
    if isinstance(error, slots.SlotTooSoon):
        # The default message speaks to a customer booking online.
        return (
            f"This time is too soon: {service} needs {service.minimum_notice_minutes} minutes' "
            "notice."
        )
    return str(error)


def _posted(request: HttpRequest) -> dict:
    """Values typed so far, kept when the page is redrawn to list the free times of a day."""
    if request.method != "POST":
        return {}
    return {key: value for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}


def _field_value(form, name: str):
    """A field's value, cleaned, from bound data or initial values; None when unusable."""
    if form.is_bound:
        return form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
    raw = form.initial.get(name)
    if raw in (None, ""):
        return None
    try:
        return form.fields[name].clean(raw)
    except ValidationError:  # a half-typed value simply lists no times yet
        return None
