"""The console's revenue page on a known data set, every figure checked exactly.

The Stripe objects are made in local Stripe through the SDK (test clocks for a trial that ends
and a renewal that fails) and stored the way billing's webhook handlers store them
(`subscription_refresh` re-reads and mirrors the subscription, `mirror("Invoice", ...)`), the
coupons through `mirror`. The booking payments are rows written directly in the tenant schemas
with chosen fees and dates: the page only reads them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
import stripe
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.catalogue import price_for
from billing.mirror import mirror
from billing.models import Plan, TenantSubscription
from billing.subscriptions import subscription_refresh
from connect_payments.models import BookingPayment, PaymentRefund
from saas_platform.revenue import revenue_report
from scheduling.services.bookings import booking_hold
from scheduling.services.customers import customer_upsert
from tenants.models import Tenant
from tests.factories import client_for, make_user, signed_in
from tests.scheduling.conftest import build_catalogue

pytestmark = pytest.mark.django_db

DAY = 86400


@pytest.fixture
def plans(stripe_client) -> None:
    Plan.objects.filter(code="starter").update(monthly_price_minor=2900, yearly_price_minor=29000)
    Plan.objects.filter(code="studio").update(
        monthly_price_minor=5900, yearly_price_minor=59000, extra_seat_price_minor=900
    )
    call_command("billing_sync_plans")


def _tenant(slug: str) -> Tenant:
    # A public-schema row is all the revenue figures read (Tenant never creates a schema itself).
    return Tenant.objects.create(
        name=slug.title(), slug=slug, schema_name=slug, country="FR", currency="EUR"
    )


class Builder:
    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client
        self.now = int(time.time())

    def customer(self, slug: str, *, card: str | None = "pm_card_visa") -> tuple[Tenant, str, str]:
        tenant = _tenant(slug)
        clock = self.client.v1.test_helpers.test_clocks.create({"frozen_time": self.now})
        params: dict = {"name": slug, "test_clock": clock.id}
        if card:
            params |= {"payment_method": card, "invoice_settings": {"default_payment_method": card}}
        customer = self.client.v1.customers.create(params)
        mirror("Customer", customer)  # as billing.subscriptions.customer_ensure does
        TenantSubscription.objects.create(tenant=tenant, stripe_customer_id=customer.id)
        return tenant, customer.id, clock.id

    def subscribe(self, tenant: Tenant, customer: str, items: list[dict], **extra) -> str:
        sub = self.client.v1.subscriptions.create({"customer": customer, "items": items, **extra})
        TenantSubscription.objects.filter(tenant=tenant).update(stripe_subscription_id=sub.id)
        return sub.id

    def store(self, tenant: Tenant, customer: str) -> None:
        """What the webhook handlers leave: the subscription re-read, the invoices mirrored."""
        assert subscription_refresh(tenant=tenant, client=self.client)
        for invoice in self.client.v1.invoices.list({"customer": customer, "limit": 100}).data:
            mirror("Invoice", invoice)


def _price(code: str, interval: str, *, seat: bool = False) -> str:
    price = price_for(Plan.objects.get(code=code), interval, seat=seat)
    assert price is not None
    return price.id


def _month(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m")


@pytest.fixture
def known_set(plans, stripe_client, tenant_alpha, tenant_beta) -> dict:
    b = Builder(stripe_client)
    starter_m, studio_m = _price("starter", "month"), _price("studio", "month")
    studio_y, seat_m = _price("studio", "year"), _price("studio", "month", seat=True)

    monthly, cus, _ = b.customer("monthly")  # 29.00 a month
    b.subscribe(monthly, cus, [{"price": starter_m}])
    b.store(monthly, cus)

    yearly, cus, _ = b.customer("yearly")  # 590.00 a year: 49.1666… a month
    b.subscribe(yearly, cus, [{"price": studio_y}])
    b.store(yearly, cus)

    discounted, cus, _ = b.customer("discounted")  # (59.00 + 2 × 9.00) − 25 %
    quarter = stripe_client.v1.coupons.create({"percent_off": 25, "duration": "forever"})
    mirror("Coupon", quarter)
    b.subscribe(
        discounted,
        cus,
        [{"price": studio_m}, {"price": seat_m, "quantity": 2}],
        discounts=[{"coupon": quarter.id}],
    )
    b.store(discounted, cus)

    comp, cus, _ = b.customer("comp")  # a 100 % coupon: counts 0
    gift = stripe_client.v1.coupons.create({"percent_off": 100, "duration": "forever"})
    mirror("Coupon", gift)
    b.subscribe(comp, cus, [{"price": studio_m}], discounts=[{"coupon": gift.id}])
    b.store(comp, cus)

    gone, cus, _ = b.customer("gone")  # canceled now: "10 days ago" seen from now + 10 days
    sub_id = b.subscribe(gone, cus, [{"price": starter_m}])
    stripe_client.v1.subscriptions.cancel(sub_id)
    b.store(gone, cus)

    converted, cus, clock = b.customer("converted")  # a trial with a card that became paid
    b.subscribe(converted, cus, [{"price": starter_m}], trial_period_days=14)
    stripe_client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": b.now + 15 * DAY})
    b.store(converted, cus)

    lapsed, cus, clock = b.customer("lapsed", card=None)  # a trial without a card: paused
    b.subscribe(
        lapsed,
        cus,
        [{"price": starter_m}],
        trial_period_days=14,
        trial_settings={"end_behavior": {"missing_payment_method": "pause"}},
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": b.now + 15 * DAY})
    b.store(lapsed, cus)

    trialing, cus, _ = b.customer("trialing", card=None)  # still on its trial
    b.subscribe(trialing, cus, [{"price": starter_m}], trial_period_days=14)
    b.store(trialing, cus)

    failing, cus, clock = b.customer("failing")  # renewal declined: past_due, one attempt
    sub_id = b.subscribe(failing, cus, [{"price": starter_m}])
    period_end = stripe_client.v1.subscriptions.retrieve(sub_id)["items"].data[0].current_period_end
    declining = stripe_client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", {"customer": cus}
    )
    stripe_client.v1.customers.update(
        cus, {"invoice_settings": {"default_payment_method": declining.id}}
    )
    stripe_client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": period_end + 3600})
    b.store(failing, cus)

    # Booking fees kept by the platform: January 2025 in two schemas (one partly refunded, in
    # January too), February 2025 in one.
    for tenant, payments in (
        (tenant_alpha, [(datetime(2025, 1, 10, tzinfo=UTC), 150, 0),
                        (datetime(2025, 2, 3, tzinfo=UTC), 300, 0)]),
        (tenant_beta, [(datetime(2025, 1, 31, 23, tzinfo=UTC), 250, 50)]),
    ):  # fmt: skip
        with tenant_context(tenant):
            built = build_catalogue()
            person = customer_upsert(name="Chloé Client", email="chloe@example.test")
            for n, (paid_at, fee, fee_refunded) in enumerate(payments):
                booking = booking_hold(
                    service=built["service"],
                    starts_at=datetime(2030, 6, 4 + n, 11, tzinfo=ZoneInfo(tenant.time_zone)),
                    customer=person,
                    now=timezone.now(),
                )
                payment = BookingPayment.objects.create(
                    booking=booking, kind="full", status="paid", currency="EUR",
                    price_minor=4500, amount_minor=4500, fee_minor=fee,
                    fee_refunded_minor=fee_refunded, balance_due_minor=0,
                    destination_account_id="acct_known", idempotency_key=f"known-{n}",
                    paid_minor=4500, paid_at=paid_at,
                )  # fmt: skip
                if fee_refunded:  # as connect_payments' refunds leave it: a refund row too
                    PaymentRefund.objects.create(
                        payment=payment, amount_minor=1000, fee_refunded_minor=fee_refunded,
                        status="succeeded", origin="staff", idempotency_key=f"known-r-{n}",
                        created_at=paid_at, completed_at=paid_at,
                    )  # fmt: skip
    return {"now": b.now, "failing": failing}


def test_each_figure_is_exact_on_a_known_set(known_set) -> None:
    now = datetime.fromtimestamp(known_set["now"], tz=UTC)
    report = revenue_report(now=now + timedelta(days=10))

    # active: monthly, yearly, discounted, comp, converted; past_due: failing.
    expected_mrr = (
        Fraction(2900)  # monthly
        + Fraction(59000, 12)  # yearly / 12
        + Fraction((5900 + 2 * 900) * 75, 100)  # discounted
        + 0  # comp (100 % coupon)
        + Fraction(2900)  # converted
        + Fraction(2900)  # failing (past_due still pays)
    )
    assert report.mrr_minor == expected_mrr
    assert report.arr_minor == expected_mrr * 12
    assert report.display["mrr"] == "193.92"  # 19391.666… cents
    assert report.display["arr"] == "2327.00"
    for status, count in {
        "trialing": 1, "active": 5, "past_due": 1, "paused": 1, "canceled": 1
    }.items():  # fmt: skip
        assert report.by_status[status] == count, status
    assert (report.trials_ended, report.trials_converted) == (2, 1)  # converted; lapsed not
    assert report.display["conversion"] == "50.0 %"
    assert (report.churned_30d, report.paying) == (1, 6)
    assert report.churn_rate == Fraction(1, 7)
    assert revenue_report(now=now + timedelta(days=31)).churned_30d == 0

    [failed] = report.failed_payments
    assert (failed.tenant_slug, failed.amount_due_minor, failed.attempt_count) == (
        "failing",
        2900,
        1,
    )

    months = {(m.month, m.currency): m for m in report.months}
    assert (months[("2025-01", "EUR")].booking_fees_minor) == 150 + 250 - 50
    assert (months[("2025-02", "EUR")].booking_fees_minor) == 300
    assert months[("2025-01", "EUR")].subscriptions_minor == 0
    # Paid invoices, by the month they were paid: the first invoices now, the converted trial's
    # first invoice at the end of its trial (its clock's time); comp's is 0.00.
    paid_now = 2900 + 59000 + 5775 + 0 + 2900  # monthly, yearly, discounted, comp, gone
    paid_now += 2900  # failing's first invoice (the renewal is open, not paid)
    by_month: dict[str, int] = {}
    by_month[_month(known_set["now"])] = paid_now
    later = _month(known_set["now"] + 15 * DAY)
    by_month[later] = by_month.get(later, 0) + 2900
    for month, amount in by_month.items():
        assert months[(month, "EUR")].subscriptions_minor == amount, month


def test_only_operators_with_a_second_factor_see_it(known_set, owner_alpha) -> None:
    assert client_for().get("/console/revenue/").status_code == 302  # anonymous → sign in
    owner = signed_in(client_for(), owner_alpha, schema="public", verified=True)
    assert owner.get("/console/revenue/").status_code == 404
    operator = make_user(name="Olga Operator", is_operator=True)
    unverified = signed_in(client_for(), operator, schema="public")
    assert unverified.get("/console/revenue/")["Location"].startswith("/account/two_factor/")
    page = signed_in(client_for(), operator, schema="public", verified=True).get(
        "/console/revenue/"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "193.92 EUR" in html and "2327.00 EUR" in html
    assert "50.0 %" in html and "/console/tenants/failing/" in html
    assert "2025-01" in html and "3.50" in html  # January's booking fees


def test_the_number_of_queries_does_not_grow_with_tenants(known_set) -> None:
    with CaptureQueriesContext(connection) as before:
        revenue_report()
    for n in range(3):
        TenantSubscription.objects.create(
            tenant=_tenant(f"more{n}"), stripe_customer_id=f"cus_more{n}",
            stripe_subscription_id=f"sub_more{n}", status="active",
        )  # fmt: skip
    with CaptureQueriesContext(connection) as after:
        revenue_report()

    # django-tenants' SET search_path is sent once per tenant switch (TENANT_LIMIT_SET_CALLS):
    # whether one falls inside a capture depends on what ran before, not on the report.
    def statements(queries):
        return [q for q in queries if not q["sql"].startswith("SET search_path")]

    assert len(statements(after)) == len(statements(before))


def test_booking_fees_come_from_public_tables_without_reading_a_tenant_schema(known_set) -> None:
    """One statement over every schema ran out of PostgreSQL's lock table at 1,000 tenants
    (bench/billing.py): the fees are now read from the platform activity in public."""
    from saas_platform import revenue

    with CaptureQueriesContext(connection) as queries:
        fees = revenue.booking_fees_by_month()
    assert fees[("2025-01", "EUR")] == 150 + 250 - 50
    assert fees[("2025-02", "EUR")] == 300
    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "insights_platformactivity" in reads[0]
    assert not any("bookingpayment" in q["sql"] or "t_alpha" in q["sql"] for q in queries)
