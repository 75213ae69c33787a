"""Each figure of the dashboard exact on the hand-built data set (tests/insights/dataset.py)."""

from __future__ import annotations

from datetime import date

import pytest

from insights.dashboard.forecast import linear_trend
from insights.dashboard.periods import week_of
from tests.factories import member_client

from .conftest import chart, dashboard_of, figure


@pytest.fixture
def owner(tenant_alpha, owner_alpha, dataset):
    return member_client(tenant_alpha, owner_alpha, verified=True)


def test_booking_figures_of_the_dst_week_by_appointment_time(owner):
    dashboard = dashboard_of(owner)
    # B1, B2 (Sunday 23:30, after the clocks went forward), B4 (Monday 00:30 Paris, Sunday in
    # UTC), B7 (rescheduled, once) and three seats of the class; not B3 (Monday 00:30 of the
    # next week, still Sunday in UTC) nor the two cancelled ones.
    assert figure(dashboard, "Bookings in the period")["raw"] == 7
    assert figure(dashboard, "No-show rate")["raw"] == pytest.approx(1 / 3)
    assert figure(dashboard, "Late-cancellation rate")["raw"] == pytest.approx(1 / 9)
    assert figure(dashboard, "Average booking value")["raw"] == pytest.approx(16500 / 7)
    assert figure(dashboard, "New customers")["raw"] == 6  # C2…C7
    assert figure(dashboard, "Returning customers")["raw"] == 1  # C1 came the week before
    assert figure(dashboard, "Class seats taken")["raw"] == pytest.approx(3 / 5)
    # Ada's 30-minute appointments ×4 and the class hour, over 2 staff × 7 days × 8 hours.
    assert figure(dashboard, "Occupancy")["raw"] == pytest.approx(180 / (2 * 7 * 8 * 60))
    # The week before: B8, completed, and C1 booked again within 60 days.
    assert figure(dashboard, "Bookings in the period")["previous"] == "1"
    assert figure(dashboard, "Rebooking rate")["previous"] == "100.0 %"
    # This week's completed: B1 (C1 booked B3 on 25 March, after it) and B2 (C2 did not).
    assert figure(dashboard, "Rebooking rate")["raw"] == pytest.approx(1 / 2)


def test_switching_to_booked_time_changes_exactly_the_booking_figures(owner):
    by_appointment = dashboard_of(owner)
    by_booking = dashboard_of(owner, basis="booked")
    # Booked during the week: B7 (24 March) and B3 (25 March); the rest was booked on 10 March.
    assert figure(by_booking, "Bookings in the period")["raw"] == 2
    assert figure(by_booking, "No-show rate")["raw"] is None  # neither has taken place yet
    assert figure(by_booking, "Occupancy")["raw"] == figure(by_appointment, "Occupancy")["raw"]
    assert by_booking["revenue"] == by_appointment["revenue"]


def _revenue(dashboard, window: str) -> dict[str, int]:
    row = next(item for item in dashboard["revenue"] if item["label"] == window)
    return {part["name"]: part["raw"] for part in row["parts"]}


def test_money_counts_on_the_day_it_moved_refunds_on_their_own_day(owner):
    dashboard = dashboard_of(owner)
    # Today is 2 April: the refund of a March payment, with the fee it gave back.
    assert _revenue(dashboard, "Today") == {"gross": 0, "refunds": 1000, "fees": -50, "net": -950}
    assert _revenue(dashboard, "This month") == _revenue(dashboard, "Today")
    march = next(item for item in dashboard["revenue"] if item["label"] == "This month")
    previous = {part["name"]: part["previous"] for part in march["parts"]}
    # March: deposit 10.00 + balance at the venue 20.00 + B7 30.00; fees 0.50 + 1.50.
    assert previous == {"gross": "€60.00", "refunds": "€0.00", "fees": "€2.00", "net": "€58.00"}
    days = {row[0]: row[1:] for row in chart(dashboard, "revenue-per-day").rows}
    assert days["2026-03-23"] == [2000, 0, 0, 2000]  # the balance paid at the venue
    assert days["2026-03-24"] == [3000, 0, 150, 2850]
    assert sum(row[1] for row in chart(dashboard, "revenue-per-day").rows) == 5000


def test_money_by_appointment_day_puts_the_refund_on_the_appointment(owner):
    dashboard = dashboard_of(owner, money="appointment")
    assert _revenue(dashboard, "Today") == {"gross": 0, "refunds": 0, "fees": 0, "net": 0}
    days = {row[0]: row[1:] for row in chart(dashboard, "revenue-per-day").rows}
    assert days["2026-03-23"] == [3000, 0, 50, 2950]  # B1: deposit and balance
    assert days["2026-03-27"] == [3000, 1000, 100, 1900]  # B7, moved to Friday, and its refund


def test_weekly_chart_and_heatmap_count_in_paris_time(owner):
    dashboard = dashboard_of(owner)
    weeks = dict((row[0], row[1]) for row in chart(dashboard, "bookings-per-week").rows)
    assert weeks["2026-03-16"] == 1 and weeks["2026-03-23"] == 7
    heat = chart(dashboard, "popular-slots")
    sunday = next(row for row in heat.rows if row[0] == "Sunday")
    monday = next(row for row in heat.rows if row[0] == "Monday")
    hours = [heading for heading, _kind in heat.columns]
    assert sunday[hours.index("23:00")] == 1  # B2, 23:30 summer time
    assert monday[hours.index("00:00")] == 1  # B4, not Sunday 23:00 UTC
    assert heat.rows[0][0] == "Monday"  # en-GB: weeks start on Monday


def test_by_service_and_by_staff(owner):
    dashboard = dashboard_of(owner)
    assert chart(dashboard, "by-service").rows == [["Haircut", 4, 12000], ["Yoga", 3, 4500]]
    assert chart(dashboard, "by-staff").rows == [["Ada", 7, 16500]]
    filtered = dashboard_of(owner, service=str(dashboard["service_options"][0][0]))
    assert figure(filtered, "Bookings in the period")["raw"] == 4
    # Haircuts of the week: C1 (returning: B8 the week before), C3, C2 and C4 (new).
    assert figure(filtered, "New customers")["raw"] == 3
    assert figure(filtered, "Returning customers")["raw"] == 1


def test_the_week_starts_on_the_locales_first_day(owner):
    us = owner.get("/", HTTP_ACCEPT_LANGUAGE="en-US").context["dashboard"]
    gb = owner.get("/", HTTP_ACCEPT_LANGUAGE="en-GB").context["dashboard"]
    assert (us["period"].first, us["period"].last) == (date(2026, 3, 29), date(2026, 4, 4))
    assert (gb["period"].first, gb["period"].last) == (date(2026, 3, 30), date(2026, 4, 5))
    assert week_of(date(2026, 4, 2), first_weekday=6).first == date(2026, 3, 28)


def test_capacity_of_the_next_14_days(owner):
    dashboard = dashboard_of(owner)
    days = chart(dashboard, "capacity-per-day").rows
    assert len(days) == 14 and days[0][0] == "2026-04-02"
    assert all(row[2] == 16 for row in days)  # two staff × 8 hours
    staff = chart(dashboard, "capacity-per-staff").rows
    assert [row[0] for row in staff] == ["Ada", "Ben"]


def test_forecast_is_a_least_squares_line():
    assert linear_trend([1, 2, 3, 4]) == [5, 6, 7, 8]
    assert linear_trend([5, 3, 1]) == [0, 0, 0, 0]  # never below zero
    assert linear_trend([]) == [0, 0, 0, 0]


def test_weekly_counts_group_by_the_locales_week_in_sql(owner):
    response = owner.get("/", {"period": "custom", "from": "2026-03-15", "to": "2026-04-04"},
                         HTTP_ACCEPT_LANGUAGE="en-US")  # fmt: skip
    weeks = dict((row[0], row[1]) for row in chart(response.context["dashboard"],
                                                   "bookings-per-week").rows)  # fmt: skip
    # Sunday-first weeks: B8 (Tue 17) / B1, B4, three seats, B7 (22–28) / B2 (Sun 29), B3.
    assert (weeks["2026-03-15"], weeks["2026-03-22"], weeks["2026-03-29"]) == (1, 6, 2)
    heat = chart(response.context["dashboard"], "popular-slots")
    assert heat.rows[0][0] == "Sunday"
