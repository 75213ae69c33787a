"""What the back-office booking pages share: their one clock, the business's zone, the member's
permissions and own staff row, the booking lookup, and rendering with the section tabs."""

import logging
import re
from datetime import date, datetime
from importlib.util import find_spec
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import get_format
from django.utils.translation import to_locale
from django.utils.translation.trans_real import parse_accept_lang_header

from scheduling.actors import Actor
from scheduling.models import Booking
from scheduling.selectors.availability import staff_for_user
from scheduling.selectors.backoffice import (
    back_office_booking,
)
from tenants.http import MemberRequest, TenantRequest
from tenants.roles import Permission, role_allows

logger = logging.getLogger(__name__)

DEFAULT_COLOUR = "#2f5d50"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
SLOT_LINK_MINUTES = 30
# The region whose conventions Django's formats for a bare language describe (`en` is US English).
BASE_FORMAT_REGION = {"en": "us", "fr": "fr"}
ISO_FIRST_WEEKDAY = 1  # Monday


def now() -> datetime:
    """The one clock of these pages (tests pin it to a fixed moment)."""
    return timezone.now()


def zone_of(request: TenantRequest) -> ZoneInfo:
    return ZoneInfo(request.tenant.time_zone or "UTC")


def first_day_of_week(request: TenantRequest) -> int:
    """The calendar's first weekday for this member (Django's FIRST_DAY_OF_WEEK: 0 Sunday).

    LocaleMiddleware keeps only the language (en, fr); the region that decides the week (en-GB
    Monday, en-US Sunday) comes from the browser's Accept-Language tag of that language. A tag
    without a region takes the business's country when Django has that locale's formats (en-GB,
    en-AU, en-US…); otherwise ISO 8601's Monday.
    """
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    for tag, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        primary, _, region = tag.partition("-")
        if primary == language and region:
            return int(get_format("FIRST_DAY_OF_WEEK", lang=tag))
    country = (request.tenant.country or "").lower()
    if country and (
        BASE_FORMAT_REGION.get(language) == country
        or _has_formats(to_locale(f"{language}-{country}"))
    ):
        return int(get_format("FIRST_DAY_OF_WEEK", lang=f"{language}-{country}"))
    return ISO_FIRST_WEEKDAY


def _has_formats(locale_name: str) -> bool:
    try:
        return find_spec(f"django.conf.locale.{locale_name}.formats") is not None
    except ImportError:
        return False


def allows(request: MemberRequest, permission: Permission) -> bool:
    return role_allows(request.membership.role, permission)


def actor_of(request: MemberRequest) -> Actor:
    user = request.user
    return Actor(label=user.full_name or user.email, user_id=user.pk)


def today(zone: ZoneInfo) -> date:
    return now().astimezone(zone).date()


def safe_colour(value: str) -> str:
    # Interpolated into a style attribute: only a plain hex colour may get there.
    return value if _COLOUR.fullmatch(value or "") else DEFAULT_COLOUR


def own_staff_id(request: MemberRequest) -> int | None:
    """None when the member sees everyone's bookings; else their StaffMember id (or 404)."""
    if allows(request, Permission.VIEW_ALL_BOOKINGS):
        return None
    own = staff_for_user(request.user.pk)
    if own is None:
        raise Http404("No such booking.")
    return own.pk


def booking_or_404(request: MemberRequest, reference: str) -> Booking:
    booking = back_office_booking(reference=reference, staff_id=own_staff_id(request))
    if booking is None:
        raise Http404("No such booking.")
    return booking


def render_page(request: MemberRequest, template: str, context: dict, *, tab: str = "",
            status: int = 200) -> HttpResponse:  # fmt: skip
    """Render one of this module's pages, with the section tabs the member's role allows."""
    zone = zone_of(request)
    can_manage = allows(request, Permission.MANAGE_BOOKINGS)
    day = context.get("day")
    new_day = day if isinstance(day, date) else today(zone)
    tabs = {
        "tab": tab,
        "nav_bookings": allows(request, Permission.VIEW_ALL_BOOKINGS),
        "nav_new": new_booking_url(day=new_day) if can_manage else "",
    }
    return render(request, f"scheduling/calendar/{template}", {**tabs, **context}, status=status)


def detail_redirect(booking: Booking) -> HttpResponse:
    return redirect("booking_detail", reference=booking.reference)


def wall_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def new_booking_url(*, day: date, staff_id: int | None = None, slot: str = "") -> str:
    query = {"date": day.isoformat()}
    if staff_id is not None:
        query["staff"] = str(staff_id)
    if slot:
        query["slot"] = slot
    return f"{reverse('booking_new')}?{urlencode(query)}"


def calendar_url(view: str, day: date | None, filters: dict) -> str:
    """A calendar link; without a day the calendar opens where it opens by default (today, or
    for the week the current or next week with bookings ahead)."""
    query = {"view": view, **({"date": day.isoformat()} if day else {}), **filters}
    return f"{reverse('calendar')}?{urlencode(query)}"
