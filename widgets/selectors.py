"""Reads of the widget: the tenant's branding and the days of a month that have free times."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from scheduling.models import Occurrence, SchedulingSettings, Service
from scheduling.selectors.availability import available_slots, bookable_sessions, tenant_time_zone

from .models import Branding


def branding_get() -> Branding:
    """The tenant's branding; an unsaved default when the business never changed it."""
    return Branding.objects.first() or Branding()


def branding_allowed_origins() -> list[str]:
    return list(Branding.objects.values_list("allowed_origins", flat=True).first() or [])


def phone_required() -> bool:
    return bool(SchedulingSettings.objects.values_list("require_phone", flat=True).first() or False)


def days_with_availability(
    *,
    service: Service,
    first_day: date,
    last_day: date,
    zone: str,
    staff_id: int | None = None,
    now: datetime | None = None,
    exclude_occurrence_id: int | None = None,
) -> list[date]:
    """Dates (in the customer's zone `zone`) between two dates that have at least one free time
    (for a seat being moved, not counting its own session: `exclude_occurrence_id`).

    Dates of the business's zone and the customer's differ by up to a day either way, so the
    engine is asked for one day more on each side and its starts are re-dated in `zone`.
    """
    now = now or timezone.now()
    customer_zone = ZoneInfo(zone)
    business_zone = ZoneInfo(tenant_time_zone())
    query_start, query_end = first_day - timedelta(days=1), last_day + timedelta(days=1)
    if service.capacity > 1:
        sessions = bookable_sessions(
            service=service,
            start=datetime.combine(query_start, datetime.min.time(), business_zone),
            end=datetime.combine(query_end + timedelta(days=1), datetime.min.time(), business_zone),
            now=now,
        )
        if staff_id is not None:  # the session's teacher, as the availability API filters
            led = set(
                Occurrence.objects.filter(
                    pk__in=[session.occurrence_id for session in sessions], staff_id=staff_id
                ).values_list("pk", flat=True)
            )
            sessions = [session for session in sessions if session.occurrence_id in led]
        sessions = [s for s in sessions if s.occurrence_id != exclude_occurrence_id]
        starts = [session.start_utc for session in sessions]
    else:
        starts = [
            slot.start_utc
            for slot in available_slots(
                service=service,
                start_date=query_start,
                end_date=query_end,
                now=now,
                staff_id=staff_id,
            )  # fmt: skip
        ]
    days = {start.astimezone(customer_zone).date() for start in starts}
    return sorted(day for day in days if first_day <= day <= last_day)
