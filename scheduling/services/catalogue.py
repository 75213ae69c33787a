"""Writes of the catalogue: services, staff, hours, time off, resources, group sessions,
settings.

These writes back the managers' catalogue pages. They raise django's ValidationError (keyed by
field where one is to blame) so a form can show the message next to the input; the database
constraints stay the final guard.
"""

import logging
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone
from psycopg import errors as pg_errors

from scheduling import ports
from scheduling.cancellation_policy import (
    CancellationPolicy,
    InvalidPolicy,
)
from scheduling.locking import lock_occurrence
from scheduling.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    DateOverride,
    GroupSchedule,
    Occurrence,
    PaymentMode,
    Resource,
    SchedulingSettings,
    Service,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from scheduling.selectors.availability import tenant_time_zone
from scheduling.selectors.catalogue import running_group_schedules
from scheduling.services.bookings import scheduling_settings
from tenants.context import current_tenant
from tenants.models import Membership

logger = logging.getLogger(__name__)

MIDNIGHT = time(0)


@dataclass(frozen=True)
class ServiceSpec:
    """Every editable field of a Service, already parsed (money in minor units)."""

    name: str
    duration_minutes: int
    price_minor: int
    payment_mode: str
    description: str = ""
    category: str = ""
    deposit_fixed_minor: int | None = None
    deposit_percent: int | None = None
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    capacity: int = 1
    minimum_notice_minutes: int = 60
    maximum_advance_days: int = 90
    slot_interval_minutes: int = 15
    staff_ids: tuple[int, ...] = ()
    resource_id: int | None = None
    cancellation_policy: list[dict[str, int]] = field(default_factory=list)
    is_active: bool = True
    display_order: int = 0


def _checked_service_spec(spec: ServiceSpec) -> ServiceSpec:
    """Business rules of a service that the column types alone do not express."""
    errors: dict[str, str] = {}
    if not spec.name.strip():
        errors["name"] = "Give the service a name."
    if spec.duration_minutes < 5:
        errors["duration_minutes"] = "A service lasts at least 5 minutes."
    if spec.slot_interval_minutes < 5:
        errors["slot_interval_minutes"] = "Start times are at least 5 minutes apart."
    if spec.capacity < 1:
        errors["capacity"] = "Capacity is at least 1."
    if spec.price_minor < 0:
        errors["price"] = "A price cannot be negative."
    deposit_fixed, deposit_percent = spec.deposit_fixed_minor, spec.deposit_percent
    if spec.payment_mode == PaymentMode.ONLINE_DEPOSIT:
        if (deposit_fixed is None) == (deposit_percent is None):
            errors["deposit_kind"] = "Give the deposit either as an amount or as a percentage."
        elif deposit_fixed is not None and not 0 < deposit_fixed < spec.price_minor:
            errors["deposit_amount"] = "The deposit must be more than zero and less than the price."
        elif deposit_percent is not None and not 1 <= deposit_percent <= 99:
            errors["deposit_percent"] = "The deposit is between 1 and 99 % of the price."
    else:
        # A deposit only means something in deposit mode; keeping a stale one would confuse the
        # payments code that reads it.
        deposit_fixed = deposit_percent = None
    if spec.payment_mode == PaymentMode.FREE and spec.price_minor != 0:
        errors["price"] = "A free service has a price of 0."
    if spec.payment_mode in (PaymentMode.ONLINE_FULL, PaymentMode.ONLINE_DEPOSIT) and (
        spec.price_minor == 0
    ):
        errors["price"] = "A service paid online needs a price; choose “Free” otherwise."
    try:
        policy = CancellationPolicy.from_json(spec.cancellation_policy).to_json()
    except InvalidPolicy as error:
        errors["cancellation_policy"] = str(error)
        policy = []
    if spec.resource_id is not None and not Resource.objects.filter(pk=spec.resource_id).exists():
        errors["resource"] = "This resource no longer exists."
    if errors:
        raise ValidationError(errors)
    return replace(
        spec,
        name=spec.name.strip(),
        deposit_fixed_minor=deposit_fixed,
        deposit_percent=deposit_percent,
        cancellation_policy=policy,
    )


def _service_columns(spec: ServiceSpec) -> dict:
    columns = {f.name: getattr(spec, f.name) for f in fields(ServiceSpec)}
    del columns["staff_ids"]
    return columns


def service_create(*, spec: ServiceSpec) -> Service:
    spec = _checked_service_spec(spec)
    with transaction.atomic():
        service = Service.objects.create(**_service_columns(spec))
        service.staff.set(StaffMember.objects.filter(pk__in=spec.staff_ids))
    logger.info("catalogue.service.created", extra={"service": service.pk})
    return service


def service_update(*, service: Service, spec: ServiceSpec) -> Service:
    """Edit a service; bookings keep the price and policy they were made with (snapshots).

    A group service's capacity raised raises its sessions to come that had the old capacity
    (the ones that followed the service; a session given its own capacity keeps it), and the
    new seats are told to the apps above (the waitlist offers them). Lowering it leaves the
    sessions alone: their seats may be taken."""
    spec = _checked_service_spec(spec)
    with transaction.atomic():
        old_capacity = Service.objects.select_for_update().get(pk=service.pk).capacity
        for name, value in _service_columns(spec).items():
            setattr(service, name, value)
        service.save()
        service.staff.set(StaffMember.objects.filter(pk__in=spec.staff_ids))
        if old_capacity > 1 and spec.capacity > old_capacity:
            following = Occurrence.objects.filter(
                service=service, capacity=old_capacity, is_cancelled=False,
                starts_at__gt=timezone.now(),
            ).order_by("pk")  # fmt: skip
            for occurrence in following:
                occurrence_capacity_set(occurrence=occurrence, capacity=spec.capacity)
    logger.info("catalogue.service.updated", extra={"service": service.pk})
    return service


def service_delete_or_deactivate(*, service: Service) -> bool:
    """Delete a service nobody booked; otherwise deactivate it, since bookings, sessions and
    payments keep pointing at it. Returns True when the service was deleted."""
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        in_use = (
            locked.bookings.exists()
            or locked.occurrences.exists()
            or locked.group_schedules.exists()
        )
        if not in_use:
            try:
                with transaction.atomic():
                    locked.delete()
                return True
            except ProtectedError:
                pass  # a row added by another table since the check: keep the service
        Service.objects.filter(pk=locked.pk).update(is_active=False)
    return False


# --- staff -----------------------------------------------------------------
@dataclass(frozen=True)
class StaffSpec:
    display_name: str
    user_id: int | None = None
    service_ids: tuple[int, ...] = ()
    colour: str = "#2f5d50"
    time_zone: str = ""
    is_active: bool = True
    display_order: int = 0


def _others_linked_to(user_id: int, *, staff: StaffMember | None) -> QuerySet[StaffMember]:
    """Staff rows linked to the user, other than `staff` (the one being edited, if any)."""
    linked = StaffMember.objects.filter(user_id=user_id)
    return linked.exclude(pk=staff.pk) if staff is not None else linked


def _check_staff_spec(spec: StaffSpec, *, staff: StaffMember | None, tenant_id: int) -> None:
    errors: dict[str, str] = {}
    if not spec.display_name.strip():
        errors["display_name"] = "Give the staff member a name."
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", spec.colour):
        errors["colour"] = "Choose a colour such as #2f5d50."
    if spec.time_zone and spec.time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = "Choose a time zone from the list (for example Europe/Paris)."
    if spec.user_id is not None:
        if not Membership.objects.filter(
            tenant_id=tenant_id, user_id=spec.user_id, is_active=True
        ).exists():
            errors["user"] = "Choose an active member of your team."
        elif _others_linked_to(spec.user_id, staff=staff).exists():
            errors["user"] = "This person is already linked to another staff member."
    if spec.is_active and (staff is None or not staff.is_active):
        active_after = StaffMember.objects.filter(is_active=True).count() + 1
        refusal = ports.plan_limits().active_staff_refusal(
            tenant_id=tenant_id, active_staff=active_after
        )
        if refusal:
            errors["is_active"] = refusal
    if errors:
        raise ValidationError(errors)


def staff_create(*, spec: StaffSpec, tenant_id: int) -> StaffMember:
    _check_staff_spec(spec, staff=None, tenant_id=tenant_id)
    with transaction.atomic():
        staff = StaffMember.objects.create(
            display_name=spec.display_name.strip(), user_id=spec.user_id, colour=spec.colour,
            time_zone=spec.time_zone, is_active=spec.is_active, display_order=spec.display_order,
        )  # fmt: skip
        staff.services.set(Service.objects.filter(pk__in=spec.service_ids))
        if staff.is_active:
            ports.staff_changed(tenant_id=tenant_id)
    return staff


def staff_update(*, staff: StaffMember, spec: StaffSpec, tenant_id: int) -> StaffMember:
    _check_staff_spec(spec, staff=staff, tenant_id=tenant_id)
    was_active = staff.is_active
    with transaction.atomic():
        staff.display_name = spec.display_name.strip()
        staff.user_id = spec.user_id
        staff.colour = spec.colour
        staff.time_zone = spec.time_zone
        staff.is_active = spec.is_active
        staff.display_order = spec.display_order
        staff.save()
        staff.services.set(Service.objects.filter(pk__in=spec.service_ids))
        if staff.is_active != was_active:
            ports.staff_changed(tenant_id=tenant_id)
    return staff


# --- working hours, date overrides, time off ---------------------------------
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _minutes(moment: time, *, is_end: bool) -> int:
    # An interval ending at 00:00 ends at midnight (24:00), as in the slot engine.
    if is_end and moment == MIDNIGHT:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def _interval_problems(intervals: list[tuple[time, time]]) -> str | None:
    """Why a day's wall-clock intervals are unusable by the slot engine, or None."""
    for start, end in intervals:
        if start.second or start.microsecond or end.second or end.microsecond:
            return "Use whole minutes."
        if _minutes(end, is_end=True) <= _minutes(start, is_end=False):
            return f"{start:%H:%M}–{end:%H:%M} ends before it starts."
    ordered = sorted(intervals, key=lambda pair: _minutes(pair[0], is_end=False))
    for (start_a, end_a), (start_b, end_b) in zip(ordered, ordered[1:], strict=False):
        if _minutes(start_b, is_end=False) < _minutes(end_a, is_end=True):
            return f"{start_a:%H:%M}–{end_a:%H:%M} and {start_b:%H:%M}–{end_b:%H:%M} overlap."
    return None


def working_hours_replace(
    *, staff: StaffMember, intervals: Iterable[tuple[int, time, time]]
) -> list[WorkingHours]:
    """Replace a staff member's whole week at once: either every interval is saved or none."""
    by_day: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for weekday, start, end in intervals:
        if weekday not in range(7):
            raise ValidationError("Choose a day of the week.")
        by_day[weekday].append((start, end))
    problems = [
        f"{WEEKDAY_NAMES[day]}: {problem}"
        for day in sorted(by_day)
        if (problem := _interval_problems(by_day[day]))
    ]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        StaffMember.objects.select_for_update().filter(pk=staff.pk).exists()
        WorkingHours.objects.filter(staff=staff).delete()
        rows = WorkingHours.objects.bulk_create(
            WorkingHours(staff=staff, weekday=day, start=start, end=end)
            for day in sorted(by_day)
            for start, end in sorted(by_day[day])
        )
        ports.availability_added(staff_id=staff.pk)
    logger.info("catalogue.hours.replaced", extra={"staff": staff.pk, "intervals": len(rows)})
    return rows


def date_override_create(
    *,
    staff: StaffMember | None,
    day: date,
    start: time | None = None,
    end: time | None = None,
    note: str = "",
) -> DateOverride:
    """Special hours on a date (several intervals allowed) or a closed day; no staff: the whole
    business is closed that date (a holiday)."""
    if (start is None) != (end is None):
        raise ValidationError("Give both a start and an end, or neither to close the day.")
    if staff is None and start is not None:
        raise ValidationError("A business-wide date override closes the day for everyone.")
    with transaction.atomic():
        if staff is not None:
            StaffMember.objects.select_for_update().filter(pk=staff.pk).exists()
        same_day = DateOverride.objects.filter(staff=staff, date=day)
        if start is None:
            if same_day.exists():
                raise ValidationError(
                    f"{day:%d %b %Y} already has an entry: delete it first to close the day."
                    if staff
                    else f"{day:%d %b %Y} is already a holiday."
                )
        else:
            assert end is not None  # checked above: a start comes with an end
            if same_day.filter(start__isnull=True).exists():
                raise ValidationError(f"{day:%d %b %Y} is marked closed: delete that first.")
            # No closed row, so every row has a start; an empty end reads as midnight, as in
            # the slot engine (selectors.availability).
            existing = [
                (row.start, row.end or time(0)) for row in same_day if row.start is not None
            ]
            problem = _interval_problems([*existing, (start, end)])
            if problem:
                raise ValidationError(problem)
        override = DateOverride.objects.create(
            staff=staff, date=day, start=start, end=end, note=note.strip()
        )
        if staff is not None and start is not None:
            ports.availability_added(staff_id=staff.pk)
        return override


def holidays_create(*, first_day: date, last_day: date, note: str = "") -> list[DateOverride]:
    """Close the business on every date of [first_day, last_day] not already closed."""
    if last_day < first_day:
        raise ValidationError({"last_day": "The last day is before the first day."})
    if (last_day - first_day).days >= 366:
        raise ValidationError({"last_day": "Add at most one year of holidays at a time."})
    with transaction.atomic():
        closed = set(
            DateOverride.objects.filter(
                staff__isnull=True, date__range=(first_day, last_day)
            ).values_list("date", flat=True)
        )
        days = [
            first_day + timedelta(days=offset)
            for offset in range((last_day - first_day).days + 1)
            if first_day + timedelta(days=offset) not in closed
        ]
        return DateOverride.objects.bulk_create(
            DateOverride(staff=None, date=day, note=note.strip()) for day in days
        )


def date_override_delete(*, override: DateOverride) -> None:
    override.delete()


def time_off_create(
    *, staff: StaffMember, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> TimeOff:
    """An absence, as aware instants (the form converts the business's local time). Bookings
    already in the range are left alone: the business decides whether to move them."""
    for moment in (starts_at, ends_at):
        if timezone.is_naive(moment):
            raise ValueError("Time off is stored as aware datetimes.")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The end must be after the start."})
    return TimeOff.objects.create(
        staff=staff, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )


def time_off_delete(*, time_off: TimeOff) -> None:
    with transaction.atomic():
        time_off.delete()
        ports.availability_added(staff_id=time_off.staff_id)


# --- resources ---------------------------------------------------------------
def resource_create(*, name: str, quantity: int, is_active: bool = True) -> Resource:
    if quantity < 1:
        raise ValidationError({"quantity": "A resource has at least one unit."})
    return Resource.objects.create(name=name.strip(), quantity=quantity, is_active=is_active)


def resource_update(*, resource: Resource, name: str, quantity: int, is_active: bool) -> Resource:
    if quantity < 1:
        raise ValidationError({"quantity": "A resource has at least one unit."})
    resource.name = name.strip()
    resource.quantity = quantity
    resource.is_active = is_active
    resource.save()
    return resource


def resource_delete(*, resource: Resource) -> None:
    """Only an unused resource is deleted; one in use can be deactivated instead."""
    service_names = list(resource.services.values_list("name", flat=True)[:5])
    if service_names:
        raise ValidationError(
            f"{resource.name} is needed by {', '.join(service_names)}. Remove it from those "
            "services first, or deactivate it."
        )
    if resource.bookings.exists():
        raise ValidationError(
            f"{resource.name} is part of existing bookings. Deactivate it instead."
        )
    try:
        with transaction.atomic():
            resource.delete()
    except ProtectedError:
        raise ValidationError(f"{resource.name} is in use. Deactivate it instead.")


# --- group sessions ----------------------------------------------------------
@dataclass(frozen=True)
class SkippedOccurrence:
    day: date
    reason: str


@dataclass(frozen=True)
class GroupScheduleResult:
    schedule: GroupSchedule
    created: list[Occurrence]
    skipped: list[SkippedOccurrence]


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall time on a date; None when the clocks skip it (DST gap). A
    repeated wall time (DST overlap) means its first occurrence."""
    wall = datetime.combine(day, at).replace(tzinfo=zone)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        return None
    return instant


GROUP_SCHEDULE_MAX_LEAD_DAYS = 3650  # a bound against typos (year 3030), not a policy


def _lock_group_schedules() -> None:
    """A transaction-scoped advisory lock on this schema's group schedules: two managers adding
    a class at once are counted one after the other, so both cannot pass a limit that has room
    for one (not a row lock: scheduling.locking's row-lock order stays as it is)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':group_schedules'))"
        )


def _check_group_sessions_limit(*, now: datetime) -> None:
    """The plan's limit on recurring group sessions running at once, the new one counted
    (billing answers through the port). Raised inside the creating transaction: refused, the
    schedule and its sessions are rolled back."""
    refusal = ports.plan_limits().group_sessions_refusal(
        tenant_id=current_tenant().pk, group_sessions=running_group_schedules(now=now)
    )
    if refusal:
        raise ValidationError(refusal)


def group_schedule_create(
    *,
    service: Service,
    staff: StaffMember,
    weekday: int,
    start_time: time,
    first_date: date,
    weeks: int,
    capacity: int,
    now: datetime | None = None,
) -> GroupScheduleResult:
    """A weekly class and its occurrences, in one transaction.

    Occurrences are at `start_time` wall time in the business's zone every week, whatever the
    UTC offset that day. A week whose session already exists (same service, staff and start) or
    whose start time does not exist that night (DST gap) is skipped and reported. A class beyond
    the plan's recurring group sessions is refused (the plan limits port).
    """
    errors: dict[str, str] = {}
    if service.capacity <= 1:
        errors["service"] = "Group sessions are for services with a capacity above 1."
    if not service.is_active:
        errors["service"] = "This service is inactive."
    if not staff.is_active:
        errors["staff"] = "This staff member is inactive."
    if weekday not in range(7):
        errors["weekday"] = "Choose a day of the week."
    if not 1 <= weeks <= 104:
        errors["weeks"] = "Between 1 and 104 weeks."
    if capacity < 1:
        errors["capacity"] = "Capacity is at least 1."
    if start_time.second or start_time.microsecond:
        errors["start_time"] = "Use whole minutes."
    zone = ZoneInfo(tenant_time_zone())
    today = (now or timezone.now()).astimezone(zone).date()
    if first_date < today:
        errors["first_date"] = "The first date is in the past."
    elif first_date > today + timedelta(days=GROUP_SCHEDULE_MAX_LEAD_DAYS):
        errors["first_date"] = "Schedule classes at most ten years ahead."
    if errors:
        raise ValidationError(errors)
    first_day = first_date + timedelta(days=(weekday - first_date.weekday()) % 7)
    duration = timedelta(minutes=service.duration_minutes)
    created: list[Occurrence] = []
    skipped: list[SkippedOccurrence] = []
    with transaction.atomic():
        _lock_group_schedules()
        schedule = GroupSchedule.objects.create(
            service=service, staff=staff, weekday=weekday, start_time=start_time,
            first_date=first_day, weeks=weeks, capacity=capacity,
        )  # fmt: skip
        for week in range(weeks):
            day = first_day + timedelta(weeks=week)
            starts_at = _local_instant(day, start_time, zone)
            if starts_at is None:
                skipped.append(SkippedOccurrence(day, "this time does not exist (clocks change)"))
                continue
            try:
                with transaction.atomic():  # a savepoint: one clash must not undo the others
                    created.append(
                        Occurrence.objects.create(
                            service=service,
                            staff=staff,
                            schedule=schedule,
                            starts_at=starts_at,
                            ends_at=starts_at + duration,
                            capacity=capacity,
                        )  # fmt: skip
                    )
            except IntegrityError as error:
                if not isinstance(error.__cause__, pg_errors.UniqueViolation):
                    raise
                skipped.append(SkippedOccurrence(day, "a session already exists at this time"))
        if not created:
            # Raised inside the transaction so that no empty schedule is left behind.
            raise ValidationError("No session was created: " + "; ".join(
                f"{item.day:%d %b %Y}: {item.reason}" for item in skipped))  # fmt: skip
        _check_group_sessions_limit(now=now or timezone.now())
    logger.info(
        "catalogue.group_schedule.created",
        extra={"schedule": schedule.pk, "occurrences": len(created), "skipped": len(skipped)},
    )
    return GroupScheduleResult(schedule=schedule, created=created, skipped=skipped)


def occurrence_cancel(*, occurrence: Occurrence, now: datetime | None = None) -> Occurrence:
    """Cancel a session nobody holds a seat in; customers with seats must be handled first."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Occurrence.objects.select_for_update().get(pk=occurrence.pk)
        if locked.is_cancelled:
            return locked  # already done
        seats = (
            Booking.objects.filter(occurrence=locked, status__in=ACTIVE_STATUSES)
            .exclude(status=BookingStatus.HELD, hold_expires_at__lte=now)
            .count()
        )
        if seats:
            raise ValidationError(
                f"{seats} customer(s) have a seat in this session. Cancel their bookings from "
                "the bookings page first, so that they are told and refunded."
            )
        Occurrence.objects.filter(pk=locked.pk, is_cancelled=False).update(is_cancelled=True)
    locked.refresh_from_db()
    return locked


def occurrence_capacity_set(*, occurrence: Occurrence, capacity: int) -> Occurrence:
    """Change a session's seats. Never below the seats customers hold; raised, the new seats
    are told to the apps above through `ports.availability_added` (the waitlist offers them
    after commit, one place per free seat, counted under this same row lock)."""
    if not 1 <= capacity <= 1000:
        raise ValidationError({"capacity": "Between 1 and 1000 seats."})
    with transaction.atomic():
        locked = lock_occurrence(occurrence.pk)
        if locked.is_cancelled:
            raise ValidationError("This session is cancelled.")
        taken = Booking.objects.filter(occurrence=locked, status__in=ACTIVE_STATUSES).count()
        if capacity < taken:
            raise ValidationError(
                {"capacity": f"{taken} seat(s) are taken: the session needs at least {taken}."}
            )
        if capacity != locked.capacity:
            Occurrence.objects.filter(pk=locked.pk).update(capacity=capacity)
            if capacity > locked.capacity:
                ports.availability_added(staff_id=locked.staff_id)
        locked.capacity = capacity
    logger.info("catalogue.occurrence.capacity", extra={"occurrence": locked.pk,
                                                         "capacity": capacity})  # fmt: skip
    return locked


# --- settings ------------------------------------------------------------------
def scheduling_settings_update(
    *, hold_minutes: int, reference_prefix: str, require_phone: bool
) -> SchedulingSettings:
    errors: dict[str, str] = {}
    if not 2 <= hold_minutes <= 60:
        errors["hold_minutes"] = "Between 2 and 60 minutes."
    if not re.fullmatch(r"[A-Za-z0-9]{0,4}", reference_prefix):
        errors["reference_prefix"] = "Up to 4 letters or digits."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = SchedulingSettings.objects.select_for_update().get(pk=scheduling_settings().pk)
        row.hold_minutes = hold_minutes
        row.reference_prefix = reference_prefix.upper()
        row.require_phone = require_phone
        row.save()
    return row
