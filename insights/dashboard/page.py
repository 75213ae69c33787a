"""What each member sees on the dashboard: the query read from the URL, the figures and charts
their role allows, formatted for the template.

Owners and managers with a verified second factor see everything; without it they see no money
(it is behind VIEW_MONEY, a second-factor permission). Front desk see bookings, customers and
occupancy, never money. Staff see only their own bookings, occupancy and schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_stubs_ext import StrOrPromise

from common.money import Money, format_money
from scheduling.models import Service, StaffMember
from scheduling.selectors.availability import staff_for_user
from scheduling.views.base import first_day_of_week
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows
from waitlists.selectors import figures_between as waitlist_figures

from ..daily.moves import FEE, MOMENT, PASS, PASS_REFUND, PERIOD
from .charts import (
    BOOKING_BASIS_LABEL,
    MONEY_BASIS_LABEL,
    REVENUE_INCLUDES,
    bookings_by,
    bookings_per_week,
    capacity_ahead,
    forecast,
    popular_slots,
    revenue_per_day,
)
from .figures import (
    Compared,
    booking_figures,
    customer_figures,
    money_figures,
    occupancy_figures,
)
from .periods import BadDashboardQuery, DashboardQuery, PeriodKind, dashboard_query
from .sql import BOOKING_EVENT, PAYMENT, PAYMENT_EVENT, REFUND, fetch_one
from .tables import ChartTable, localized_number


def now() -> datetime:
    """The dashboard's clock (tests pin it)."""
    return timezone.now()


@dataclass(frozen=True)
class Viewer:
    sees_money: bool
    money_needs_second_factor: bool
    sees_customers: bool
    own_only: bool  # staff: only their own bookings
    own_staff_id: int | None


def viewer_of(request: MemberRequest) -> Viewer:
    role = request.membership.role
    may_see_money = role_allows(role, Permission.VIEW_MONEY)
    verified = bool(request.user.is_verified())
    own_only = not role_allows(role, Permission.VIEW_ALL_BOOKINGS)
    own = staff_for_user(request.user.pk) if own_only else None
    return Viewer(
        sees_money=may_see_money and verified,
        money_needs_second_factor=may_see_money and not verified,
        sees_customers=role_allows(role, Permission.VIEW_ALL_CUSTOMERS),
        own_only=own_only,
        own_staff_id=own.pk if own else None,
    )


@dataclass(frozen=True)
class Setting:
    zone: ZoneInfo
    first_weekday: int
    today: date
    currency: str
    language: str


def read_query(request: MemberRequest, viewer: Viewer) -> tuple[DashboardQuery, Setting]:
    zone = ZoneInfo(request.tenant.time_zone or "UTC")
    setting = Setting(zone=zone, first_weekday=first_day_of_week(request),
                      today=now().astimezone(zone).date(), currency=request.tenant.currency,
                      language=translation.get_language() or "en")  # fmt: skip
    query = dashboard_query(request.GET, today=setting.today, first_weekday=setting.first_weekday)
    if viewer.own_only:
        query = DashboardQuery(kind=query.kind, period=query.period,
                               booking_basis=query.booking_basis, money_basis=query.money_basis,
                               staff_id=viewer.own_staff_id or -1,
                               service_id=query.service_id)  # fmt: skip
    elif query.staff_id is not None and not StaffMember.objects.filter(pk=query.staff_id).exists():
        raise BadDashboardQuery(_("There is no such staff member."))
    if query.service_id is not None and not Service.objects.filter(pk=query.service_id).exists():
        raise BadDashboardQuery(_("There is no such service."))
    return query, setting


def chart_builders(
    query: DashboardQuery, setting: Setting, viewer: Viewer
) -> dict[str, Callable[[], ChartTable]]:
    """The charts this viewer may see, by key, built on demand (a CSV builds only its own)."""
    common: dict[str, Any] = {"zone": setting.zone, "first_weekday": setting.first_weekday}
    weekly_cache: dict[str, Any] = {}

    def weekly() -> tuple[ChartTable, list[int]]:
        if "value" not in weekly_cache:
            weekly_cache["value"] = bookings_per_week(query, **common)
        return weekly_cache["value"]

    builders: dict[str, Callable[[], ChartTable]] = {
        "bookings-per-week": lambda: weekly()[0],
        "forecast": lambda: forecast(
            weekly()[1], query=query, first_weekday=setting.first_weekday
        ),  # fmt: skip
    }
    if viewer.sees_money:
        builders["revenue-per-day"] = lambda: revenue_per_day(
            query, currency=setting.currency, **common
        )
    builders["popular-slots"] = lambda: popular_slots(query, **common)
    builders["by-service"] = lambda: bookings_by(
        "service", query, with_money=viewer.sees_money, currency=setting.currency, **common
    )
    if not viewer.own_only:
        builders["by-staff"] = lambda: bookings_by(
            "staff", query, with_money=viewer.sees_money, currency=setting.currency, **common
        )
    capacity_cache: dict[str, Any] = {}

    def capacity() -> tuple[ChartTable, ChartTable]:
        if "value" not in capacity_cache:
            capacity_cache["value"] = capacity_ahead(query, zone=setting.zone,
                                                            today=setting.today)  # fmt: skip
        return capacity_cache["value"]

    builders["capacity-per-day"] = lambda: capacity()[0]
    if not viewer.own_only:
        builders["capacity-per-staff"] = lambda: capacity()[1]
    return builders


def _percent(value: float | int | None) -> str:
    """ "12.5 %" / "12,5 %" (a no-break space would be nicer; kept as the English page had it)."""
    return "—" if value is None else f"{localized_number(value * 100, 1)} %"


def _number(value: float | int | None) -> str:
    """In the active language's separators: "1,234.5" in English, "1 234,5" in French."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return localized_number(value, 1)
    return localized_number(int(value))


def _change(change: float | None) -> str:
    if change is None:
        return ""
    signed = f"{change * 100:+.0f}"  # "+12", "-3", rounded as before
    return f"{signed[0]}{localized_number(int(signed[1:]))} %"


def _figure(label: str, compared: Compared, counts_by: StrOrPromise, show: Callable) -> dict:
    change = compared.change
    return {
        "label": label,
        "value": show(compared.current),
        "previous": show(compared.previous),
        "change": _change(change),
        "counts_by": counts_by,
        "raw": compared.current,
    }


def _waitlist_figures(query: DashboardQuery, *, zone: ZoneInfo) -> list[dict]:
    """Offers made to people waiting and how many became a booking (waitlists' own counts, by
    offer time; the staff and service filters do not apply to them)."""
    now = waitlist_figures(*query.period.instants(zone))
    before = waitlist_figures(*query.period.previous().instants(zone))

    def rate(found: Any) -> float | None:
        return found.conversions / found.offers if found.offers else None

    return [
        _figure(_("Waitlist offers"), Compared(now.offers, before.offers),
                _("Freed places offered to people waiting, by offer time"), _number),
        _figure(_("Waitlist conversion"), Compared(rate(now), rate(before)),
                _("Offers that became a booking ÷ offers made"), _percent),
    ]  # fmt: skip


def dashboard_data(request: MemberRequest) -> dict[str, Any]:
    """The template context of the dashboard (raises BadDashboardQuery)."""
    viewer = viewer_of(request)
    query, setting = read_query(request, viewer)
    common: dict[str, Any] = {"zone": setting.zone, "first_weekday": setting.first_weekday}
    basis = BOOKING_BASIS_LABEL[query.booking_basis]

    def money(amount: float | int | None) -> str:
        if amount is None:
            return "—"
        return format_money(Money(round(amount), setting.currency), locale=setting.language)

    bookings = booking_figures(query, **common)
    occupancy = occupancy_figures(query, zone=setting.zone)
    bookings_label = {PeriodKind.WEEK: _("Bookings this week"),
                      PeriodKind.MONTH: _("Bookings this month"),
                      PeriodKind.CUSTOM: _("Bookings in the period")}[query.kind]  # fmt: skip
    lower = {"basis": basis.lower()}
    shown = [
        _figure(bookings_label, bookings["bookings"], basis, _number),
        _figure(_("Occupancy"), occupancy["occupancy"],
                _("Booked staff time ÷ working hours, by appointment time"), _percent),
        _figure(_("Class seats taken"), occupancy["seat_fill"],
                _("Seats taken ÷ seats offered, by class time"), _percent),
        _figure(_("No-show rate"), bookings["no_show_rate"],
                _("No-shows ÷ (completed + no-shows); %(basis)s") % lower, _percent),
        _figure(_("Late-cancellation rate"), bookings["late_cancellation_rate"],
                _("Cancelled less than 24 h before ÷ all; %(basis)s") % lower, _percent),
    ]  # fmt: skip
    if viewer.sees_customers and not viewer.own_only:
        customers = customer_figures(query, **common)
        shown += [
            _figure(_("New customers"), customers["new_customers"],
                    _("First booking ever in the period; %(basis)s") % lower, _number),
            _figure(_("Returning customers"), customers["returning_customers"],
                    _("Had booked before the period; %(basis)s") % lower, _number),
            _figure(_("Rebooking rate"), customers["rebooking_rate"],
                    _("Completed appointments followed by a new booking within 60 days"),
                    _percent),
        ]  # fmt: skip
        shown += _waitlist_figures(query, zone=setting.zone)
    revenue = None
    if viewer.sees_money:
        shown.append(_figure(_("Average booking value"), bookings["average_value_minor"],
                             _("Price of the bookings; %(basis)s") % lower, money))  # fmt: skip
        found = money_figures(query, today=setting.today, **common)
        labels = {"today": _("Today"), "week": pgettext("revenue window", "This week"),
                  "month": pgettext("revenue window", "This month")}  # fmt: skip
        revenue = [
            {"label": labels[name], "parts": [
                {"name": part, "value": money(value.current), "previous": money(value.previous),
                 "raw": value.current}
                for part, value in parts.items()
            ]}
            for name, parts in found.items()
        ]  # fmt: skip
    tables = [build() for build in chart_builders(query, setting, viewer).values()]
    for table in tables:
        if table.chart.get("type") == "heatmap":
            highest = table.chart["highest"] or 1
            table.chart["levels"] = [
                [(cell, 0 if not cell else 1 + (4 * cell) // highest) for cell in row[1:]]
                for row in table.rows
            ]
    return {
        "query": query,
        "params": urlencode(query.as_params()),
        "period": query.period,
        "figures": shown,
        "revenue": revenue,
        "money_basis": MONEY_BASIS_LABEL[query.money_basis],
        "revenue_includes": REVENUE_INCLUDES,
        "money_locked": viewer.money_needs_second_factor,
        "own_only": viewer.own_only,
        "no_staff_profile": viewer.own_only and viewer.own_staff_id is None,
        "charts": tables,
        "staff_options": [] if viewer.own_only else list(
            StaffMember.objects.filter(is_active=True).values_list("pk", "display_name")),
        "service_options": list(Service.objects.filter(is_active=True).values_list("pk", "name")),
        "version": live_version(),
        "sees_money": viewer.sees_money,
    }  # fmt: skip


def live_version() -> str:
    """Changes whenever a booking, a payment or a refund does (each writes an event row), and
    when a fee is charged or refunded, a pass bought or refunded, or a membership invoice paid
    or refunded (their own rows: few per business)."""
    row = fetch_one(
        f"""SELECT (SELECT max(id) FROM {BOOKING_EVENT}), (SELECT max(id) FROM {PAYMENT_EVENT}),
                   (SELECT max(updated_at) FROM {PAYMENT}),
                   (SELECT max(COALESCE(completed_at, created_at)) FROM {REFUND}),
                   (SELECT count(*) FROM {REFUND} WHERE status = 'succeeded'),
                   (SELECT max(updated_at) FROM {FEE}), (SELECT max(paid_at) FROM {PASS}),
                   (SELECT count(*) FROM {PASS_REFUND} WHERE status = 'succeeded'),
                   (SELECT max(paid_at) FROM {PERIOD}), (SELECT count(*) FROM {MOMENT})""",  # noqa: S608 (fixed SQL pieces; values travel as parameters)
        {},
    )
    return "-".join(str(value.timestamp() if hasattr(value, "timestamp") else value)
                    for value in row)  # fmt: skip
