"""Staff back office of bookings: the booking list and page, and the team's actions (book a
phoned-in customer, confirm, move, cancel, mark completed or no-show).

Views stay thin: reads come from `scheduling.selectors`, every change goes through
`scheduling.services`, and domain errors become form errors or messages here, never a 500. Times
are shown in the business's zone (`tenant.time_zone`), whatever the browser's.
"""

import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST

from common.money import Money, format_money
from scheduling import ports, slots
from scheduling.calendar_layout import (
    day_bounds,
)
from scheduling.cancellation_policy import InvalidPolicy
from scheduling.exceptions import (
    BookingError,
    CreditUnavailable,
    InvalidCustomer,
    InvalidTransition,
    SlotTaken,
)
from scheduling.forms.bookings import (
    OTHER_TIME,
    BookingCancelForm,
    BookingCreateForm,
    BookingFilterForm,
    BookingMoveForm,
)
from scheduling.models import (
    Booking,
    BookingSource,
    BookingStatus,
    Customer,
    Occurrence,
    StaffMember,
)
from scheduling.selectors.availability import available_slots, sessions_to_move_to
from scheduling.selectors.backoffice import (
    available_slots_for_move,
    back_office_bookings,
    cancellation_outcome,
    qualified_staff,
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
from scheduling.views import base
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission

logger = logging.getLogger(__name__)

LIST_DEFAULT_STATUSES = [s for s in BookingStatus if s != BookingStatus.EXPIRED]
BOOKINGS_PER_PAGE = 25
TIME_TAKEN = "That time was just taken. Please pick another time."
NO_CREDIT = (
    "This customer has no credit covering this service at this time: book without a credit, or "
    "see their credits under Passes and credits → Customer credits."
)


# ---------------------------------------------------------------------------
# Booking list and page
# ---------------------------------------------------------------------------
@member_required(Permission.VIEW_ALL_BOOKINGS)
def booking_list(request: MemberRequest) -> HttpResponse:
    zone = base.zone_of(request)
    form = BookingFilterForm(request.GET or None)
    form.is_valid()  # a bad filter is reported and left out; the others still apply
    filters = getattr(form, "cleaned_data", {})
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    bookings = back_office_bookings(
        now=base.now(),
        start=day_bounds(date_from, zone)[0] if date_from else None,
        end=day_bounds(date_to, zone)[1] if date_to else None,
        statuses=[filters["status"]] if filters.get("status") else LIST_DEFAULT_STATUSES,
        staff_id=filters["staff"].pk if filters.get("staff") else None,
        search=filters.get("q", ""),
    )
    page = Paginator(bookings, BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    return base.render_page(
        request,
        "booking_list.html",
        {
            "form": form,
            "page": page,
            "zone": zone,
            "can_manage": base.allows(request, Permission.MANAGE_BOOKINGS),
        },
        tab="bookings",
    )


@member_required(Permission.VIEW_OWN_CALENDAR)
def booking_detail(request: MemberRequest, reference: str) -> HttpResponse:
    booking = base.booking_or_404(request, reference)
    zone = base.zone_of(request)
    now = base.now()
    can_manage = base.allows(request, Permission.MANAGE_BOOKINGS)
    started = booking.starts_at <= now
    return base.render_page(
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
            "calendar_url": base.calendar_url("day", booking.starts_at.astimezone(zone).date(), {}),
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


def _price(request: MemberRequest, booking: Booking) -> str | None:
    """Amounts are for roles that see money (docs/roles.md); others see the payment mode only."""
    if not base.allows(request, Permission.VIEW_MONEY):
        return None
    return format_money(Money(booking.price_minor, booking.currency))


def _payment_summary(request: MemberRequest, booking: Booking) -> dict:
    """ "Paid / deposit / due" for every role; the link to the money record for money roles."""
    summary = ports.payments().staff_summary(
        booking=booking, with_money=base.allows(request, Permission.VIEW_MONEY)
    )
    return {
        "label": summary["label"],
        "due": format_money(Money(summary["due_minor"], summary["currency"]))
        if summary["due_minor"]
        else "",
        "detail_url": summary["detail_url"],
        # A card on file and its no-show / late-cancellation fee (connect_payments), if any.
        "card_label": summary.get("card_label", ""),
        "fee_label": summary.get("fee_label", ""),
        "fee_url": summary.get("fee_url", ""),
    }


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------
@member_required(Permission.MANAGE_BOOKINGS)
@require_POST
def booking_transition(request: MemberRequest, reference: str, action: str) -> HttpResponse:
    """Confirm a hold, or mark a started booking completed or no-show."""
    booking = base.booking_or_404(request, reference)
    actor = base.actor_of(request)
    try:
        if action == "confirm":
            booking = booking_confirm(booking=booking, actor=actor, reason="Confirmed by the team.")
        elif action == "complete":
            booking = booking_complete(booking=booking, actor=actor, now=base.now())
        elif action == "no_show":
            booking = booking_mark_no_show(booking=booking, actor=actor, now=base.now())
        else:
            raise Http404("No such action.")
    except InvalidTransition as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Booking {booking.reference} is {booking.get_status_display().lower()}."
        )
    return base.detail_redirect(booking)


@member_required(Permission.MANAGE_BOOKINGS)
def booking_cancel(request: MemberRequest, reference: str) -> HttpResponse:
    """A confirmation page showing what the cancellation gives, then the cancellation."""
    booking = base.booking_or_404(request, reference)
    if not booking.is_active:
        messages.error(
            request, f"This booking is {booking.get_status_display().lower()}: nothing to cancel."
        )
        return base.detail_redirect(booking)
    form = BookingCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Staff cancel on the business's behalf: the refund is everything still refundable,
            # whatever the policy says (cancellation_policy.refund_for_cancellation).
            # The policy is applied to the money really paid, then refunded through Stripe
            # (after the cancellation commits; a refund Stripe refuses is retried, shown pending).
            decision = booking_cancel_with_refund(
                booking=booking, actor=base.actor_of(request), by_business=True,
                reason=form.cleaned_data["reason"], now=base.now(),
            )  # fmt: skip
        except BookingError as error:
            messages.error(request, str(error))
            return base.detail_redirect(booking)
        except InvalidPolicy:
            # booking_cancel reads the snapshot even when the business cancels; a corrupt one
            # is a data problem to fix, not something to paper over here.
            logger.error("booking.cancel.unreadable_policy", extra={"reference": reference})
            messages.error(
                request,
                "The cancellation policy saved with this booking cannot be read, so it was not "
                "cancelled. Please contact Creneau support.",
            )
            return base.detail_redirect(booking)
        messages.success(
            request,
            f"Booking {booking.reference} is cancelled. The customer is due "
            f"{decision.percent}% of what they paid back.",
        )
        return base.detail_redirect(booking)
    paid_minor, already_refunded_minor = ports.payments().cancellation_amounts(booking=booking)
    outcome = cancellation_outcome(
        booking=booking, now=base.now(), paid_minor=paid_minor - already_refunded_minor
    )
    return base.render_page(
        request,
        "booking_cancel.html",
        {
            "booking": booking,
            "zone": base.zone_of(request),
            "form": form,
            "outcome": outcome,
            "sees_money": base.allows(request, Permission.VIEW_MONEY),
            "pays_online": booking.payment_mode in ("online_full", "online_deposit"),
            "refund_amount": format_money(
                Money(outcome.by_business.amount_minor, booking.currency)
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@member_required(Permission.MANAGE_BOOKINGS)
def booking_move(request: MemberRequest, reference: str) -> HttpResponse:
    booking = base.booking_or_404(request, reference)
    if not booking.is_active:
        messages.error(request, "Only an upcoming booking (held or confirmed) can be moved.")
        return base.detail_redirect(booking)
    if booking.occurrence_id is not None:
        return _move_seat(request, booking)
    zone = base.zone_of(request)
    now = base.now()
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
                    actor=base.actor_of(request), staff_id=form.cleaned_data["staff"].pk, now=now,
                )  # fmt: skip
            except InvalidTransition as error:
                messages.error(request, str(error))
                return base.detail_redirect(booking)
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
                return base.detail_redirect(booking)
        status = 400
    day, staff = _field_value(form, "date"), _field_value(form, "staff")
    times = []
    if day is not None and staff is not None:
        found = available_slots_for_move(booking=booking, day=day, now=now, staff_id=staff.pk)
        times = [{"value": slot.in_zone(zone).strftime("%H:%M")} for slot in found]
    return base.render_page(
        request,
        "booking_move.html",
        {"booking": booking, "zone": zone, "form": form, "times": times, "day": day},
        status=status,
    )


def _move_seat(request: MemberRequest, booking: Booking) -> HttpResponse:
    """A seat in a class moves to another session of the same class, chosen from a list."""
    zone = base.zone_of(request)
    now = base.now()
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
                    booking=booking, occurrence=occurrence, actor=base.actor_of(request), now=now
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
                return base.detail_redirect(booking)
    return base.render_page(
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
def booking_new(request: MemberRequest) -> HttpResponse:
    zone = base.zone_of(request)
    now = base.now()
    wants_times = "show_times" in request.POST
    if request.method == "POST" and not wants_times:
        form = BookingCreateForm(request.POST, zone=zone)
    else:
        form = BookingCreateForm(
            initial={"date": base.today(zone), **request.GET.dict(), **_posted(request)}, zone=zone
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
                return base.detail_redirect(booking)
        status = 400
    service, staff, day = (_field_value(form, name) for name in ("service", "staff", "date"))
    times = []
    if service is not None and day is not None and service.capacity == 1:
        names: dict[int | str, str] = {member.pk: member.display_name for member in qualified_staff(
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
    credit = _credit_offer(form, service=service, day=day, zone=zone)
    return base.render_page(
        request,
        "booking_new.html",
        {"form": form, "zone": zone, "times": times, "day": day, "any_staff": staff is None,
         "credit": credit},
        tab="new",
        status=status,
    )  # fmt: skip


def _credit_offer(form: BookingCreateForm, *, service, day, zone) -> ports.CreditOffer | None:
    """The credit the typed customer (an existing customer, by email) could book this service
    with, at the chosen time (noon of the day until one is chosen): the page offers it."""
    email = str(form.data.get("email") or form.initial.get("email") or "").strip()
    if service is None or day is None or "@" not in email:
        return None
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer is None:
        return None
    starts_at = form.cleaned_data.get("starts_at") if hasattr(form, "cleaned_data") else None
    if starts_at is None:
        starts_at = datetime.combine(day, time(12), zone)
    return ports.credits().offer_for(customer=customer, service=service, starts_at=starts_at)


def _keep_unlisted_time(form: BookingCreateForm, times: list[dict]) -> None:
    """A time chosen before the free times are listed (tapped on the calendar, or picked for
    another service) becomes the typed time, so it survives "Show free times"."""
    slot = form.initial.get("slot", "")
    if form.is_bound or not slot or slot == OTHER_TIME:
        return
    if slot not in {option["value"] for option in times}:
        form.initial.update(slot=OTHER_TIME, time=form.initial.get("time") or slot)


def _create_confirmed_booking(request: MemberRequest, form: BookingCreateForm) -> Booking | None:
    """Hold then confirm in one transaction: a refusal writes nothing, not even the customer."""
    data = form.cleaned_data
    actor = base.actor_of(request)
    try:
        with transaction.atomic():
            customer = customer_upsert(
                name=data["name"], email=data["email"], phone=data["phone"],
                region=request.tenant.country or None,
            )  # fmt: skip
            booking = booking_hold(
                service=data["service"], starts_at=data["starts_at"], customer=customer,
                staff_id=data["staff"].pk if data["staff"] else None,
                source=BookingSource.STAFF, notes=data["notes"], actor=actor, now=base.now(),
                team_booking=True, use_credit=data["use_credit"], member_pricing=True,
            )  # fmt: skip
            return booking_confirm(booking=booking, actor=actor, reason="Booked by the team.")
    except InvalidCustomer as error:
        form.add_error("phone" if "phone" in str(error) else None, str(error))
    except CreditUnavailable:
        form.add_error("use_credit", NO_CREDIT)
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


def _posted(request: MemberRequest) -> dict:
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
