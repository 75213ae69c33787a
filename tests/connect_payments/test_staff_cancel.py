"""A cancellation from the staff calendar refunds the customer through Stripe."""

from datetime import timedelta

from connect_payments.models import PaymentStatus
from scheduling import views_calendar
from scheduling.models import BookingStatus
from tenants.roles import Role
from tests.factories import make_member, member_client

from .test_refunds import stripe_amounts


def test_staff_cancellation_refunds_everything_paid(paid, sdk, tenant_alpha, monkeypatch):
    booking, payment = paid
    # Two hours before the start: the customer's own policy would refund nothing, but the
    # business cancels, so everything paid goes back, application fee included.
    monkeypatch.setattr(views_calendar, "_now", lambda: booking.starts_at - timedelta(hours=2))
    desk = member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK))

    preview = desk.get(f"/bookings/{booking.reference}/cancel/")
    assert preview.status_code == 200
    assert "45.00" not in preview.content.decode()  # front desk sees no amounts
    response = desk.post(f"/bookings/{booking.reference}/cancel/", {"reason": "Therapist ill"})

    assert response.status_code == 302
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_minor == payment.paid_minor == 4500
    assert stripe_amounts(sdk, payment) == (4500, 138, 4362)


def test_booking_page_shows_paid_to_everyone_and_the_money_record_to_owners(
    paid, tenant_alpha, owner_alpha
):
    booking, payment = paid
    desk = member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK))
    page = desk.get(f"/bookings/{booking.reference}/").content.decode()
    assert "Paid online" in page
    assert f"/payments/{payment.pk}/" not in page
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    assert (
        f"/payments/{payment.pk}/" in owner.get(f"/bookings/{booking.reference}/").content.decode()
    )
