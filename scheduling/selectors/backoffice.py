"""Reads of the back office: calendar, booking list and booking detail, moves, cancellations."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from django.db.models import (
    Case,
    F,
    Q,
    QuerySet,
    Value,
    When,
)

from scheduling import slots
from scheduling.cancellation_policy import (
    CancellationPolicy,
    InvalidPolicy,
    RefundDecision,
    describe,
    refund_for_cancellation,
)
from scheduling.models import (
    Booking,
    DateOverride,
    Service,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from scheduling.selectors.availability import (
    resource_pool,
    scheduling_calendar,
    service_rules,
    staff_schedules,
)


def calendar_staff(
    *, start: datetime, end: datetime, statuses: Iterable[str], staff_id: int | None = None
) -> list[StaffMember]:
    """Columns of the calendar: active staff, plus anyone with a shown booking in the window, so
    the bookings of a deactivated team member never silently disappear from the calendar."""
    with_bookings = Booking.objects.filter(
        starts_at__lt=end, ends_at__gt=start, status__in=list(statuses)
    ).values("staff_id")
    members = StaffMember.objects.filter(Q(is_active=True) | Q(pk__in=with_bookings))
    if staff_id is not None:
        members = members.filter(pk=staff_id)
    return list(members)


def calendar_bookings(
    *,
    start: datetime,
    end: datetime,
    staff_ids: Iterable[int],
    statuses: Iterable[str],
    resource_id: int | None = None,
) -> list[Booking]:
    """Bookings overlapping `[start, end)` of the given staff, in start order."""
    bookings = Booking.objects.filter(
        starts_at__lt=end,
        ends_at__gt=start,
        staff_id__in=list(staff_ids),
        status__in=list(statuses),
    )
    if resource_id is not None:
        bookings = bookings.filter(resource_id=resource_id)
    return list(
        bookings.select_related("service", "customer", "staff", "resource").order_by(
            "starts_at", "pk"
        )
    )


def staff_hours_on(*, staff_ids: Iterable[int], day: date) -> dict[int, list[tuple[time, time]]]:
    """Working intervals (local wall time) of each staff member on `day`, by the slot engine's
    rules: a business-wide closed day closes everyone; a staff date override replaces the weekly
    hours of that date, and an empty override closes it."""
    ids = list(staff_ids)
    hours: dict[int, list[tuple[time, time]]] = {pk: [] for pk in ids}
    if DateOverride.objects.filter(staff__isnull=True, start__isnull=True, date=day).exists():
        return hours
    overridden = set()
    for override in DateOverride.objects.filter(staff_id__in=ids, date=day):
        staff_id = override.staff_id
        assert staff_id is not None  # filtered on staff_id__in: not a business-wide override
        overridden.add(staff_id)
        if override.start is not None:  # not override.is_closed
            hours[staff_id].append((override.start, override.end or time(0)))
    weekly = WorkingHours.objects.filter(staff_id__in=ids, weekday=day.weekday()).exclude(
        staff_id__in=overridden
    )
    for row in weekly:
        hours[row.staff_id].append((row.start, row.end))
    for intervals in hours.values():
        intervals.sort()
    return hours


def staff_time_off(
    *, staff_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[TimeOff]]:
    absences: dict[int, list[TimeOff]] = defaultdict(list)
    for row in TimeOff.objects.filter(staff_id__in=list(staff_ids), ends_at__gt=start,
                                      starts_at__lt=end):  # fmt: skip
        absences[row.staff_id].append(row)
    return dict(absences)


def back_office_bookings(
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: Iterable[str] | None = None,
    staff_id: int | None = None,
    search: str = "",
) -> QuerySet[Booking]:
    """The booking list: upcoming bookings first (soonest first), then past ones (latest first),
    so the front desk opens the list on what happens next."""
    bookings = Booking.objects.select_related("service", "customer", "staff", "resource")
    if start is not None:
        bookings = bookings.filter(starts_at__gte=start)
    if end is not None:
        bookings = bookings.filter(starts_at__lt=end)
    if statuses is not None:
        bookings = bookings.filter(status__in=list(statuses))
    if staff_id is not None:
        bookings = bookings.filter(staff_id=staff_id)
    search = search.strip()
    if search:
        bookings = bookings.filter(
            Q(reference__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(customer__email__icontains=search)
            | Q(customer__phone__icontains=search)
        )
    upcoming = Q(starts_at__gte=now)
    return bookings.annotate(
        is_past=Case(When(upcoming, then=Value(0)), default=Value(1)),
        upcoming_start=Case(When(upcoming, then=F("starts_at")), default=None),
    ).order_by("is_past", F("upcoming_start").asc(nulls_last=True), "-starts_at", "-pk")


def back_office_booking(*, reference: str, staff_id: int | None = None) -> Booking | None:
    """One booking with what its page shows; `staff_id` limits it to that staff member's."""
    bookings = Booking.objects.select_related(
        "service", "customer", "staff", "resource", "occurrence"
    ).prefetch_related("events")
    if staff_id is not None:
        bookings = bookings.filter(staff_id=staff_id)
    return bookings.filter(reference=reference).first()


def qualified_staff(*, service: Service) -> QuerySet[StaffMember]:
    return service.staff.filter(is_active=True)


def available_slots_for_move(
    *, booking: Booking, day: date, now: datetime, staff_id: int
) -> list[slots.Slot]:
    """Free starts of `booking`'s service on a local date, not counting the booking itself (a
    30-minute shift overlaps its own current time)."""
    service = booking.service
    calendar = scheduling_calendar()
    window_start = datetime.combine(day, time(0), calendar.zone) - timedelta(days=1)
    window_end = datetime.combine(day, time(0), calendar.zone) + timedelta(days=2)
    return slots.available_slots(
        calendar=calendar,
        service=service_rules(service),
        staff=staff_schedules(
            service=service, start=window_start, end=window_end, now=now, staff_id=staff_id,
            exclude_booking_id=booking.pk,
        ),
        query=slots.SlotQuery(start_date=day, end_date=day, now=now, staff_id=staff_id),
        resource=resource_pool(
            service=service, start=window_start, end=window_end, now=now,
            exclude_booking_id=booking.pk,
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class CancellationOutcome:
    """What cancelling now gives: the refund when the business cancels (what staff do) and, for
    comparison, what the booking's own policy would give had the customer cancelled."""

    by_business: RefundDecision
    by_customer: RefundDecision | None  # None: the policy snapshot cannot be read
    policy_text: str


def cancellation_outcome(
    *, booking: Booking, now: datetime, paid_minor: int = 0
) -> CancellationOutcome:
    try:
        policy = CancellationPolicy.from_json(booking.policy_snapshot)
    except InvalidPolicy:
        policy = None
    refund = partial(
        refund_for_cancellation,
        paid_minor=paid_minor,
        starts_at=booking.starts_at,
        cancelled_at=now,
    )
    by_business = refund(policy=policy or CancellationPolicy(()), cancelled_by_business=True)
    if policy is None:
        return CancellationOutcome(by_business, None, "The cancellation policy cannot be read.")
    return CancellationOutcome(
        by_business, refund(policy=policy, cancelled_by_business=False), describe(policy)
    )
