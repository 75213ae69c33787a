"""Reads for integrations: calendar feeds, API keys and the staff API's booking lists."""

import hashlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from common.link_tokens import legacy_hash, link_token_matches
from scheduling.models import FEED_TOKEN_PURPOSE, ApiKey, Booking, BookingStatus, StaffMember
from scheduling.selectors.availability import tenant_time_zone

# What a subscribed calendar shows: recent history for context, a year ahead for planning.
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 365
# Statuses that occupy a staff member's time. Cancelled and expired bookings simply leave the feed
# (subscribing apps drop events that disappear); no-shows are history nobody plans around.
FEED_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
# Transitions that change what a calendar shows; their count is the event's SEQUENCE.
REVISING_ACTIONS = ("creneau.booking.rescheduled", "creneau.booking.cancelled")


def staff_member_for_feed_token(token: str) -> StaffMember | None:
    """The active staff member owning this secret feed token, if any."""
    if not token:
        return None
    pk, _, derived = token.partition("-")
    if pk.isdigit() and derived:
        member = StaffMember.objects.filter(pk=int(pk), is_active=True).first()
        if member and link_token_matches(derived, FEED_TOKEN_PURPOSE, pk, member.ics_secret):
            return member
    # A feed URL issued before tokens were derived: only its SHA-256 was kept (migration 0005).
    return StaffMember.objects.filter(
        ics_token_legacy_hash=legacy_hash(token), is_active=True
    ).first()


def staff_feed_bookings(*, staff: StaffMember, now: datetime) -> list[Booking]:
    """The staff member's bookings a calendar subscription shows (holds past expiry excluded)."""
    return list(
        Booking.objects.filter(
            staff=staff,
            status__in=FEED_STATUSES,
            starts_at__gte=now - timedelta(days=FEED_DAYS_BACK),
            starts_at__lt=now + timedelta(days=FEED_DAYS_AHEAD),
        )
        .exclude(status=BookingStatus.HELD, hold_expires_at__lte=now)
        .select_related("service", "customer", "occurrence")
        .order_by("starts_at", "pk")
    )


def booking_revision(booking: Booking) -> int:
    """How many times the booking changed time or state since it was made (ICS SEQUENCE)."""
    return booking.events.filter(action__in=REVISING_ACTIONS).count()


def feed_staff_for_member(*, user_id: int, sees_everyone: bool) -> list[StaffMember]:
    """Staff members whose feed a team member may see and reset: all, or only their own."""
    if sees_everyone:
        return list(StaffMember.objects.filter(is_active=True))
    return list(StaffMember.objects.filter(user_id=user_id, is_active=True))


# ---------------------------------------------------------------------------
# API keys
# ---------------------------------------------------------------------------
def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def active_api_key(secret: str) -> ApiKey | None:
    """The unrevoked key of this business matching `secret`; unknown and revoked look alike."""
    if not secret:
        return None
    return ApiKey.objects.filter(secret_hash=api_key_hash(secret), revoked_at__isnull=True).first()


def api_keys() -> QuerySet[ApiKey]:
    return ApiKey.objects.all()


# ---------------------------------------------------------------------------
# Staff API
# ---------------------------------------------------------------------------
def staff_api_bookings(
    *,
    start_date: date | None = None,
    end_date: date | None = None,
    statuses: list[str] | None = None,
    staff_id: int | None = None,
) -> QuerySet[Booking]:
    """Bookings starting on those business-local dates (inclusive), oldest first."""
    bookings = Booking.objects.select_related("service", "staff", "customer")
    zone = ZoneInfo(tenant_time_zone())
    if start_date is not None:
        bookings = bookings.filter(starts_at__gte=datetime.combine(start_date, time(0), zone))
    if end_date is not None:
        next_day = datetime.combine(end_date + timedelta(days=1), time(0), zone)
        bookings = bookings.filter(starts_at__lt=next_day)
    if statuses:
        bookings = bookings.filter(status__in=statuses)
    if staff_id is not None:
        bookings = bookings.filter(staff_id=staff_id)
    return bookings.order_by("starts_at", "pk")


def booking_by_reference(reference: str) -> Booking | None:
    return (
        Booking.objects.select_related("service", "staff", "customer")
        .filter(reference=reference)
        .first()
    )
