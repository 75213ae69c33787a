"""Promo codes: validated at hold time, the discount frozen on the payment, redemptions counted
for confirmed bookings and live holds."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from connect_payments.exceptions import PromoCodeInvalid
from connect_payments.models import BookingPayment, PromoCode
from connect_payments.services.booking_payments import booking_payment_start
from connect_payments.services.promo_codes import promo_code_for_hold
from scheduling.actors import SYSTEM
from scheduling.models import Booking, BookingStatus, Service
from scheduling.services.bookings import booking_cancel, booking_confirm
from scheduling.services.customers import customer_upsert
from tests.factories import client_for

from .conftest import TEN_AM, hold_now, in_schema


def promo(code="SPRING", **fields) -> PromoCode:
    fields.setdefault("kind", "percent")
    if fields["kind"] == "percent":
        fields.setdefault("percent", 20)
    return PromoCode.objects.create(code=code, **fields)


def check(service, code, email="chloe@example.test"):
    return promo_code_for_hold(code=code, service=service, customer_email=email)


def test_percent_code_discounts_the_price_and_the_fee_follows(
    alpha_account, catalogue, customer, sdk
):
    service = catalogue["service"]
    promo()
    code = check(service, " spring ")

    payment = booking_payment_start(booking=hold_now(service, customer), promo=code)

    assert (payment.discount_minor, payment.amount_minor) == (900, 3600)
    assert payment.fee_minor == 115  # 2.5 % of 36.00 = 90, + 25
    assert payment.promo_code == code
    assert sdk.v1.payment_intents.retrieve(payment.payment_intent_id).amount == 3600


def test_fixed_code_on_a_deposit(alpha_account, catalogue, customer):
    service = catalogue["service"]
    Service.objects.filter(pk=service.pk).update(payment_mode="online_deposit", deposit_percent=30)
    service.refresh_from_db()
    code = promo("TENOFF", kind="fixed", amount_minor=1000)

    payment = booking_payment_start(
        booking=hold_now(service, customer), promo=check(service, "tenoff")
    )

    # 45.00 − 10.00 = 35.00; 30 % deposit = 10.50 online, 24.50 at the venue.
    assert (payment.discount_minor, payment.amount_minor, payment.balance_due_minor) == (
        1000,
        1050,
        2450,
    )
    assert payment.promo_code == code


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"valid_until": timezone.now() - timedelta(minutes=1)}, "expired"),
        ({"valid_from": timezone.now() + timedelta(days=1)}, "not valid yet"),
        ({"is_active": False}, "does not exist"),
        ({"kind": "percent", "percent": 100}, "cannot be used for this service"),
    ],
)
def test_unusable_codes_are_refused(alpha_account, catalogue, fields, message):
    promo(**fields)
    with pytest.raises(PromoCodeInvalid) as caught:
        check(catalogue["service"], "SPRING")
    assert message in str(caught.value)
    assert caught.value.http_status == 400


def test_code_for_another_service_is_refused(alpha_account, catalogue):
    other = Service.objects.create(
        name="Other", duration_minutes=30, price_minor=1000, payment_mode="online_full"
    )
    promo().services.add(other)
    with pytest.raises(PromoCodeInvalid, match="does not apply to this service"):
        check(catalogue["service"], "SPRING")
    assert check(other, "SPRING").code == "SPRING"


def test_live_holds_and_confirmed_bookings_use_up_a_code(alpha_account, catalogue, customer):
    service = catalogue["service"]
    promo(max_redemptions=1)
    first = hold_now(service, customer)
    booking_payment_start(booking=first, promo=check(service, "SPRING"))

    # The live hold reserves the last use: it could otherwise be sold twice at confirmation.
    with pytest.raises(PromoCodeInvalid, match="used up"):
        check(service, "SPRING", email="someone.else@example.test")

    booking_confirm(booking=first)
    with pytest.raises(PromoCodeInvalid, match="used up"):
        check(service, "SPRING", email="someone.else@example.test")


def test_expired_and_cancelled_holds_give_the_use_back(alpha_account, catalogue, customer):
    service = catalogue["service"]
    promo(max_redemptions=1)
    # Run out but not yet swept by the expiry task: it no longer holds anything.
    stale = hold_now(service, customer, hold_minutes_ago=60)
    booking_payment_start(booking=stale, promo=check(service, "SPRING"))
    assert check(service, "SPRING").code == "SPRING"

    cancelled = hold_now(service, customer, starts_at=TEN_AM + timedelta(hours=2))
    booking_payment_start(booking=cancelled, promo=check(service, "SPRING"))
    with pytest.raises(PromoCodeInvalid, match="used up"):
        check(service, "SPRING")
    booking_cancel(booking=cancelled, actor=SYSTEM, by_business=False)
    assert check(service, "SPRING").code == "SPRING"


def test_a_hold_that_lost_the_last_use_is_released(alpha_account, catalogue, customer):
    """Checked before the hold, taken by another hold before the payment was reserved."""
    service = catalogue["service"]
    promo(max_redemptions=1)
    late = check(service, "SPRING", email="late@example.test")
    booking_payment_start(booking=hold_now(service, customer), promo=check(service, "SPRING"))
    other = customer_upsert(name="Late", email="late@example.test")
    held = hold_now(service, other, starts_at=TEN_AM + timedelta(hours=2))

    with pytest.raises(PromoCodeInvalid, match="used up"):
        booking_payment_start(booking=held, promo=late)

    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED
    assert not BookingPayment.objects.filter(booking=held).exists()


def test_per_customer_limit(alpha_account, catalogue, customer):
    service = catalogue["service"]
    promo(max_per_customer=1)
    booking = hold_now(service, customer)
    booking_payment_start(booking=booking, promo=check(service, "SPRING"))
    booking_confirm(booking=booking)

    with pytest.raises(PromoCodeInvalid, match="already used"):
        check(service, "spring", email="CHLOE@example.test")
    other = customer_upsert(name="Other", email="other@example.test")
    assert check(service, "SPRING", email=other.email) is not None


def test_codes_only_for_services_paid_online(alpha_account, catalogue):
    service = catalogue["service"]
    Service.objects.filter(pk=service.pk).update(payment_mode="pay_at_venue")
    service.refresh_from_db()
    promo()
    with pytest.raises(PromoCodeInvalid, match="paid online"):
        check(service, "SPRING")
    assert check(service, "") is None


def test_hold_through_the_api_with_a_code(alpha_account, catalogue, tenant_alpha):
    promo(valid_until=timezone.now() + timedelta(days=1))
    api = client_for(tenant_alpha)
    body = {
        "service": catalogue["service"].pk,
        "start": TEN_AM.isoformat(),
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    }

    for bad in ("NOPE", 42):
        refused = api.post(
            "/api/v1/bookings/",
            json.dumps({**body, "promo_code": bad}),
            content_type="application/json",
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "promo_code_invalid"
    in_schema(tenant_alpha)
    assert not Booking.objects.exists()

    created = api.post(
        "/api/v1/bookings/",
        json.dumps({**body, "promo_code": "spring"}),
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    payment = created.json()["payment"]
    assert (payment["amount_minor"], payment["discount_minor"], payment["promo_code"]) == (
        3600,
        900,
        "SPRING",
    )
    in_schema(tenant_alpha)
    assert BookingPayment.objects.get().promo_code.code == "SPRING"


def test_managers_create_and_deactivate_codes(alpha, catalogue, tenant_alpha):
    from tenants.roles import Role
    from tests.factories import make_member, member_client

    manager = member_client(tenant_alpha, make_member(tenant_alpha, Role.MANAGER), verified=True)

    made = manager.post(
        "/payments/promo-codes/",
        {
            "code": "summer-10",
            "kind": "fixed",
            "value": "10.00",
            "max_per_customer": "1",
            "services": [catalogue["service"].pk],
        },
    )
    duplicate = manager.post(
        "/payments/promo-codes/", {"code": "SUMMER-10", "kind": "percent", "value": "5"}
    )
    bad_percent = manager.post(
        "/payments/promo-codes/", {"code": "BAD", "kind": "percent", "value": "150"}
    )
    bad_amount = manager.post(
        "/payments/promo-codes/", {"code": "BAD2", "kind": "fixed", "value": "1.234"}
    )

    assert made.status_code == 302
    assert [duplicate.status_code, bad_percent.status_code, bad_amount.status_code] == [400] * 3
    assert b"already exists" in duplicate.content
    in_schema(tenant_alpha)
    [code] = PromoCode.objects.all()
    assert (code.code, code.kind, code.amount_minor, code.max_per_customer) == (
        "SUMMER-10",
        "fixed",
        1000,
        1,
    )
    assert list(code.services.all()) == [catalogue["service"]]
    page = manager.get("/payments/promo-codes/")
    assert b"SUMMER-10" in page.content and "€10.00".encode() in page.content

    manager.post(f"/payments/promo-codes/{code.pk}/deactivate/")
    in_schema(tenant_alpha)
    code.refresh_from_db()
    assert not code.is_active


def test_front_desk_cannot_manage_codes(alpha, tenant_alpha):
    from tenants.roles import Role
    from tests.factories import make_member, member_client

    desk = member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK), verified=True)
    assert desk.get("/payments/promo-codes/").status_code == 403
    assert (
        desk.post(
            "/payments/promo-codes/", {"code": "X123", "kind": "percent", "value": "5"}
        ).status_code
        == 403
    )
    in_schema(tenant_alpha)
    assert not PromoCode.objects.exists()


def test_discount_is_shown_on_the_money_pages(alpha_account, catalogue, customer, tenant_alpha):
    import csv
    import io

    from tenants.roles import Role
    from tests.factories import make_member, member_client

    promo()
    service = catalogue["service"]
    payment = booking_payment_start(
        booking=hold_now(service, customer), promo=check(service, "SPRING")
    )
    manager = member_client(tenant_alpha, make_member(tenant_alpha, Role.MANAGER), verified=True)

    detail = manager.get(f"/payments/{payment.pk}/").content.decode()
    export = manager.get("/payments/export.csv")

    assert "SPRING" in detail and "−€9.00" in detail
    [row] = csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode()))
    assert (row["promo_code"], row["discount_minor"], row["amount_minor"]) == (
        "SPRING",
        "900",
        "3600",
    )


def test_promo_code_dates_are_typed_and_shown_in_the_business_zone(alpha, catalogue, tenant_alpha):
    from datetime import UTC, datetime

    from tenants.roles import Role
    from tests.factories import make_member, member_client

    manager = member_client(tenant_alpha, make_member(tenant_alpha, Role.MANAGER), verified=True)
    made = manager.post("/payments/promo-codes/", {
        "code": "JULY", "kind": "percent", "value": "10", "valid_from": "2030-07-01 09:00",
    })  # fmt: skip
    assert made.status_code == 302
    in_schema(tenant_alpha)
    assert PromoCode.objects.get(code="JULY").valid_from == datetime(2030, 7, 1, 7, tzinfo=UTC)
    page = manager.get("/payments/promo-codes/").content.decode()
    assert "Mon 1 Jul 2030, 09:00" in page and "a.m." not in page
    skipped = manager.post("/payments/promo-codes/", {  # the clocks skip 02:30 that night
        "code": "SPRUNG", "kind": "percent", "value": "10", "valid_from": "2030-03-31 02:30",
    })  # fmt: skip
    assert skipped.status_code == 400
    assert "may be ambiguous or it may not exist" in skipped.content.decode()
