"""The operator's platform view (issue #13): the platform activity kept in public by triggers on
every tenant's bookings, payments and refunds (insights/platform_activity.py) is exact on a
hand-built data set, equals a rebuild from the raw tables after random writes, survives
compaction unchanged, counts per tenant, and the console page reads it with the same number of
queries however many tenants there are."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from connect_payments.models import BookingPayment, PaymentRefund
from insights.models import PlatformActivity
from insights.platform import bookings_per_tenant, platform_view
from insights.platform_activity import compact, rebuild_current_schema
from scheduling.models import Booking
from scheduling.services.customers import customer_upsert
from tenants.services import tenant_provision
from tests.factories import PASSWORD, client_for, make_user, signed_in
from tests.scheduling.conftest import build_catalogue
from tests.scheduling.test_calendar_files import make_booking

DAY_ONE = datetime(2030, 3, 4, 10, tzinfo=UTC)
DAY_TWO = DAY_ONE + timedelta(days=1)
FIGURES = ("bookings", "gross_minor", "fee_minor", "refunded_minor", "fee_refunded_minor",
           "failed_refunds")  # fmt: skip


def sums(tenant_id: int) -> dict[tuple[date, str], tuple[int, ...]]:
    rows = (
        PlatformActivity.objects.filter(tenant_id=tenant_id)
        .values("day", "currency")
        .annotate(**{f: Sum(f) for f in FIGURES})
    )
    found = {(r["day"], r["currency"]): tuple(r[f] for f in FIGURES) for r in rows}
    return {key: value for key, value in found.items() if any(value)}


def pay(booking: Booking, *, amount: int, fee: int, at: datetime) -> BookingPayment:
    return BookingPayment.objects.create(
        booking=booking, kind="full", status="paid", currency="EUR", price_minor=amount,
        amount_minor=amount, fee_minor=fee, balance_due_minor=0, paid_minor=amount,
        destination_account_id="acct_x", idempotency_key=f"pay-{booking.pk}", paid_at=at,
    )  # fmt: skip


def refund(payment: BookingPayment, *, amount: int, fee: int, status: str, at: datetime):
    return PaymentRefund.objects.create(
        payment=payment, amount_minor=amount, fee_refunded_minor=fee, status=status,
        origin="staff", idempotency_key=f"refund-{payment.pk}-{amount}-{status}",
        created_at=at, completed_at=at if status != "pending" else None,
    )  # fmt: skip


@pytest.fixture
def alpha_world(tenant_alpha):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Chloé Client", email="chloe@example.test", phone="")
        yield catalogue, customer
    connection.set_schema_to_public()


def book(catalogue, customer, hour: int, *, made: datetime, status: str = "confirmed"):
    booking = make_booking(catalogue, customer, status=status,
                           starts_at=datetime(2030, 4, 1, hour, tzinfo=UTC))  # fmt: skip
    Booking.objects.filter(pk=booking.pk).update(created_at=made)
    return Booking.objects.get(pk=booking.pk)


def test_hand_built_figures_count_bookings_money_and_refunds_on_their_days(
    alpha_world, tenant_alpha, tenant_beta
):
    catalogue, customer = alpha_world
    first = book(catalogue, customer, 9, made=DAY_ONE)
    second = book(catalogue, customer, 11, made=DAY_ONE)
    book(catalogue, customer, 13, made=DAY_ONE, status="held")  # a hold is no booking yet
    cancelled = book(catalogue, customer, 15, made=DAY_TWO)
    Booking.objects.filter(pk=cancelled.pk).update(status="cancelled")  # counts nothing
    payment = pay(first, amount=4500, fee=225, at=DAY_ONE)
    pay(second, amount=2000, fee=100, at=DAY_TWO)
    refund(payment, amount=1000, fee=50, status="succeeded", at=DAY_TWO)  # on its own day
    refund(payment, amount=500, fee=0, status="pending", at=DAY_TWO)  # not yet money
    later_failure = refund(payment, amount=700, fee=35, status="succeeded", at=DAY_TWO)
    PaymentRefund.objects.filter(pk=later_failure.pk).update(status="failed")
    connection.set_schema_to_public()

    view = platform_view(days=3, today=DAY_TWO.date() + timedelta(days=1))
    one, two, three = view.days
    assert (one.day, one.bookings, two.bookings, three.bookings) == (DAY_ONE.date(), 2, 0, 0)
    assert one.money["EUR"].gross_minor == 4500 and one.money["EUR"].fee_minor == 225
    euros = two.money["EUR"]
    assert (euros.gross_minor, euros.fee_minor, euros.refunded_minor, euros.fee_refunded_minor) \
        == (2000, 100, 1000, 50)  # fmt: skip
    assert two.failed_refunds == 1
    total = view.totals["EUR"]
    assert (total.gross_minor, total.fees_kept_minor, total.refunded_minor) == (6500, 275, 1000)
    assert view.bookings == 2 and view.currencies == ["EUR"]
    assert [top.name for top in view.top_tenants] == [tenant_alpha.name]
    assert [entry.slug for entry in view.failed_refunds] == [tenant_alpha.slug]
    assert bookings_per_tenant([tenant_alpha.pk, tenant_beta.pk]) == {tenant_alpha.pk: 2}


def test_random_writes_equal_a_rebuild_and_compaction_changes_no_sum(alpha_world, tenant_alpha):
    catalogue, customer = alpha_world
    rng = random.Random(13)
    bookings, payments = [], []
    for step in range(60):
        choice = rng.random()
        made = DAY_ONE + timedelta(days=rng.randint(0, 3), hours=rng.randint(0, 12))
        if choice < 0.35 or not bookings:
            status = rng.choice(["confirmed", "held", "completed", "no_show", "cancelled"])
            created = make_booking(catalogue, customer, status=status,
                                   starts_at=datetime(2030, 5, 1, tzinfo=UTC)
                                   + timedelta(hours=2 * step))  # fmt: skip
            bookings.append(created)
        elif choice < 0.5:
            target = rng.choice(bookings)
            Booking.objects.filter(pk=target.pk).update(
                status=rng.choice(["confirmed", "cancelled", "completed", "expired"])
            )
        elif choice < 0.6:
            Booking.objects.filter(
                pk__in=[b.pk for b in rng.sample(bookings, min(3, len(bookings)))]
            ).update(created_at=made)  # a bulk update moves their day
        elif choice < 0.75:
            unpaid = [b for b in bookings if b.pk not in {p.booking_id for p in payments}]
            if unpaid:
                amount = rng.randint(10, 90) * 100
                payments.append(pay(rng.choice(unpaid), amount=amount, fee=amount // 20, at=made))
        elif choice < 0.9 and payments:
            target = rng.choice(payments)
            refund(
                target,
                amount=rng.randint(1, 5) * 100,
                fee=rng.randint(0, 20),
                status=rng.choice(["succeeded", "failed", "pending"]),
                at=made,
            )
        elif payments:
            changed = PaymentRefund.objects.filter(payment__in=payments).order_by("?").first()
            if changed is not None:
                PaymentRefund.objects.filter(pk=changed.pk).update(
                    status=rng.choice(["succeeded", "failed"]), completed_at=made
                )
        if step % 20 == 19:
            compact()  # compaction in the middle of the writes changes nothing
    incremental = sums(tenant_alpha.pk)
    assert incremental, "the writes produced figures"
    assert compact() >= 0 and sums(tenant_alpha.pk) == incremental
    assert not PlatformActivity.objects.filter(tenant_id=tenant_alpha.pk, compacted=False).exists()
    rebuild_current_schema()
    assert sums(tenant_alpha.pk) == incremental
    # Deleting the rows takes their figures away again.
    PaymentRefund.objects.filter(payment__in=payments).delete()
    BookingPayment.objects.filter(pk__in=[p.pk for p in payments]).delete()
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).delete()
    assert sums(tenant_alpha.pk) == {}


def test_a_tenant_counts_only_its_own_rows(alpha_world, tenant_alpha, tenant_beta):
    catalogue, customer = alpha_world
    book(catalogue, customer, 9, made=DAY_ONE)
    with tenant_context(tenant_beta):
        beta_catalogue = build_catalogue()
        beta_customer = customer_upsert(name="Bea", email="bea@example.test", phone="")
        for hour in (9, 11, 13):
            book(beta_catalogue, beta_customer, hour, made=DAY_ONE)
    connection.set_schema_to_public()
    assert bookings_per_tenant([tenant_alpha.pk, tenant_beta.pk]) == {
        tenant_alpha.pk: 1, tenant_beta.pk: 3}  # fmt: skip


@pytest.fixture
def console(db):
    operator = make_user(name="Olga Operator", is_operator=True)
    return signed_in(client_for(), operator, schema="public", verified=True)


def platform_queries(console) -> int:
    with CaptureQueriesContext(connection) as queries:
        page = console.get("/console/platform/?days=7")
    assert page.status_code == 200
    return len(queries)


def test_the_platform_page_costs_the_same_queries_with_more_tenants(console, alpha_world):
    book(*alpha_world, 9, made=datetime.now(UTC))
    connection.set_schema_to_public()
    before = platform_queries(console)
    for index in range(3):
        tenant = tenant_provision(
            name=f"Extra {index}", slug=f"extra-{index}", owner_email=f"o{index}@extra.test",
            owner_name="Extra Owner", owner_password=PASSWORD, country="FR", currency="EUR",
            time_zone="UTC",
        )  # fmt: skip
        with tenant_context(tenant):
            catalogue = build_catalogue()
            customer = customer_upsert(name="C", email=f"c{index}@example.test", phone="")
            book(catalogue, customer, 9, made=datetime.now(UTC))
        connection.set_schema_to_public()
    assert platform_queries(console) == before
    page = console.get("/console/platform/?days=7")
    assert b'id="bookings">4<' in page.content
    assert b"Extra 0" in page.content  # among the top businesses


def test_the_platform_page_is_for_operators_only(db, tenant_alpha):
    owner = make_user(name="Owner Only")
    page = signed_in(client_for(), owner, schema="public", verified=True).get("/console/platform/")
    assert page.status_code == 404  # the console hides itself from non-operators
    assert client_for().get("/console/platform/").status_code == 302  # to the sign-in page


def test_a_bad_period_falls_back_to_thirty_days(console):
    page = console.get("/console/platform/?days=abc")
    assert page.status_code == 200 and page.context["days"] == 30
    assert len(page.context["view"].days) == 30
