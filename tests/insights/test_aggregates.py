"""The dashboard's aggregate tables (insights/aggregates.py, insights/daily/): kept by triggers
inside each write's transaction, equal to a rebuild from the raw bookings and money after a
random sequence of writes (ORM saves, queryset updates and deletes, single and bulk; payments,
balances, refunds, fees charged and refunded, passes and their refunds, membership invoices and
their refunds; reschedules and staff or service changes that move money), empty of rolled-back
writes, and per tenant."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum
from django_tenants.utils import tenant_context
from psycopg.types.range import Range

from connect_payments.models import BookingPayment, FeeCharge, PaymentRefund
from insights.aggregates import rebuild
from insights.models import (
    BookingDay,
    CompletedBookingRebooked,
    CustomerDay,
    CustomerFirstBooking,
    MoneyDay,
)
from memberships.models import MembershipPeriod, PassPurchase
from scheduling.models import Booking, Customer, Service, StaffMember

from . import money
from .dataset import paris

STATUSES = ["confirmed", "completed", "no_show", "cancelled", "held", "expired"]
MONEY_ACTIONS = {"pay", "balance", "refund", "refund_status", "fee", "fee_refund", "pass",
                 "pass_fee", "period", "period_refund", "move"}  # fmt: skip


BOOKING_DAY = ("basis", "day", "service_id", "staff_id", "bookings", "no_shows", "attended",
               "completed", "cancelled", "value_minor", "occupied_seconds")  # fmt: skip
CUSTOMER_DAY = ("basis", "day", "customer_id", "service_id", "staff_id", "bookings")
MONEY_DAY = ("basis", "day", "service_id", "staff_id", "gross_minor", "refunds_minor",
             "fees_minor")  # fmt: skip


def _nonzero(rows: list[tuple]) -> list[tuple]:
    """A key whose figures came back to zero keeps a row of zeros (the rebuild writes none)."""
    return sorted((row for row in rows if any(row[4:])), key=str)


def snapshot() -> tuple[list, list, list, list]:
    firsts = list(CustomerFirstBooking.objects.order_by("customer_id")
                  .values_list("customer_id", "first_starts_at", "first_created_at"))  # fmt: skip
    rebooked = list(CompletedBookingRebooked.objects.order_by("booking_id")
                    .values_list("booking_id", "customer_id", "rebooked", "starts_at",
                                 "service_id", "staff_id"))  # fmt: skip
    days = _nonzero(list(BookingDay.objects.values_list(*BOOKING_DAY)))
    moneys = _nonzero(list(MoneyDay.objects.values_list(*MONEY_DAY)))
    customers = sorted((row for row in CustomerDay.objects.values_list(*CUSTOMER_DAY) if row[5]),
                       key=str)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_id, appointment_days::text, booked_days::text "
                       "FROM insights_customerdays ORDER BY customer_id")  # fmt: skip
        customer_days = cursor.fetchall()
    return firsts, rebooked, days, moneys, customers, customer_days


class Writer:
    """Bookings on distinct hourly slots (never overlapping), created and changed at random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.staff = StaffMember.objects.create(display_name="Agg")
        self.other_staff = StaffMember.objects.create(display_name="Agg 2")
        self.service = Service.objects.create(name="Agg", duration_minutes=30, price_minor=1000,
                                              payment_mode="pay_at_venue")  # fmt: skip
        self.other_service = Service.objects.create(name="Agg 2", duration_minutes=30,
                                                    price_minor=2000,
                                                    payment_mode="pay_at_venue")  # fmt: skip
        self.customers = [Customer.objects.create(name=f"A{n}", email=f"a{n}@agg.test")
                          for n in range(5)]  # fmt: skip
        self.slot = 0

    def start(self):
        self.slot += 1
        # Slots two days apart, booked up to 30 days ahead: some are rebookings, some not.
        return paris(1, 9, month=1) + timedelta(days=2 * self.slot)

    def create(self, count: int = 1) -> None:
        rows = []
        for _ in range(count):
            starts = self.start()
            ends = starts + timedelta(minutes=30)
            rows.append(Booking(
                reference=f"AGG{self.slot:05d}", service=self.service, staff=self.staff,
                customer=self.rng.choice(self.customers), starts_at=starts, ends_at=ends,
                occupied=Range(starts, ends), status=self.rng.choice(STATUSES),
                price_minor=1000, currency="EUR", payment_mode="pay_at_venue", source="staff",
                created_at=starts - timedelta(days=self.rng.randint(0, 30)),
                hold_expires_at=starts,
            ))  # fmt: skip
        if count == 1:
            rows[0].save()
        else:
            Booking.objects.bulk_create(rows)

    def pick(self) -> Booking | None:
        bookings = list(Booking.objects.filter(staff__in=[self.staff, self.other_staff])
                        .order_by("pk"))  # fmt: skip
        return self.rng.choice(bookings) if bookings else None

    def moment(self, booking: Booking):
        """Some time around the appointment, at any hour (local days and DST nights too)."""
        return booking.starts_at + timedelta(hours=self.rng.randint(-400, 400))

    def money_step(self, action: str, booking: Booking) -> None:
        rng = self.rng
        if action == "pay" and not BookingPayment.objects.filter(booking=booking).exists():
            deposit = rng.random() < 0.5
            BookingPayment.objects.create(
                booking=booking, kind="deposit" if deposit else "full", status="paid",
                currency="EUR", price_minor=1000, amount_minor=400 if deposit else 1000,
                fee_minor=rng.randint(0, 60), balance_due_minor=600 if deposit else 0,
                paid_minor=400 if deposit else 1000, paid_at=self.moment(booking),
                destination_account_id="acct_agg", idempotency_key=f"agg-pay-{booking.pk}",
            )  # fmt: skip
        elif action == "balance":
            BookingPayment.objects.filter(booking__in=Booking.objects.filter(pk=booking.pk),
                                          balance_due_minor__gt=0).update(
                balance_paid_at=self.moment(booking))  # fmt: skip
        elif action == "refund":
            payment = BookingPayment.objects.filter(booking=booking).first()
            if payment is not None:
                PaymentRefund.objects.create(
                    payment=payment, amount_minor=rng.randint(1, 300),
                    fee_refunded_minor=rng.randint(0, 10),
                    status=rng.choice(["succeeded", "pending", "failed"]), origin="staff",
                    idempotency_key=f"agg-refund-{PaymentRefund.objects.count()}-{rng.random()}",
                    completed_at=self.moment(booking),
                )  # fmt: skip
        elif action == "refund_status":
            PaymentRefund.objects.filter(payment__booking=booking).update(
                status=rng.choice(["succeeded", "failed"]))  # fmt: skip
        elif action == "fee" and not FeeCharge.objects.filter(booking=booking).exists():
            money.fee_charge(
                booking,
                amount=rng.randint(500, 2000),
                platform_fee=rng.randint(0, 100),
                paid_at=self.moment(booking),
            )
        elif action == "fee_refund":
            for fee in FeeCharge.objects.filter(booking=booking):
                money.refund_fee(fee, self.moment(booking))
        elif action == "pass":
            bought = money.pass_purchase(rng.choice(self.customers), paid=rng.randint(1000, 5000),
                                         platform_fee=rng.randint(0, 200),
                                         paid_at=self.moment(booking))  # fmt: skip
            if rng.random() < 0.6:
                money.pass_refund(bought, amount=rng.randint(1, bought.paid_minor),
                                  at=self.moment(booking),
                                  status=rng.choice(["succeeded", "failed"]))  # fmt: skip
        elif action == "pass_fee":
            PassPurchase.objects.update(fee_minor=rng.randint(0, 300))
        elif action == "period":
            period = money.membership_period(rng.choice(self.customers),
                                             paid=rng.randint(1000, 9000), fee_percent="2.50",
                                             paid_at=self.moment(booking))  # fmt: skip
            if rng.random() < 0.5:
                money.refund_period(period)
        elif action == "period_refund":
            for period in MembershipPeriod.objects.filter(refunded_minor=0)[:1]:
                money.refund_period(period)
        elif action == "move":
            Booking.objects.filter(pk=booking.pk).update(
                staff=rng.choice([self.staff, self.other_staff]),
                service=rng.choice([self.service, self.other_service]))  # fmt: skip

    def step(self) -> None:
        # Two steps in five write money (or move a booking's money), the others bookings.
        if self.rng.random() < 0.4:
            action = self.rng.choice(sorted(MONEY_ACTIONS))
        else:
            action = self.rng.choice(["create", "bulk", "status", "reschedule", "customer",
                                      "booked_at", "bulk_update", "delete", "notes",
                                      "price"])  # fmt: skip
        booking = self.pick()
        if booking is not None and action in MONEY_ACTIONS:
            self.money_step(action, booking)
        elif action == "price" and booking is not None:
            Booking.objects.filter(pk=booking.pk).update(price_minor=self.rng.randint(0, 5000))
        elif action == "create" or booking is None:
            self.create()
        elif action == "bulk":
            self.create(self.rng.randint(2, 6))
        elif action == "status":
            booking.status = self.rng.choice(STATUSES)
            booking.save()
        elif action == "reschedule":
            starts = self.start()
            Booking.objects.filter(pk=booking.pk).update(
                starts_at=starts, ends_at=starts + timedelta(minutes=30),
                occupied=Range(starts, starts + timedelta(minutes=30)))  # fmt: skip
        elif action == "customer":
            booking.customer = self.rng.choice(self.customers)
            booking.save(update_fields=["customer"])
        elif action == "booked_at":
            booking.created_at = booking.starts_at - timedelta(days=self.rng.randint(0, 30))
            booking.save(update_fields=["created_at"])
        elif action == "bulk_update":
            Booking.objects.filter(status="confirmed").update(status="completed")
        elif action == "delete":
            if not (BookingPayment.objects.filter(booking=booking).exists()
                    or FeeCharge.objects.filter(booking=booking).exists()):  # fmt: skip
                booking.delete()
        else:
            Booking.objects.filter(pk=booking.pk).update(notes="changed")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuild_equals_incremental_after_random_writes(tenant_alpha, seed):
    rng = random.Random(seed)
    with tenant_context(tenant_alpha):
        writer = Writer(rng)
        writer.create(8)
        # One of each kind of money to start with (the random steps add more and change them).
        first = writer.pick()
        assert first is not None
        for action in ("pay", "fee", "fee_refund"):
            writer.money_step(action, first)
        bought = money.pass_purchase(writer.customers[0], paid=3000, platform_fee=90,
                                     paid_at=writer.moment(first))  # fmt: skip
        money.pass_refund(bought, amount=1000, at=writer.moment(first))
        for number in range(100):
            writer.step()
            if number % 15 == 14:
                incremental = snapshot()
                rebuild()
                assert snapshot() == incremental
        incremental = snapshot()
        counted = Booking.objects.filter(status__in=["confirmed", "completed", "no_show"])
        assert len(incremental[0]) == counted.values("customer").distinct().count()
        assert len(incremental[1]) == Booking.objects.filter(status="completed").count()
        assert {row[0] for row in incremental[0]} == {row[2] for row in incremental[4]}
        assert [row[0] for row in incremental[0]] == [row[0] for row in incremental[5]]
        assert any(row[2] for row in incremental[1])
        assert not all(row[2] for row in incremental[1])
        # The per-day rows hold every counted booking once per basis, and money of each kind.
        days = BookingDay.objects.filter(basis="booked").aggregate(n=Sum("bookings"))["n"]
        assert days == counted.count()
        kinds = {(service is None, refunds > 0) for _b, _d, service, _s, _g, refunds, _f
                 in incremental[3]}  # fmt: skip
        assert kinds == {(True, True), (True, False), (False, True), (False, False)}
        CustomerFirstBooking.objects.all().delete()
        CompletedBookingRebooked.objects.all().delete()
        BookingDay.objects.all().delete()
        MoneyDay.objects.all().delete()
        CustomerDay.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM insights_customerdays")
        rebuild()
        assert snapshot() == incremental
    connection.set_schema_to_public()


def test_aggregates_follow_each_write_in_its_transaction(tenant_alpha):
    with tenant_context(tenant_alpha):
        writer = Writer(random.Random(7))
        customer = writer.customers[0]
        writer.rng.choice = lambda options: customer if options is writer.customers else "held"
        writer.create()
        booking = Booking.objects.get(staff=writer.staff)
        assert not CustomerFirstBooking.objects.filter(customer_id=customer.pk).exists()
        booking.status = "completed"
        booking.save()
        first = CustomerFirstBooking.objects.get(customer_id=customer.pk)
        assert (first.first_starts_at, first.first_created_at) == (
            booking.starts_at, booking.created_at)  # fmt: skip
        assert not CompletedBookingRebooked.objects.get(booking_id=booking.pk).rebooked
        with pytest.raises(RuntimeError), transaction.atomic():
            Booking.objects.create(
                reference="AGGROLL", service=writer.service, staff=writer.staff,
                customer=customer, starts_at=booking.starts_at + timedelta(days=3),
                ends_at=booking.starts_at + timedelta(days=3, minutes=30),
                occupied=Range(booking.starts_at + timedelta(days=3),
                               booking.starts_at + timedelta(days=3, minutes=30)),
                status="confirmed", price_minor=1000, currency="EUR",
                payment_mode="pay_at_venue", source="staff",
                created_at=booking.starts_at + timedelta(days=1), hold_expires_at=booking.starts_at,
            )  # fmt: skip
            assert CompletedBookingRebooked.objects.get(booking_id=booking.pk).rebooked
            raise RuntimeError("roll back")
        assert not CompletedBookingRebooked.objects.get(booking_id=booking.pk).rebooked
        booking.delete()
        assert not CustomerFirstBooking.objects.filter(customer_id=customer.pk).exists()
        assert not CompletedBookingRebooked.objects.filter(booking_id=booking.pk).exists()
    connection.set_schema_to_public()


def test_aggregates_are_per_tenant_and_the_command_rebuilds_one(tenant_alpha, tenant_beta):
    with tenant_context(tenant_alpha):
        writer = Writer(random.Random(3))
        writer.create(10)
        alpha = snapshot()
    with tenant_context(tenant_beta):
        beta = snapshot()
        assert not set(alpha[1]) & set(beta[1])
    with tenant_context(tenant_alpha):
        CustomerFirstBooking.objects.all().delete()
        call_command("rebuild_dashboard_aggregates", schema=tenant_alpha.schema_name)
        assert snapshot() == alpha
    connection.set_schema_to_public()


def test_two_schemas_replacing_the_shared_functions_at_once_queue_instead_of_failing(committed_db):
    """Tenant schemas migrate in parallel processes; both replace the same `public` functions.
    Without the migration's advisory lock the second transaction fails with "tuple concurrently
    updated" once the first commits (seen in CI); with it, the second waits and succeeds."""
    import threading

    import psycopg

    from insights.aggregates import REFRESH_FUNCTION, SHARED_FUNCTIONS_LOCK, TRIGGER_FUNCTIONS

    settings = connection.settings_dict
    dsn = (f"dbname={settings['NAME']} user={settings['USER']} host={settings['HOST']} "
           f"port={settings['PORT']}")  # fmt: skip
    replace = SHARED_FUNCTIONS_LOCK + REFRESH_FUNCTION + TRIGGER_FUNCTIONS
    errors: list[BaseException] = []
    first = psycopg.connect(dsn)
    try:
        first.execute(replace)  # in a transaction, not committed yet

        def second() -> None:
            try:
                with psycopg.connect(dsn) as other:
                    other.execute(replace)
                    other.commit()
            except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
                errors.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "the second replacement must wait for the first transaction"
        first.commit()
        thread.join(timeout=30)
        assert not thread.is_alive()
    finally:
        first.close()
    assert errors == []
