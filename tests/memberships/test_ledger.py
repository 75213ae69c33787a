"""The credit ledger: DB-enforced rules, idempotent grants, hold → spend / return / forfeit
through real booking transitions (the transition port), expiry, adjustments, suspension."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from memberships.exceptions import CreditRefused
from memberships.models import CreditEntry, CreditGrant, CreditSourceKind
from memberships.selectors.credits import ledger_mismatches, usable_grant_for
from memberships.services.credits import (
    credit_adjust,
    credit_grants_suspend,
    credits_expire_due,
)
from scheduling.actors import CUSTOMER, Actor
from scheduling.exceptions import CreditUnavailable
from scheduling.models import Booking, Service
from scheduling.services.bookings import (
    booking_cancel,
    booking_confirm,
    booking_expire,
    booking_hold,
    booking_mark_no_show,
)
from scheduling.services.customers import customer_upsert
from tests.scheduling.conftest import paris

from .conftest import NOW, grant_credits

STAFF = Actor("Front desk", user_id=None)


def hold_with_credit(catalogue, customer, hour=10, day=4, now=NOW):
    return booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, day, hour),
                        customer=customer, staff_id=catalogue["ada"].pk, now=now,
                        use_credit=True)  # fmt: skip


def kinds(booking):
    return list(CreditEntry.objects.filter(booking=booking).values_list("kind", flat=True))


def test_grant_is_idempotent_on_its_key(catalogue, customer):
    first = grant_credits(customer, key="purchase-7")
    again = grant_credits(customer, key="purchase-7", credits=99)
    assert again.pk == first.pk
    assert CreditGrant.objects.count() == 1
    assert list(CreditEntry.objects.values_list("kind", "delta")) == [("granted", 10)]


def test_negative_remaining_is_refused_by_the_database(grant):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditGrant.objects.filter(pk=grant.pk).update(remaining=-1)


def test_ledger_entries_cannot_be_updated_or_deleted(grant):
    entry = CreditEntry.objects.get(grant=grant)
    for statement in (
        f"UPDATE memberships_creditentry SET delta = 99 WHERE id = {entry.pk}",
        f"DELETE FROM memberships_creditentry WHERE id = {entry.pk}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert CreditEntry.objects.get(pk=entry.pk).delta == 10


def test_hold_takes_a_credit_and_confirmation_spends_it(catalogue, customer, grant):
    booking = hold_with_credit(catalogue, customer)
    assert booking.payment_mode == "credit"
    grant.refresh_from_db()
    assert grant.remaining == 9
    booking_confirm(booking=booking)
    grant.refresh_from_db()
    assert grant.remaining == 9
    assert kinds(booking) == ["held", "spent"]
    assert ledger_mismatches() == 0


def test_hold_without_a_usable_credit_holds_nothing(catalogue, customer):
    with pytest.raises(CreditUnavailable):
        hold_with_credit(catalogue, customer)
    assert Booking.objects.count() == 0


def test_credit_of_another_service_is_not_usable(catalogue, customer):
    other = Service.objects.create(name="Yoga", duration_minutes=60, price_minor=1000)
    grant_credits(customer, services=[other])
    with pytest.raises(CreditUnavailable):
        hold_with_credit(catalogue, customer)


def test_grant_without_services_covers_every_service(catalogue, customer):
    grant_credits(customer, services=[])
    assert hold_with_credit(catalogue, customer).payment_mode == "credit"


def test_in_policy_cancellation_returns_the_credit(catalogue, customer, grant):
    booking = booking_confirm(booking=hold_with_credit(catalogue, customer))
    # The policy refunds 100 % at 48 h or more: cancelled six days before.
    booking_cancel(booking=booking, actor=CUSTOMER, by_business=False, now=paris(2030, 5, 29, 10))
    grant.refresh_from_db()
    assert grant.remaining == 10
    assert kinds(booking) == ["held", "spent", "returned"]
    assert ledger_mismatches() == 0


def test_late_cancellation_keeps_the_credit(catalogue, customer, grant):
    booking = booking_confirm(booking=hold_with_credit(catalogue, customer))
    # 30 hours before: the policy refunds 50 % of money, so the credit is kept.
    booking_cancel(booking=booking, actor=CUSTOMER, by_business=False, now=paris(2030, 6, 3, 4))
    grant.refresh_from_db()
    assert grant.remaining == 9
    assert kinds(booking) == ["held", "spent"]


def test_cancellation_by_the_business_returns_the_credit(catalogue, customer, grant):
    booking = booking_confirm(booking=hold_with_credit(catalogue, customer))
    booking_cancel(booking=booking, actor=STAFF, by_business=True, now=paris(2030, 6, 4, 9))
    grant.refresh_from_db()
    assert grant.remaining == 10


def test_no_show_forfeits_the_credit(catalogue, customer, grant):
    booking = booking_confirm(booking=hold_with_credit(catalogue, customer))
    booking_mark_no_show(booking=booking, actor=STAFF, now=paris(2030, 6, 4, 11))
    grant.refresh_from_db()
    assert grant.remaining == 9
    assert kinds(booking) == ["held", "spent"]


def test_expired_hold_returns_the_credit(catalogue, customer, grant):
    booking = hold_with_credit(catalogue, customer)
    booking_expire(booking_ids=[booking.pk], now=NOW + timedelta(hours=1))
    grant.refresh_from_db()
    assert grant.remaining == 10
    assert kinds(booking) == ["held", "returned"]


def test_soonest_expiring_grant_is_used_first(catalogue, customer):
    later = grant_credits(customer, key="later", expires_at=NOW + timedelta(days=90))
    sooner = grant_credits(customer, key="sooner", expires_at=NOW + timedelta(days=20))
    hold_with_credit(catalogue, customer)
    later.refresh_from_db()
    sooner.refresh_from_db()
    assert (sooner.remaining, later.remaining) == (9, 10)


def test_grant_expiring_before_the_booking_is_not_usable(catalogue, customer):
    grant_credits(customer, expires_at=paris(2030, 6, 4, 9))
    assert usable_grant_for(customer=customer, service=catalogue["service"],
                            starts_at=paris(2030, 6, 4, 10), now=NOW) is None  # fmt: skip


def test_validity_from_first_use_starts_at_the_first_hold(catalogue, customer):
    grant = credit_grant_first_use(customer)
    assert grant.expires_at is None
    hold_with_credit(catalogue, customer)
    grant.refresh_from_db()
    assert grant.expires_at == NOW + timedelta(days=30)


def credit_grant_first_use(customer):
    from memberships.services.credits import credit_grant

    return credit_grant(customer=customer, source_kind="pass", source_id="fu", credits=5,
                        expires_at=None, service_ids=[], idempotency_key="fu",
                        valid_days_after_first_use=30)  # fmt: skip


def test_daily_cap_of_an_unlimited_grant(catalogue, customer):
    grant_credits(customer, credits=None, cap_per_day=1, source_kind=CreditSourceKind.MEMBERSHIP)
    hold_with_credit(catalogue, customer, hour=10)
    with pytest.raises(CreditUnavailable):
        hold_with_credit(catalogue, customer, hour=14)
    assert hold_with_credit(catalogue, customer, hour=10, day=5).payment_mode == "credit"


def test_suspended_grants_are_not_usable_until_resumed(catalogue, customer):
    grant_credits(customer, key="m-1", source_kind="membership", source_id="m-1")
    assert credit_grants_suspend(source_kind="membership", source_id="m-1", suspended=True) == 1
    with pytest.raises(CreditUnavailable):
        hold_with_credit(catalogue, customer)
    credit_grants_suspend(source_kind="membership", source_id="m-1", suspended=False)
    assert hold_with_credit(catalogue, customer).payment_mode == "credit"


def test_expiry_takes_what_is_left_once(catalogue, customer):
    grant = grant_credits(customer, credits=3, expires_at=NOW + timedelta(days=1))
    hold_with_credit(catalogue, customer, day=3, hour=14)  # today, before expiry
    assert credits_expire_due(now=NOW + timedelta(days=2)) == 1
    assert credits_expire_due(now=NOW + timedelta(days=2)) == 0
    grant.refresh_from_db()
    assert grant.remaining == 0
    assert list(grant.entries.values_list("kind", "delta")) == [
        ("granted", 3),
        ("held", -1),
        ("expired", -2),
    ]
    assert ledger_mismatches() == 0


def test_adjustments_never_go_below_zero(grant, customer):
    credit_adjust(customer=customer, grant=grant, delta=-4, reason="Gift returned", actor=STAFF)
    with pytest.raises(CreditRefused):
        credit_adjust(customer=customer, grant=grant, delta=-7, reason="Too many", actor=STAFF)
    with pytest.raises(CreditRefused):
        credit_adjust(customer=customer, grant=grant, delta=2, reason="  ", actor=STAFF)
    grant.refresh_from_db()
    assert grant.remaining == 6
    entry = CreditEntry.objects.filter(kind="adjusted").get()
    assert (entry.delta, entry.actor_label, entry.reason) == (-4, "Front desk", "Gift returned")
    assert ledger_mismatches() == 0


def test_grant_of_another_customer_cannot_be_adjusted(grant, catalogue):
    other = customer_upsert(name="Other", email="other@example.test")
    with pytest.raises(CreditRefused):
        credit_adjust(customer=other, grant=grant, delta=1, reason="x", actor=STAFF)
