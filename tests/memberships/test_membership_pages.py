"""Membership pages over HTTP against local Stripe: owners create and publish offers, the
members list and a member's page (amounts for owners and managers only), a customer joins,
cancels at period end and fixes a card from their account; customers see only their own."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection

from memberships.models import (
    Membership,
    MembershipOffer,
    MembershipOfferStatus,
    MembershipPeriod,
    MembershipStatus,
)
from scheduling.services.customer_sign_in import SESSION_KEY
from scheduling.services.customers import customer_upsert
from tenants.roles import Role
from tests.factories import client_for, make_member, member_client

from .membership_helpers import join_and_pay, new_clock, offer_on_sale


def _customer_client(tenant, customer):
    client = client_for(tenant)
    session = client.session
    session[SESSION_KEY] = {"id": customer.pk, "schema": tenant.schema_name}
    session.save()
    return client


def _back(tenant):
    connection.set_tenant(tenant)


@pytest.fixture
def owner(tenant_alpha, owner_alpha):
    return member_client(tenant_alpha, owner_alpha, verified=True)


def test_owner_creates_publishes_and_retires_an_offer(alpha_account, catalogue, owner, sdk,
                                                     tenant_alpha):  # fmt: skip
    response = owner.post("/memberships/", {
        "name": "Unlimited yoga", "price": "79.00", "interval": "month", "credits_per_period": "",
        "cap_per_day": "2", "rollover_max": "0", "services": [catalogue["service"].pk],
        "joining_fee": "25", "minimum_periods": "3",
    })  # fmt: skip
    assert response.status_code == 302, re.findall(r"errorlist.{0,200}", response.content.decode())
    _back(tenant_alpha)
    offer = MembershipOffer.objects.get(name="Unlimited yoga")
    assert (offer.price_minor, offer.credits_per_period, offer.cap_per_day) == (7900, None, 2)
    assert offer.joining_fee_minor == 2500 and offer.status == MembershipOfferStatus.DRAFT

    owner.post(f"/memberships/offers/{offer.pk}/status/", {"status": "on_sale"})
    _back(tenant_alpha)
    offer.refresh_from_db()
    assert offer.status == MembershipOfferStatus.ON_SALE
    price = sdk.v1.prices.retrieve(offer.stripe_price_id)
    assert price.unit_amount == 7900 and price.recurring.interval == "month"
    page = owner.get("/memberships/").content.decode()
    assert "Unlimited yoga" in page and "€79.00" in page

    owner.post(f"/memberships/offers/{offer.pk}/status/", {"status": "retired"})
    _back(tenant_alpha)
    offer.refresh_from_db()
    assert offer.status == MembershipOfferStatus.RETIRED


def test_a_bad_offer_is_a_form_error_not_a_500(catalogue, owner, tenant_alpha):
    response = owner.post("/memberships/", {
        "name": "Bad", "price": "-3", "interval": "fortnight", "credits_per_period": "4",
        "cap_per_day": "1", "rollover_max": "0", "services": [], "minimum_periods": "0",
    })  # fmt: skip
    assert response.status_code == 400
    _back(tenant_alpha)
    assert not MembershipOffer.objects.exists()


def test_staff_cannot_open_offers_and_front_desk_sees_members_without_amounts(
    alpha_account, catalogue, customer, sdk, tenant_alpha, owner
):
    offer = offer_on_sale([catalogue["service"]])
    membership = join_and_pay(sdk, offer, customer, clock=new_clock(sdk))
    from memberships.services.memberships import membership_join_returned

    membership_join_returned(membership=membership)
    staff = member_client(tenant_alpha, make_member(tenant_alpha, Role.STAFF, email="s@x.test"))
    desk = member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK, email="d@x.test"))
    assert staff.get("/memberships/").status_code == 403
    assert staff.get("/memberships/members/").status_code == 403
    listing = desk.get("/memberships/members/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert customer.name in text and "Monthly 8 classes" in text and "8 left" in text
    assert "€60.00" not in text
    detail = desk.get(f"/memberships/members/{membership.pk}/").content.decode()
    assert "€60.00" not in detail and "Refund this period" not in detail
    assert desk.post(f"/memberships/members/{membership.pk}/cancel/",
                     {"action": "end_now"}).status_code == 403  # fmt: skip
    owner_view = owner.get(f"/memberships/members/{membership.pk}/").content.decode()
    assert "€60.00" in owner_view and "Refund this period" in owner_view


def test_owner_refunds_a_period_with_the_fee_and_transfer_reversed(
    alpha_account, catalogue, customer, sdk, tenant_alpha, owner
):
    from memberships.services.memberships import membership_join_returned

    offer = offer_on_sale([catalogue["service"]])
    membership = membership_join_returned(
        membership=join_and_pay(sdk, offer, customer, clock=new_clock(sdk))
    )
    period = MembershipPeriod.objects.get(membership=membership)
    url = f"/memberships/members/{membership.pk}/periods/{period.pk}/refund/"
    assert owner.post(url).status_code == 302
    assert owner.post(url).status_code == 302  # twice: one refund
    _back(tenant_alpha)
    period.refresh_from_db()
    assert period.refunded_minor == 6000
    refunds = sdk.v1.refunds.list(params={"payment_intent": period.payment_intent_id}).data
    assert len(refunds) == 1
    charge = sdk.v1.charges.retrieve(period.charge_id)
    assert sdk.v1.application_fees.retrieve(charge.application_fee).amount_refunded == 150


def test_customer_joins_pays_and_cancels_at_period_end(alpha_account, catalogue, customer, sdk,
                                                       tenant_alpha):  # fmt: skip
    offer = offer_on_sale([catalogue["service"]])
    client = _customer_client(tenant_alpha, customer)
    listing = client.get("/my/memberships/")
    assert "Monthly 8 classes" in listing.content.decode()
    joined = client.post(f"/my/memberships/join/{offer.pk}/")
    assert joined.status_code == 302
    _back(tenant_alpha)
    membership = Membership.objects.get(customer=customer)
    page = client.get(joined["Location"]).content.decode()
    config = json.loads(
        re.search(r'id="cr-membership-payment" type="application/json">(.*?)</script>', page).group(
            1
        )
    )
    assert config["mode"] == "payment" and config["client_secret"] == membership.client_secret
    # The Payment Element would confirm this PaymentIntent with the card typed in.
    sdk.v1.payment_intents.confirm(
        config["client_secret"].split("_secret_")[0], params={"payment_method": "pm_card_visa"}
    )
    page = client.get(config["return_url"]).content.decode()
    assert 'id="cr-membership-status">Active' in page and "Next renewal" in page
    account = client.get("/my/").content.decode()
    assert "Your memberships" in account and "next renewal" in account

    assert client.post(f"/my/memberships/{membership.pk}/cancel/").status_code == 302
    _back(tenant_alpha)
    membership.refresh_from_db()
    assert membership.cancel_at_period_end
    assert sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id).cancel_at_period_end
    client.post(f"/my/memberships/{membership.pk}/cancel/", {"cancel": "0"})
    _back(tenant_alpha)
    membership.refresh_from_db()
    assert not membership.cancel_at_period_end and membership.status == MembershipStatus.ACTIVE


def test_customers_see_only_their_own_membership(alpha_account, catalogue, customer, sdk,
                                                 tenant_alpha):  # fmt: skip
    offer = offer_on_sale([catalogue["service"]])
    membership = join_and_pay(sdk, offer, customer, clock=new_clock(sdk))
    other = customer_upsert(name="Eve", email="eve@example.test")
    intruder = _customer_client(tenant_alpha, other)
    assert intruder.get(f"/my/memberships/{membership.pk}/").status_code == 404
    assert intruder.post(f"/my/memberships/{membership.pk}/cancel/").status_code == 404
    assert intruder.get(f"/my/memberships/{membership.pk}/card/").status_code == 404
    anonymous = client_for(tenant_alpha)
    assert anonymous.get(f"/my/memberships/{membership.pk}/")["Location"] == "/my/sign-in/"
    assert anonymous.post(f"/my/memberships/join/{offer.pk}/")["Location"] == "/my/sign-in/"


def test_card_page_saves_the_new_card_through_a_setup_intent(alpha_account, catalogue, customer,
                                                             sdk, tenant_alpha):  # fmt: skip
    from memberships.services.memberships import membership_join_returned

    offer = offer_on_sale([catalogue["service"]])
    membership = membership_join_returned(
        membership=join_and_pay(sdk, offer, customer, clock=new_clock(sdk))
    )
    client = _customer_client(tenant_alpha, customer)
    page = client.get(f"/my/memberships/{membership.pk}/card/").content.decode()
    config = json.loads(
        re.search(r'id="cr-membership-payment" type="application/json">(.*?)</script>', page).group(
            1
        )
    )
    assert config["mode"] == "setup"
    setup_id = config["client_secret"].split("_secret_")[0]
    sdk.v1.setup_intents.confirm(setup_id, params={"payment_method": "pm_card_mastercard"})
    done = client.get(f"/my/memberships/{membership.pk}/card/?setup_intent={setup_id}")
    assert done.status_code == 302
    _back(tenant_alpha)
    subscription = sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id)
    assert (
        subscription.default_payment_method
        == sdk.v1.setup_intents.retrieve(setup_id).payment_method
    )
    # A SetupIntent of another customer is refused, not applied.
    foreign = sdk.v1.customers.create(params={"email": "x@example.test"})
    other = sdk.v1.setup_intents.create(
        params={"customer": foreign.id, "payment_method_types": ["card"]}
    )
    sdk.v1.setup_intents.confirm(other.id, params={"payment_method": "pm_card_visa"})
    refused = client.get(f"/my/memberships/{membership.pk}/card/?setup_intent={other.id}")
    assert refused.status_code == 400
    _back(tenant_alpha)
    assert (
        sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id).default_payment_method
        == subscription.default_payment_method
    )


def test_memberships_of_one_business_are_unknown_to_another(
    alpha_account, catalogue, customer, sdk, tenant_alpha, tenant_beta, owner_beta
):
    offer = offer_on_sale([catalogue["service"]])
    membership = join_and_pay(sdk, offer, customer, clock=new_clock(sdk))
    # The alpha customer's session sent to beta's host is no session there.
    session_of_alpha = _customer_client(tenant_alpha, customer)
    on_beta = client_for(tenant_beta)
    on_beta.cookies = session_of_alpha.cookies
    response = on_beta.get(f"/my/memberships/{membership.pk}/")
    assert response.status_code == 302 and response["Location"] == "/my/sign-in/"
    # Beta's owner sees neither alpha's members nor alpha's offer.
    beta_owner = member_client(tenant_beta, owner_beta, verified=True)
    assert beta_owner.get(f"/memberships/members/{membership.pk}/").status_code == 404
    assert customer.name not in beta_owner.get("/memberships/members/").content.decode()
    assert beta_owner.get(f"/memberships/offers/{offer.pk}/").status_code == 404
