"""Race tests of the ledger: real threads, real PostgreSQL, committed transactions."""

from collections import Counter
from datetime import time, timedelta

from django_tenants.utils import tenant_context

from memberships.models import CreditEntry, CreditGrant
from memberships.selectors.credits import ledger_mismatches
from scheduling.models import Booking, Service, StaffMember, WorkingHours
from scheduling.services.bookings import booking_hold
from scheduling.services.customers import customer_upsert
from tests.scheduling.conftest import NOW, paris
from tests.scheduling.test_races import run_concurrently

from .conftest import grant_credits


def test_fifty_concurrent_bookings_with_ten_credits_make_exactly_ten(alpha_committed):
    """One customer, ten credits, fifty holds at once on fifty different free times (ten staff
    members, so holds do not queue on one staff row): exactly ten get a credit."""
    with tenant_context(alpha_committed):
        service = Service.objects.create(
            name="Class", duration_minutes=30, price_minor=2000, payment_mode="online_full",
            minimum_notice_minutes=0, maximum_advance_days=3650, slot_interval_minutes=30,
        )  # fmt: skip
        staff = []
        for index in range(10):
            member = StaffMember.objects.create(display_name=f"Coach {index}")
            WorkingHours.objects.create(staff=member, weekday=1, start=time(9), end=time(18))
            service.staff.add(member)
            staff.append(member)
        customer = customer_upsert(name="Racer", email="racer@example.test")
        grant = grant_credits(customer, services=[service], expires_at=NOW + timedelta(days=60))

    def attempt(index: int) -> None:
        with tenant_context(alpha_committed):
            booking_hold(service=service, starts_at=paris(2030, 6, 4, 10 + index // 10),
                         customer=customer, staff_id=staff[index % 10].pk, now=NOW,
                         use_credit=True)  # fmt: skip

    outcomes = run_concurrently(50, attempt)
    assert outcomes == Counter({"ok": 10, "CreditUnavailable": 40})
    with tenant_context(alpha_committed):
        assert Booking.objects.count() == 10
        assert CreditGrant.objects.get(pk=grant.pk).remaining == 0
        assert CreditEntry.objects.filter(kind="held").count() == 10
        assert ledger_mismatches() == 0
