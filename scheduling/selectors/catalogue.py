"""Reads behind the managers' catalogue pages (services, staff, hours, resources, sessions)."""

from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import Count, Q, QuerySet

from scheduling.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    DateOverride,
    GroupSchedule,
    Occurrence,
    Resource,
    Service,
    StaffMember,
    WorkingHours,
)
from tenants.models import Membership, User

WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def services_for_catalogue() -> QuerySet[Service]:
    """Active and inactive services in display order, with who offers them."""
    return (
        Service.objects.order_by("-is_active", "display_order", "name")
        .select_related("resource")
        .prefetch_related("staff")
    )


def staff_for_catalogue() -> QuerySet[StaffMember]:
    return StaffMember.objects.order_by("-is_active", "display_order", "display_name")


def resources_for_catalogue() -> QuerySet[Resource]:
    return Resource.objects.annotate(service_count=Count("services", distinct=True)).order_by(
        "-is_active", "name"
    )


def linkable_users(*, tenant_id: int) -> QuerySet[User]:
    """People who may be linked to a staff profile: the business's active members."""
    member_ids = Membership.objects.filter(tenant_id=tenant_id, is_active=True).values("user_id")
    return User.objects.filter(pk__in=member_ids, is_active=True).order_by("full_name")


def holidays_from(*, day) -> QuerySet[DateOverride]:
    return DateOverride.objects.filter(staff__isnull=True, date__gte=day).order_by("date")


def staff_overrides_from(*, staff: StaffMember, day) -> QuerySet[DateOverride]:
    return staff.date_overrides.filter(date__gte=day).order_by("date", "start")


def group_services() -> QuerySet[Service]:
    return Service.objects.filter(capacity__gt=1, is_active=True).order_by("display_order", "name")


@dataclass(frozen=True)
class OccurrenceRow:
    occurrence: Occurrence
    seats_taken: int


def running_group_schedules(*, now: datetime) -> int:
    """Recurring group sessions still running: a weekly class with a session not yet over and
    not cancelled. What a plan's `max_group_sessions` counts (a finished class frees its place)."""
    return (
        GroupSchedule.objects.filter(occurrences__is_cancelled=False, occurrences__ends_at__gt=now)
        .distinct()
        .count()
    )


def upcoming_occurrences(*, now: datetime, limit: int = 200) -> list[OccurrenceRow]:
    """Sessions still to come with the seats customers hold (expired holds hold nothing)."""
    seat = Q(bookings__status=BookingStatus.CONFIRMED) | Q(
        bookings__status=BookingStatus.HELD, bookings__hold_expires_at__gt=now
    )
    occurrences = (
        Occurrence.objects.filter(ends_at__gt=now)
        .select_related("service", "staff")
        .annotate(seats_taken=Count("bookings", filter=seat))
        .order_by("starts_at")[:limit]
    )
    return [OccurrenceRow(occurrence=o, seats_taken=o.seats_taken) for o in occurrences]


def weekly_hours_summary() -> dict[int, list[str]]:
    """Per staff member, one line per working day: "Mon 09:00–12:00, 13:00–18:00"."""
    days: dict[int, dict[int, list[str]]] = {}
    for row in WorkingHours.objects.order_by("staff_id", "weekday", "start"):
        end = "24:00" if row.end == time(0) else f"{row.end:%H:%M}"
        interval = f"{row.start:%H:%M}–{end}"
        days.setdefault(row.staff_id, {}).setdefault(row.weekday, []).append(interval)
    return {
        staff_id: [
            f"{WEEKDAY_ABBREVIATIONS[day]} {', '.join(spans)}" for day, spans in by_day.items()
        ]
        for staff_id, by_day in days.items()
    }


def bookings_during(*, staff: StaffMember, start: datetime, end: datetime) -> int:
    """Active appointments of a staff member that overlap [start, end)."""
    return Booking.objects.filter(
        staff=staff, status__in=ACTIVE_STATUSES, starts_at__lt=end, ends_at__gt=start
    ).count()
