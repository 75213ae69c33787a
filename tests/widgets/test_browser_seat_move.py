"""A seat in a group session moved to another session of the class from the manage page, in
Debian's Chromium (one browser, one server).

The class's sessions are a few days ahead of the live server's real clock, at 18:00 in the
business's zone (Europe/Paris), well inside the service's notice and advance limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from scheduling.models import Booking, BookingEvent, Customer, Occurrence, Service
from scheduling.services.bookings import booking_confirm, booking_take_seat

from .conftest import csp_violations, screenshot, watch_csp

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
SLOT_TAKEN = "That time was just taken — please pick another time."


def _utc_iso(moment: datetime) -> str:
    """A start as the availability API writes it (`data-start` of the time buttons)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _customer(name: str, email: str) -> Customer:
    return Customer.objects.create(name=name, email=email)


def _confirmed_seat(occurrence: Occurrence, customer: Customer) -> Booking:
    return booking_confirm(booking=booking_take_seat(occurrence=occurrence, customer=customer))


@pytest.fixture
def yoga_class(alpha_catalogue: dict) -> Iterator[dict[str, Any]]:
    """A class of five places: a session led by Ada at least three days ahead, one led by Ben two
    days later, and a customer's confirmed seat in the first. Removed after the test."""
    tenant = alpha_catalogue["tenant"]
    today = timezone.now().astimezone(PARIS).date()
    with tenant_context(tenant):
        yoga = Service.objects.create(
            name="Evening yoga", category="Classes", duration_minutes=60, price_minor=1500,
            payment_mode="pay_at_venue", capacity=5, minimum_notice_minutes=60,
            maximum_advance_days=60, slot_interval_minutes=30,
            cancellation_policy=[{"hours_before": 24, "refund_percent": 100},
                                 {"hours_before": 0, "refund_percent": 0}],
        )  # fmt: skip
        yoga.staff.add(alpha_catalogue["ada"], alpha_catalogue["ben"])
        sessions = []
        # Both in one month: the move test looks for the first's day on the second's month grid.
        first_day = today + timedelta(days=3)
        if (first_day + timedelta(days=2)).month != first_day.month:
            first_day = (first_day + timedelta(days=2)).replace(day=1)
        for day, leader in ((first_day, alpha_catalogue["ada"]),
                            (first_day + timedelta(days=2), alpha_catalogue["ben"])):  # fmt: skip
            starts_at = datetime.combine(day, time(18), PARIS)
            sessions.append(Occurrence.objects.create(
                service=yoga, staff=leader, starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=60), capacity=5,
            ))  # fmt: skip
        seat = _confirmed_seat(sessions[0], _customer("Sienna Seat", "sienna@example.test"))
    connection.set_schema_to_public()
    yield {"service": yoga, "first": sessions[0], "second": sessions[1], "booking": seat}
    with tenant_context(tenant):
        bookings = Booking.objects.filter(service=yoga)
        customers = list(bookings.values_list("customer_id", flat=True))
        bookings.delete()  # its events and notifications go with it
        Customer.objects.filter(pk__in=customers).delete()
        Occurrence.objects.filter(service=yoga).delete()
        yoga.staff.clear()
        yoga.delete()
    connection.set_schema_to_public()


def _booking(tenant: Any, pk: int) -> Booking:
    with tenant_context(tenant):
        found = Booking.objects.select_related("staff").get(pk=pk)
    connection.set_schema_to_public()
    return found


def _actions(tenant: Any, booking: Booking) -> list[str]:
    with tenant_context(tenant):
        found = list(BookingEvent.objects.filter(booking=booking).values_list("action", flat=True))
    connection.set_schema_to_public()
    return found


def _open_manage_page(browser: Any, live_site: dict, booking: Booking) -> Any:
    page = browser.new_page(locale="en-US", timezone_id="Europe/Paris")
    watch_csp(page)
    page.goto(live_site["alpha"] + f"/manage/{booking.reference}/?token={booking.manage_token}")
    page.wait_for_selector(".cr-status")
    assert page.inner_text(".cr-status dd") == "Confirmed"
    return page


def _open_day(page: Any, date: str) -> None:
    """Click the open day `date` (YYYY-MM-DD), moving to the next month when it is not shown."""
    for _ in range(3):
        page.wait_for_selector(".cr-days:not([aria-busy])")
        day = page.locator(f".cr-day-open[data-date='{date}']")
        if day.count():
            day.click()
            return
        page.get_by_role("button", name="Next month").click()
    raise AssertionError(f"{date} never showed as an open day")


def _pick_session(page: Any, session: Occurrence) -> Any:
    """Open the reschedule panel and choose `session` from the calendar; its time button."""
    page.click("#cr-reschedule")
    _open_day(page, session.starts_at.astimezone(PARIS).date().isoformat())
    button = page.locator(f".cr-time[data-start='{_utc_iso(session.starts_at)}']")
    button.wait_for()
    return button


def test_customer_moves_a_seat_to_another_session_of_the_class(
    browser: Any, live_site: dict, alpha_catalogue: dict, yoga_class: dict
) -> None:
    tenant, seat, second = alpha_catalogue["tenant"], yoga_class["booking"], yoga_class["second"]
    page = _open_manage_page(browser, live_site, seat)
    assert "Ada" in page.inner_text(".cr-summary")  # the first session's teacher
    assert page.inner_text("#cr-reschedule") == "Change session"
    button = _pick_session(page, second)
    assert page.inner_text("#cr-panel h2") == "Pick another session of this class"
    # Its own session is not offered: that day (same month) is not an open day.
    own_day = yoga_class["first"].starts_at.astimezone(PARIS).date().isoformat()
    assert page.locator(f".cr-day-open[data-date='{own_day}']").count() == 0
    assert page.locator(".cr-day-open").count() == 1
    assert page.locator(".cr-time").count() == 1  # the day of the second session: just it
    assert "5 places left" in button.get_attribute("aria-label")
    button.click()
    page.click("#cr-confirm-move")
    page.wait_for_selector("#cr-outcome")
    assert page.inner_text("#cr-outcome").startswith("Your booking now starts")
    assert "Ben" in page.inner_text(".cr-summary")  # the page reloaded the moved booking
    screenshot(page, "manage-seat-moved")
    moved = _booking(tenant, seat.pk)
    assert moved.occurrence_id == second.pk
    assert moved.staff == alpha_catalogue["ben"]
    assert moved.starts_at == second.starts_at and moved.ends_at == second.ends_at
    assert moved.status == "confirmed"
    assert "creneau.booking.rescheduled" in _actions(tenant, seat)
    assert csp_violations(page) == []
    page.close()


def test_a_session_filled_before_the_confirm_keeps_the_seat_where_it_was(
    browser: Any, live_site: dict, alpha_catalogue: dict, yoga_class: dict
) -> None:
    tenant, seat, second = alpha_catalogue["tenant"], yoga_class["booking"], yoga_class["second"]
    page = _open_manage_page(browser, live_site, seat)
    button = _pick_session(page, second)
    # Five other customers take the session's places while this one hesitates.
    with tenant_context(tenant):
        for n in range(second.capacity):
            _confirmed_seat(second, _customer(f"Quick {n}", f"quick{n}@example.test"))
    connection.set_schema_to_public()
    button.click()
    page.click("#cr-confirm-move")
    notice = page.locator("#cr-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == SLOT_TAKEN
    assert "cr-notice-warning" in notice.get_attribute("class").split()
    # The refreshed day no longer offers the full session, and nothing is left to confirm.
    page.wait_for_function(
        "() => (document.getElementById('cr-times') || {}).textContent?.includes("
        "'No free times left on this day')"
    )
    assert page.locator(".cr-time").count() == 0
    assert page.locator("#cr-confirm-move").count() == 0
    assert page.locator("#cr-outcome").count() == 0
    screenshot(page, "manage-seat-session-full")
    kept = _booking(tenant, seat.pk)
    assert kept.occurrence_id == yoga_class["first"].pk
    assert kept.staff == alpha_catalogue["ada"]
    assert kept.starts_at == yoga_class["first"].starts_at and kept.status == "confirmed"
    assert "creneau.booking.rescheduled" not in _actions(tenant, seat)
    assert csp_violations(page) == []
    page.close()
