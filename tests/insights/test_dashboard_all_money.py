"""All of the business's money on the dashboard, exact on the hand-built data set plus a no-show
fee charged then refunded, a pass bought then refunded in part (and a failed refund), and a
membership invoice paid then refunded; the operator's platform activity counts their platform
fees; a new time zone rebuilds the per-day rows; capacity subtracts time off and days off."""

from __future__ import annotations

from datetime import UTC, time

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import tenant_context

from insights.aggregates import rebuild
from insights.models import BookingDay, MembershipRefundMoment, MoneyDay, PlatformActivity
from insights.platform_activity import rebuild_current_schema
from scheduling.models import DateOverride, TimeOff
from tests.factories import member_client

from . import money
from .conftest import chart, dashboard_of
from .dataset import PARIS, paris


@pytest.fixture
def owner(tenant_alpha, owner_alpha, dataset):
    return member_client(tenant_alpha, owner_alpha, verified=True)


@pytest.fixture
def other_money(tenant_alpha, dataset):
    with tenant_context(tenant_alpha):
        c5, c6 = dataset["customers"][4], dataset["customers"][5]
        # B4's no-show fee: charged 24 March (its appointment was 23 March), refunded 1 April.
        fee = money.fee_charge(dataset["b4"], amount=2000, platform_fee=100,
                               paid_at=paris(24, 9))  # fmt: skip
        money.refund_fee(fee, paris(1, 10, month=4))
        # A pass bought at 00:30 on 26 March in Paris (still 25 March in UTC), 2,000 of it
        # refunded on 2 April (the fee given back pro rata: 150 × 2000 / 5000 = 60), and a
        # refund that failed (counts nothing for the business, one failed refund for the
        # operator).
        bought = money.pass_purchase(c5, paid=5000, platform_fee=150, paid_at=paris(26, 0, 30))
        money.pass_refund(bought, amount=2000, at=paris(2, 9, month=4))
        money.pass_refund(bought, amount=500, at=paris(2, 9, 30, month=4), status="failed")
        # A membership invoice of 40.00 with a 2.5 % platform fee, paid on 27 March.
        period = money.membership_period(c6, paid=4000, fee_percent="2.50",
                                         paid_at=paris(27, 12))  # fmt: skip
    connection.set_schema_to_public()
    return {"fee": fee, "pass": bought, "period": period}


def _revenue(dashboard, window: str) -> dict[str, int]:
    row = next(item for item in dashboard["revenue"] if item["label"] == window)
    return {part["name"]: part["raw"] for part in row["parts"]}


def test_revenue_counts_fees_passes_and_memberships_each_refund_on_its_day(owner, other_money):
    dashboard = dashboard_of(owner)
    days = {row[0]: row[1:] for row in chart(dashboard, "revenue-per-day").rows}
    assert days["2026-03-23"] == [2000, 0, 0, 2000]  # the balance paid at the venue
    assert days["2026-03-24"] == [5000, 0, 250, 4750]  # B7 paid online + B4's no-show fee
    assert days["2026-03-25"] == [0, 0, 0, 0]  # the pass is Paris's 26 March, not UTC's 25th
    assert days["2026-03-26"] == [5000, 0, 150, 4850]  # the pass
    assert days["2026-03-27"] == [4000, 0, 100, 3900]  # the membership invoice, 2.5 % fee
    # Today, 2 April: B7's refund (fee 50 given back) and the pass's (60 given back).
    assert _revenue(dashboard, "Today") == {"gross": 0, "refunds": 3000, "fees": -110,
                                            "net": -2890}  # fmt: skip
    # April so far: also the no-show fee refunded on 1 April with its platform fee.
    assert _revenue(dashboard, "This month") == {"gross": 0, "refunds": 5000, "fees": -210,
                                                 "net": -4790}  # fmt: skip
    march = next(item for item in dashboard["revenue"] if item["label"] == "This month")
    previous = {part["name"]: part["previous"] for part in march["parts"]}
    # March: deposit 10 + balance 20 + B7 30 + fee 20 + pass 50 + membership 40.
    assert previous == {"gross": "€170.00", "refunds": "€0.00", "fees": "€5.50",
                        "net": "€164.50"}  # fmt: skip


def test_money_by_appointment_day_and_with_a_staff_filter(owner, other_money, dataset):
    days = {row[0]: row[1:] for row in chart(dashboard_of(owner, money="appointment"),
                                             "revenue-per-day").rows}  # fmt: skip
    # B4's appointment (23 March, 00:30) takes its fee and the fee's refund.
    assert days["2026-03-23"] == [5000, 2000, 50, 2950]
    # Passes and memberships belong to no appointment: on the day the money moved.
    assert days["2026-03-26"] == [5000, 0, 150, 4850]
    assert days["2026-03-27"] == [7000, 1000, 200, 5800]  # B7 moved to Friday + membership
    # A staff filter keeps only the money of that staff member's bookings.
    ada = chart(dashboard_of(owner, staff=str(dataset["ada"].pk)), "revenue-per-day").rows
    assert sum(row[1] for row in ada) == 2000 + 3000 + 2000
    assert sum(row[1] for row in chart(dashboard_of(owner), "revenue-per-day").rows) == 16000


def test_a_membership_refund_counts_on_the_day_it_was_recorded(owner, other_money, tenant_alpha):
    with tenant_context(tenant_alpha):
        money.refund_period(other_money["period"])
        moment = MembershipRefundMoment.objects.get(period_id=other_money["period"].pk)
        refund_day = timezone.localtime(moment.refunded_at, PARIS).date()
        row = MoneyDay.objects.get(basis="moved", day=refund_day, service_id=None)
        assert (row.refunds_minor, row.fees_minor) == (4000, -100)
        # Recorded once: a later update of the period does not move it.
        money.refund_period(other_money["period"])
        assert MembershipRefundMoment.objects.get(period_id=moment.period_id) == moment
        paid_day = MoneyDay.objects.get(basis="moved", day="2026-03-27", service_id=None)
        assert (paid_day.gross_minor, paid_day.refunds_minor) == (4000, 0)
    connection.set_schema_to_public()


def _platform(tenant_id: int) -> dict[str, dict[str, int]]:
    rows = PlatformActivity.objects.filter(tenant_id=tenant_id).values("day").annotate(
        gross=Sum("gross_minor"), fee=Sum("fee_minor"), refunded=Sum("refunded_minor"),
        fee_refunded=Sum("fee_refunded_minor"), failed=Sum("failed_refunds"))  # fmt: skip
    return {
        str(row["day"]): {key: row[key] for key in ("gross", "fee", "refunded", "fee_refunded",
                                                     "failed")}
        for row in rows
    }  # fmt: skip


def test_the_platform_activity_counts_fees_passes_and_memberships(other_money, tenant_alpha):
    with tenant_context(tenant_alpha):
        money.refund_period(other_money["period"])
        moment = MembershipRefundMoment.objects.get(period_id=other_money["period"].pk)
    connection.set_schema_to_public()
    days = _platform(tenant_alpha.pk)
    # UTC days: B7 paid 24 March (fee 150) and B4's no-show fee the same day (fee 100).
    assert days["2026-03-24"] == {"gross": 5000, "fee": 250, "refunded": 0, "fee_refunded": 0,
                                  "failed": 0}  # fmt: skip
    assert days["2026-03-25"]["fee"] == 150  # the pass, 23:30 UTC
    assert days["2026-03-27"]["fee"] == 100  # the membership invoice
    assert days["2026-04-01"] == {"gross": 0, "fee": 0, "refunded": 2000, "fee_refunded": 100,
                                  "failed": 0}  # fmt: skip
    assert days["2026-04-02"] == {"gross": 0, "fee": 0, "refunded": 3000, "fee_refunded": 110,
                                  "failed": 1}  # fmt: skip
    refunded_day = str(moment.refunded_at.astimezone(UTC).date())
    assert days[refunded_day]["refunded"] >= 4000
    with tenant_context(tenant_alpha):
        rebuild_current_schema()
    connection.set_schema_to_public()
    assert _platform(tenant_alpha.pk) == days


def _day_rows() -> tuple[list, ...]:
    """The per-day rows without their ids (a rebuild gives new ids), rows of zeros left out."""
    return tuple(
        sorted((row[1:] for row in model.objects.values_list() if any(row[5:])), key=str)
        for model in (BookingDay, MoneyDay)
    )


def test_a_new_time_zone_rebuilds_the_local_days(other_money, tenant_alpha, dataset):
    with tenant_context(tenant_alpha):
        b4 = BookingDay.objects.filter(basis="appointment", no_shows=1).values_list("day")
        assert list(b4) == [(paris(23, 0, 30).date(),)]
        tenant_alpha.time_zone = "America/New_York"
        tenant_alpha.save()
        try:
            # B4, 00:30 on 23 March in Paris, is 19:30 on 22 March in New York.
            b4 = BookingDay.objects.filter(basis="appointment", no_shows=1).values_list("day")
            assert [str(day) for (day,) in b4] == ["2026-03-22"]
            after = _day_rows()
            rebuild()
            assert _day_rows() == after
        finally:
            tenant_alpha.time_zone = "Europe/Paris"
            tenant_alpha.save()
        b4 = BookingDay.objects.filter(basis="appointment", no_shows=1).values_list("day")
        assert [str(day) for (day,) in b4] == ["2026-03-23"]
    connection.set_schema_to_public()


def test_capacity_subtracts_time_off_and_days_off(owner, tenant_alpha, dataset):
    ada, ben = dataset["ada"], dataset["ben"]
    with tenant_context(tenant_alpha):
        TimeOff.objects.create(staff=ben, starts_at=paris(6, 10, month=4),
                               ends_at=paris(6, 12, month=4))  # 2 hours  # fmt: skip
        DateOverride.objects.create(staff=ada, date=paris(7, 0, month=4).date())  # closed
        TimeOff.objects.create(staff=ben, starts_at=paris(8, 0, month=4),
                               ends_at=paris(9, 0, month=4))  # the whole day  # fmt: skip
        # From 8:00, before work starts: only 9:00–10:00 is off.
        TimeOff.objects.create(staff=ada, starts_at=paris(9, 8, month=4),
                               ends_at=paris(9, 10, month=4))  # fmt: skip
        # Two overlapping absences, 9:30–11:00 and 10:00–12:00: 2.5 hours, not 3.5.
        TimeOff.objects.create(staff=ada, starts_at=paris(10, 9, 30, month=4),
                               ends_at=paris(10, 11, month=4))  # fmt: skip
        TimeOff.objects.create(staff=ada, starts_at=paris(10, 10, month=4),
                               ends_at=paris(10, 12, month=4))  # fmt: skip
        # A business-wide short day on 13 April (10:00–14:00), Ben off 13:00–15:00 that day.
        DateOverride.objects.create(staff=None, date=paris(13, 0, month=4).date(),
                                    start=time(10), end=time(14))  # fmt: skip
        TimeOff.objects.create(staff=ben, starts_at=paris(13, 13, month=4),
                               ends_at=paris(13, 15, month=4))  # fmt: skip
    connection.set_schema_to_public()
    dashboard = dashboard_of(owner)
    days = {row[0]: row[2] for row in chart(dashboard, "capacity-per-day").rows}
    assert days["2026-04-05"] == 16
    assert days["2026-04-06"] == 14
    assert days["2026-04-07"] == 8  # Ada's day off
    assert days["2026-04-08"] == 8  # Ben away all day
    assert days["2026-04-09"] == 15
    assert days["2026-04-10"] == 13.5
    assert days["2026-04-13"] == 4 + 3
    staff = {row[0]: row[2] for row in chart(dashboard, "capacity-per-staff").rows}
    assert staff == {"Ada": 14 * 8 - 8 - 1 - 2.5 - 4, "Ben": 14 * 8 - 2 - 8 - 5}


def test_the_live_version_changes_with_fees_passes_and_memberships(tenant_alpha, dataset):
    from insights.dashboard.page import live_version

    with tenant_context(tenant_alpha):
        seen = {live_version()}
        customer = dataset["customers"][0]
        fee = money.fee_charge(dataset["b4"], amount=1000, platform_fee=50, paid_at=paris(24, 9))
        seen.add(live_version())
        money.refund_fee(fee, paris(25, 9))
        seen.add(live_version())
        bought = money.pass_purchase(customer, paid=2000, platform_fee=60, paid_at=paris(26, 9))
        seen.add(live_version())
        money.pass_refund(bought, amount=500, at=paris(27, 9))
        seen.add(live_version())
        period = money.membership_period(customer, paid=3000, fee_percent="1.00",
                                         paid_at=paris(28, 9))  # fmt: skip
        seen.add(live_version())
        money.refund_period(period)
        seen.add(live_version())
    connection.set_schema_to_public()
    assert len(seen) == 7  # each write gave a new version
