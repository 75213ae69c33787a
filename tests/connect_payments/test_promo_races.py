"""Promo code limits under concurrency: real threads, real PostgreSQL, committed transactions.

Each thread goes through the same three steps as `POST /api/v1/bookings/`: the check before the
hold, the hold (its own transaction), then the payment reserved after the hold commits.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from connect_payments.booking_port import payment_after_hold, payments_check_before_hold
from connect_payments.models import BookingPayment, ConnectedAccount, PromoCode
from scheduling.models import Booking, BookingStatus
from scheduling.services.bookings import booking_hold
from scheduling.services.customers import customer_upsert
from stripe_local.testing import onboarded_account
from tenants.models import Tenant
from tests.scheduling.conftest import build_catalogue, paris, truncate_tenant_tables

THREADS = 10


@pytest.fixture
def alpha_paid_online(committed_db, sdk, stripe_base_url):
    """Alpha, committed, with an onboarded account and scheduling's catalogue paid online."""
    tenant = Tenant.objects.get(slug="alpha")
    truncate_tenant_tables(tenant.schema_name)
    account = ConnectedAccount.objects.create(
        tenant=tenant,
        account_id=onboarded_account(sdk, stripe_base_url),
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
    )
    with tenant_context(tenant):
        catalogue = build_catalogue()
    yield tenant, catalogue
    connection.set_schema_to_public()
    truncate_tenant_tables(tenant.schema_name)
    account.delete()


def slot(index: int) -> tuple[int, object]:
    """A distinct free time per thread: Ada or Ben, 75 minutes apart (60 + 15 buffer)."""
    return index // 5, paris(2030, 6, 4, 9) + timedelta(minutes=75 * (index % 5))


def race_for_the_code(tenant, catalogue, customers) -> Counter:
    from tests.scheduling.test_races import run_concurrently

    service = catalogue["service"]
    staff = [catalogue["ada"].pk, catalogue["ben"].pk]

    def attempt(index: int) -> None:
        customer = customers[index]
        staff_index, starts_at = slot(index)
        with tenant_context(tenant):
            promo = payments_check_before_hold(
                service=service, promo_code="LAST", customer_email=customer.email
            )
            booking = booking_hold(service=service, starts_at=starts_at, customer=customer,
                                   staff_id=staff[staff_index], now=timezone.now())  # fmt: skip
            payment = payment_after_hold(booking=booking, promo=promo)
            assert payment is not None and payment["discount_minor"] == 900

    return run_concurrently(THREADS, attempt)


def assert_one_discounted_hold(tenant, outcomes: Counter) -> None:
    # The losers are refused either before their hold (the winner already reserved the use)
    # or after it, under the code's lock; both answer 400 `promo_code_invalid`.
    assert outcomes == Counter({"ok": 1, "PromoCodeInvalid": THREADS - 1})
    with tenant_context(tenant):
        discounted = BookingPayment.objects.filter(promo_code__code="LAST")
        assert discounted.count() == 1
        assert BookingPayment.objects.count() == 1  # nobody was charged without the discount
        assert discounted.get().booking.status == BookingStatus.HELD
        # A hold refused after it was made is released at once, not left blocking the time.
        assert Booking.objects.filter(status=BookingStatus.HELD).count() == 1


def test_concurrent_holds_for_the_last_use_of_a_code_get_one_discount(alpha_paid_online):
    tenant, catalogue = alpha_paid_online
    with tenant_context(tenant):
        PromoCode.objects.create(code="LAST", kind="percent", percent=20, max_redemptions=1)
        customers = [
            customer_upsert(name=f"Racer {i}", email=f"racer{i}@example.test")
            for i in range(THREADS)
        ]

    outcomes = race_for_the_code(tenant, catalogue, customers)

    assert_one_discounted_hold(tenant, outcomes)


def test_one_customer_racing_for_a_once_per_customer_code_gets_one_discount(alpha_paid_online):
    tenant, catalogue = alpha_paid_online
    with tenant_context(tenant):
        PromoCode.objects.create(code="LAST", kind="percent", percent=20, max_per_customer=1)
        customer = customer_upsert(name="Eager", email="eager@example.test")

    outcomes = race_for_the_code(tenant, catalogue, [customer] * THREADS)

    assert_one_discounted_hold(tenant, outcomes)
