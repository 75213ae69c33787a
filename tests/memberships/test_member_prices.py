"""Member prices on services a membership does not cover (memberships/pricing.py through
`scheduling.ports.pricing()`): applied by the public hold API only to the customer a signed-in
account session identifies, never to a typed email, a past-due member, or another business's
customer; the Stripe PaymentIntent charges the member price (local Stripe over HTTP)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from memberships.models import Membership, MembershipStatus
from memberships.pricing import member_price_of
from memberships.services.memberships import membership_join_returned
from scheduling.models import Booking, BookingEvent, Service
from scheduling.services.customer_sign_in import customer_sign_in_request, sign_in_token_of
from scheduling.services.customers import customer_upsert
from tests.connect_payments.conftest import TEN_AM, in_schema
from tests.factories import host_of
from tests.scheduling.conftest import build_catalogue

from .membership_helpers import join_and_pay, new_clock, offer_on_sale

MASSAGE_PRICE = 4500  # build_catalogue's service, not covered by the membership
MEMBER_PRICE = 3600  # 20 % off


@pytest.fixture
def yoga(catalogue):
    """The class the membership covers (its credits pay for it)."""
    yoga = Service.objects.create(name="Yoga", duration_minutes=60, price_minor=1500,
                                  payment_mode="online_full", minimum_notice_minutes=0,
                                  maximum_advance_days=365 * 10)  # fmt: skip
    yoga.staff.add(catalogue["ada"])
    return yoga


@pytest.fixture
def gold(alpha_account, yoga):
    return offer_on_sale([yoga], name="Gold membership", member_discount_percent=20)


@pytest.fixture
def member(gold, customer, sdk):
    """Chloé joins Gold through local Stripe and pays the first invoice: an active member."""
    membership = join_and_pay(sdk, gold, customer, clock=new_clock(sdk))
    membership = membership_join_returned(membership=membership)
    assert membership.status == MembershipStatus.ACTIVE
    return membership


def signed_in_client(tenant, customer) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    token = sign_in_token_of(customer_sign_in_request(email=customer.email))
    assert client.post(f"/my/sign-in/{token}/").status_code == 302
    in_schema(tenant)
    return client


def hold_through_the_api(client: Client, tenant, service, *, start=TEN_AM) -> dict:
    response = client.post("/api/v1/bookings/", json.dumps({
        "service": service.pk, "start": start.isoformat(),
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    }), content_type="application/json")  # fmt: skip
    in_schema(tenant)
    assert response.status_code == 201, response.content
    return response.json()


def test_member_price_is_a_percentage_off_rounded_half_up_and_never_zero():
    assert member_price_of(price_minor=4500, percent_off=20) == 3600
    assert member_price_of(price_minor=999, percent_off=15) == 849  # 149.85 → 150 off
    assert member_price_of(price_minor=100, percent_off=100) == 1  # capped at 99 %


def test_signed_in_active_member_pays_the_member_price_and_stripe_charges_it(
    member, catalogue, customer, tenant_alpha, sdk
):
    client = signed_in_client(tenant_alpha, customer)
    offer = client.get("/my/credit-offer/", {"service": catalogue["service"].pk,
                                              "start": TEN_AM.isoformat()})  # fmt: skip
    in_schema(tenant_alpha)
    assert offer.json()["member_price"] == {"price_minor": MEMBER_PRICE,
        "normal_minor": MASSAGE_PRICE, "percent_off": 20, "label": "Gold membership"}  # fmt: skip

    held = hold_through_the_api(client, tenant_alpha, catalogue["service"])
    assert held["price_minor"] == MEMBER_PRICE
    assert held["payment"]["amount_minor"] == MEMBER_PRICE
    intent_id = held["payment"]["client_secret"].split("_secret_")[0]
    assert sdk.v1.payment_intents.retrieve(intent_id).amount == MEMBER_PRICE
    booking = Booking.objects.get(reference=held["reference"])
    event = BookingEvent.objects.get(booking=booking, action="creneau.booking.held")
    assert event.data["member_price"]["membership"] == "Gold membership"


def test_a_typed_members_email_without_the_account_session_pays_the_normal_price(
    member, catalogue, tenant_alpha, sdk
):
    anonymous = Client(HTTP_HOST=host_of(tenant_alpha))
    held = hold_through_the_api(anonymous, tenant_alpha, catalogue["service"])
    assert held["price_minor"] == MASSAGE_PRICE
    intent_id = held["payment"]["client_secret"].split("_secret_")[0]
    assert sdk.v1.payment_intents.retrieve(intent_id).amount == MASSAGE_PRICE


def test_signed_in_as_someone_else_typing_a_members_email_pays_the_normal_price(
    member, catalogue, tenant_alpha
):
    other = customer_upsert(name="Other", email="other@example.test")
    client = signed_in_client(tenant_alpha, other)
    held = hold_through_the_api(client, tenant_alpha, catalogue["service"])
    assert held["price_minor"] == MASSAGE_PRICE


def test_a_past_due_member_pays_the_normal_price(member, catalogue, customer, tenant_alpha):
    Membership.objects.filter(pk=member.pk).update(status=MembershipStatus.PAST_DUE)
    client = signed_in_client(tenant_alpha, customer)
    offer = client.get("/my/credit-offer/", {"service": catalogue["service"].pk,
                                              "start": TEN_AM.isoformat()})  # fmt: skip
    in_schema(tenant_alpha)
    assert offer.json()["member_price"] is None
    held = hold_through_the_api(client, tenant_alpha, catalogue["service"])
    assert held["price_minor"] == MASSAGE_PRICE


def test_covered_services_get_no_member_price(member, yoga, customer, tenant_alpha):
    client = signed_in_client(tenant_alpha, customer)
    held = hold_through_the_api(client, tenant_alpha, yoga)
    assert held["price_minor"] == 1500  # booked with credits, or at its price


def test_a_member_of_one_business_is_unknown_to_another(member, customer, tenant_beta):
    with tenant_context(tenant_beta):
        service = build_catalogue()["service"]
        Service.objects.filter(pk=service.pk).update(payment_mode="pay_at_venue")
        chloe_at_beta = customer_upsert(name="Chloé Client", email=customer.email)
        client = signed_in_client(tenant_beta, chloe_at_beta)
        new_york_ten_am = datetime(2030, 6, 4, 10, tzinfo=ZoneInfo("America/New_York"))
        held = hold_through_the_api(client, tenant_beta, service, start=new_york_ten_am)
        assert held["price_minor"] == MASSAGE_PRICE
        assert not BookingEvent.objects.filter(data__has_key="member_price").exists()


def test_the_team_booking_an_active_member_gives_the_member_price(member, catalogue, tenant_alpha):
    from tests.factories import make_member, member_client

    desk = member_client(tenant_alpha, make_member(tenant_alpha, "front_desk"))
    response = desk.post("/bookings/new/", {
        "service": catalogue["service"].pk, "staff": catalogue["ada"].pk, "date": "2030-06-04",
        "slot": "10:00", "time": "", "name": "Chloé Client", "email": "chloe@example.test",
        "phone": "", "notes": "", "book": "1",
    })  # fmt: skip
    in_schema(tenant_alpha)
    assert response.status_code == 302
    assert Booking.objects.get(customer=member.customer).price_minor == MEMBER_PRICE


def test_a_fixed_promo_worth_the_member_price_is_refused_and_the_hold_released(
    member, catalogue, customer, tenant_alpha, sdk
):
    """A €40 code is fine on the €45 massage (checked before the hold) but would leave the
    member's €36 at nothing to pay: 400 promo_code_invalid, the hold released, no payment."""
    from connect_payments.models import BookingPayment, PromoCode

    PromoCode.objects.create(code="FORTY", kind="fixed", amount_minor=4000)
    client = signed_in_client(tenant_alpha, customer)
    response = client.post("/api/v1/bookings/", json.dumps({
        "service": catalogue["service"].pk, "start": TEN_AM.isoformat(), "promo_code": "FORTY",
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    }), content_type="application/json")  # fmt: skip
    in_schema(tenant_alpha)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "promo_code_invalid"
    assert not BookingPayment.objects.exists()
    assert not Booking.objects.filter(status="held").exists()
    anonymous = Client(HTTP_HOST=host_of(tenant_alpha))  # the normal price still takes it
    response = anonymous.post("/api/v1/bookings/", json.dumps({
        "service": catalogue["service"].pk, "start": TEN_AM.isoformat(), "promo_code": "FORTY",
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    }), content_type="application/json")  # fmt: skip
    in_schema(tenant_alpha)
    assert response.status_code == 201, response.content
    assert response.json()["payment"]["amount_minor"] == MASSAGE_PRICE - 4000
