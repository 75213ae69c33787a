"""Money pages: owners and managers (second factor) see payments, fees, refunds and export them;
front desk and staff do not; a member of one business never sees another's payments."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection

from connect_payments.models import PaymentRefund
from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from scheduling.actors import CUSTOMER
from scheduling.services.bookings import booking_cancel_with_refund
from tenants.roles import Role
from tests.factories import make_member, member_client

from .conftest import hold_now, in_schema


@pytest.fixture
def paid(alpha_account, catalogue, customer, sdk):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    payment = booking_payment_on_return(booking=booking)
    return booking, payment


@pytest.fixture
def manager(tenant_alpha):
    user = make_member(tenant_alpha, Role.MANAGER, name="Manon Manager")
    return member_client(tenant_alpha, user, verified=True)


def test_payments_list_shows_gross_fee_net_and_stripe_ids(paid, manager):
    booking, payment = paid

    page = manager.get("/payments/")

    assert page.status_code == 200
    text = page.content.decode()
    assert booking.reference in text
    assert "€45.00" in text and "€1.38" in text and "€43.62" in text
    assert payment.payment_intent_id in text and payment.charge_id in text
    assert (
        manager.get("/payments/", {"status": "refunded"}).content.decode().count(booking.reference)
        == 0
    )
    assert booking.reference in manager.get("/payments/", {"q": "chloé"}).content.decode()


def test_payment_detail_refund_and_history(paid, manager, tenant_alpha):
    booking, payment = paid

    response = manager.post(
        f"/payments/{payment.pk}/refund/",
        {"amount": "12.50", "reason": "Shortened session"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Refunded €12.50" in response.content.decode()
    in_schema(tenant_alpha)
    [refund] = PaymentRefund.objects.filter(payment=payment)
    assert refund.amount_minor == 1250
    assert refund.actor_label == "Manon Manager"
    assert refund.actor_user_id is not None
    detail = manager.get(f"/payments/{payment.pk}/").content.decode()
    assert "creneau.payment.refund_requested" in detail
    assert "Shortened session" in detail
    assert "€32.50 can still be refunded" in detail


@pytest.mark.parametrize(
    ("amount", "message"),
    [("45.01", "can still be refunded"), ("abc", "Enter an amount"), ("1.234", "decimals")],
)
def test_over_refund_and_bad_amounts_are_refused(paid, manager, tenant_alpha, amount, message):
    _, payment = paid
    response = manager.post(
        f"/payments/{payment.pk}/refund/", {"amount": amount, "reason": "x"}, follow=True
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    in_schema(tenant_alpha)
    assert not PaymentRefund.objects.exists()


def test_csv_export(paid, manager):
    booking, payment = paid

    response = manager.get("/payments/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["booking"] == booking.reference
    assert (row["paid_minor"], row["fee_minor"], row["net_minor"]) == ("4500", "138", "4362")
    assert row["payment_intent"] == payment.payment_intent_id


def test_balance_paid_at_the_venue(alpha_account, catalogue, customer, manager, tenant_alpha):
    from scheduling.models import Service

    service = catalogue["service"]
    Service.objects.filter(pk=service.pk).update(
        payment_mode="online_deposit", deposit_fixed_minor=1000
    )
    service.refresh_from_db()
    payment = booking_payment_start(booking=hold_now(service, customer))

    response = manager.post(f"/payments/{payment.pk}/balance-paid/", follow=True)

    assert response.status_code == 200
    in_schema(tenant_alpha)
    payment.refresh_from_db()
    assert payment.balance_paid_at is not None
    assert payment.events.filter(action="creneau.payment.balance_paid_at_venue").count() == 1


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.STAFF])
def test_front_desk_and_staff_cannot_see_money(paid, tenant_alpha, role):
    _, payment = paid
    client = member_client(tenant_alpha, make_member(tenant_alpha, role), verified=True)
    for path in ("/payments/", f"/payments/{payment.pk}/", "/payments/export.csv"):
        assert client.get(path).status_code == 403, path
    assert (
        client.post(
            f"/payments/{payment.pk}/refund/", {"amount": "1.00", "reason": "x"}
        ).status_code
        == 403
    )


def test_money_pages_need_a_second_factor(paid, tenant_alpha, owner_alpha):
    response = member_client(tenant_alpha, owner_alpha, verified=False).get("/payments/")
    assert response.status_code == 302
    assert "/payments/" not in response["Location"].split("?")[0]


def test_member_of_alpha_cannot_see_or_refund_beta_payments(paid, tenant_alpha, tenant_beta):
    _, payment = paid
    alpha_manager = make_member(tenant_alpha, Role.MANAGER)
    # Signed in on beta's host with alpha's membership only: every page is a 404.
    on_beta = member_client(tenant_beta, alpha_manager, verified=True)
    assert on_beta.get("/payments/").status_code == 404
    assert on_beta.get(f"/payments/{payment.pk}/").status_code == 404
    assert (
        on_beta.post(
            f"/payments/{payment.pk}/refund/", {"amount": "1.00", "reason": "x"}
        ).status_code
        == 404
    )
    # Beta's own owner sees beta's (empty) list, never alpha's payment, even by its id.
    beta_owner = tenant_beta.memberships.get(role=Role.OWNER).user
    beta = member_client(tenant_beta, beta_owner, verified=True)
    page = beta.get("/payments/")
    assert page.status_code == 200
    assert payment.payment_intent_id not in page.content.decode()
    assert beta.get(f"/payments/{payment.pk}/").status_code == 404
    assert (
        beta.post(f"/payments/{payment.pk}/refund/", {"amount": "1.00", "reason": "x"}).status_code
        == 404
    )
    connection.set_tenant(tenant_alpha)
    assert not PaymentRefund.objects.exists()


def test_payment_summary_for_the_staff_calendar(
    paid, alpha_account, catalogue, customer, tenant_alpha
):
    from connect_payments.selectors import payment_summary_for_staff
    from scheduling.models import Service

    booking, _ = paid
    in_schema(tenant_alpha)
    assert payment_summary_for_staff(booking) == {
        "label": "Paid online",
        "due_minor": 0,
        "currency": "EUR",
    }
    service = catalogue["service"]
    Service.objects.filter(pk=service.pk).update(payment_mode="pay_at_venue")
    service.refresh_from_db()
    at_venue = hold_now(service, customer, starts_at=booking.starts_at.replace(hour=13))
    assert payment_summary_for_staff(at_venue)["label"] == "To pay at the venue"
    assert payment_summary_for_staff(at_venue)["due_minor"] == 4500


def test_money_pages_show_booking_times_in_the_business_zone_day_first(paid, manager):
    booking, payment = paid  # 2030-06-04 10:00 in Paris (08:00 UTC)
    listing = manager.get("/payments/").content.decode()
    assert "Tue 4 Jun 2030, 10:00" in listing and "Times in Europe/Paris" in listing
    assert "a.m." not in listing and "8:00" not in listing
    detail = manager.get(f"/payments/{payment.pk}/").content.decode()
    assert "Tue 4 Jun 2030, 10:00" in detail and "(Europe/Paris)" in detail
    assert "a.m." not in detail and "p.m." not in detail


def test_a_booking_cancelled_with_no_refund_reads_so_beside_paid(paid, manager, tenant_alpha):
    booking, payment = paid
    in_schema(tenant_alpha)
    booking_cancel_with_refund(
        booking=booking, actor=CUSTOMER, by_business=False,
        now=booking.starts_at - timedelta(hours=1),  # inside the policy's no-refund window
    )  # fmt: skip
    listing = manager.get("/payments/").content.decode()
    assert "Paid · cancelled, no refund under policy" in listing
    detail = manager.get(f"/payments/{payment.pk}/").content.decode()
    assert "Paid · cancelled, no refund under policy" in detail
