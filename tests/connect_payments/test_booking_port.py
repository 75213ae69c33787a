"""connect_payments answers scheduling's Payments port; without it the defaults move no money."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django_tenants.utils import tenant_context

from connect_payments.booking_port import ConnectPayments
from scheduling import ports
from scheduling.models import Booking, Service, StaffMember, WorkingHours
from scheduling.services.bookings import booking_hold
from scheduling.services.customers import customer_upsert

PARIS = ZoneInfo("Europe/Paris")


def test_connect_payments_registered_its_port_at_start_up():
    # A missing registration would fail quietly (no refunds, "pay at the venue" everywhere).
    assert isinstance(ports.payments(), ConnectPayments)


def _unsaved_booking(payment_mode: str, price_minor: int) -> Booking:
    service = Service(name="Cut", duration_minutes=30, price_minor=price_minor,
                      payment_mode=payment_mode)  # fmt: skip
    return Booking(service=service, payment_mode=payment_mode, price_minor=price_minor,
                   currency="EUR")  # fmt: skip


def test_the_default_answers_pretend_no_money_moved():
    default = ports.NoPayments()
    booking = _unsaved_booking("online_full", 4500)
    assert default.cancellation_amounts(booking=booking) == (0, 0)
    assert default.receipt(booking=booking) is None
    assert default.after_hold(booking=booking) is None
    check = default.online_payment_check()
    assert check(Service(payment_mode="online_full", price_minor=4500)) is False
    assert check(Service(payment_mode="online_deposit", price_minor=4500)) is False
    assert check(Service(payment_mode="online_full", price_minor=0)) is True
    assert check(Service(payment_mode="pay_at_venue", price_minor=4500)) is True
    assert default.staff_summary(booking=_unsaved_booking("free", 0), with_money=True) == {
        "label": "Free", "due_minor": 0, "currency": "EUR", "detail_url": "",
    }  # fmt: skip
    assert default.staff_summary(booking=booking, with_money=False)["due_minor"] == 4500


def test_a_booking_paid_at_the_venue_has_no_receipt_and_is_due_in_full(tenant_alpha):
    with tenant_context(tenant_alpha):
        staff = StaffMember.objects.create(display_name="Ada")
        WorkingHours.objects.create(staff=staff, weekday=1, start=time(9), end=time(18))
        service = Service.objects.create(name="Cut", duration_minutes=30, price_minor=3000,
                                         payment_mode="pay_at_venue")  # fmt: skip
        service.staff.add(staff)
        customer = customer_upsert(name="Chloé", email="chloe@example.test", phone="")
        starts = datetime(2030, 6, 4, 10, tzinfo=PARIS)  # a Tuesday
        booking = booking_hold(service=service, starts_at=starts, customer=customer,
                               now=datetime(2030, 6, 3, 8, tzinfo=PARIS))  # fmt: skip
        port = ports.payments()
        assert port.receipt(booking=booking) is None
        assert port.cancellation_amounts(booking=booking) == (0, 0)
        summary = port.staff_summary(booking=booking, with_money=True)
        assert summary["label"] == "To pay at the venue"
        assert summary["due_minor"] == 3000
        assert summary["detail_url"] == ""
