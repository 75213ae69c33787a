"""Staff with money rights waive or refund a fee with a reason (audited); the customer sees and
removes their saved cards on their account page (detached at Stripe); one business never reaches
another's fees, pay links or cards."""

import re

import pytest
from django.core import mail
from django.test import Client

from connect_payments.models import FeeCharge, FeeStatus, SavedCard
from tenants.roles import Role
from tests.factories import client_for, host_of, make_member, member_client

from .cards_support import an_hour_ago, book_with_card, card_service, move_start
from .conftest import in_schema


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def manager(tenant_alpha):
    user = make_member(tenant_alpha, Role.MANAGER, name="Manon Manager")
    return member_client(tenant_alpha, user, verified=True)


@pytest.fixture
def desk(tenant_alpha):
    return member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK), verified=True)


def no_show_fee(api, sdk, base_url, service, desk, tenant, captured, payment_method):
    created = book_with_card(api, sdk, base_url, service, payment_method=payment_method)
    move_start(tenant, created["reference"], an_hour_ago())
    with captured(execute=True):
        desk.post(f"/bookings/{created['reference']}/no-show/")
    in_schema(tenant)
    return FeeCharge.objects.get(booking__reference=created["reference"])


@pytest.fixture
def service(alpha_account, catalogue):
    return card_service(catalogue["service"])


def test_paid_fee_is_refunded_with_a_reason(
    service, api, sdk, stripe_base_url, desk, manager, tenant_alpha,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    fee = no_show_fee(api, sdk, stripe_base_url, service, desk, tenant_alpha,
                      django_capture_on_commit_callbacks, "pm_card_visa")  # fmt: skip
    assert fee.status == FeeStatus.PAID

    # Front desk has no money rights: neither the record nor the refund.
    assert desk.get(f"/payments/fees/{fee.pk}/").status_code in (403, 404)
    assert desk.post(f"/payments/fees/{fee.pk}/refund/", {"reason": "x"}).status_code in (403, 404)
    assert manager.post(f"/payments/fees/{fee.pk}/refund/", {"reason": ""}).status_code == 302
    in_schema(tenant_alpha)
    assert FeeCharge.objects.get(pk=fee.pk).status == FeeStatus.PAID  # no reason: refused

    response = manager.post(
        f"/payments/fees/{fee.pk}/refund/", {"reason": "Her train was cancelled"}
    )

    assert response.status_code == 302
    in_schema(tenant_alpha)
    fee.refresh_from_db()
    assert fee.status == FeeStatus.REFUNDED
    refund = sdk.v1.refunds.retrieve(fee.refund_id)
    assert (refund.amount, refund.status) == (2000, "succeeded")
    assert refund.payment_intent == fee.payment_intent_id
    event = fee.events.get(action="creneau.fee.refunded")
    assert (event.actor_label, event.message) == ("Manon Manager", "Her train was cancelled")
    assert event.actor_user_id is not None
    page = manager.get(f"/payments/fees/{fee.pk}/").content.decode()
    assert "Refunded" in page and "Her train was cancelled" in page
    # Refunding twice does nothing more.
    manager.post(f"/payments/fees/{fee.pk}/refund/", {"reason": "again"})
    in_schema(tenant_alpha)
    assert len(sdk.v1.refunds.list(params={"payment_intent": fee.payment_intent_id}).data) == 1


def test_fee_awaiting_the_customer_is_waived_and_can_no_longer_be_paid(
    service, api, sdk, stripe_base_url, desk, manager, tenant_alpha,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    fee = no_show_fee(api, sdk, stripe_base_url, service, desk, tenant_alpha,
                      django_capture_on_commit_callbacks,
                      "pm_card_authenticationRequired")  # fmt: skip
    assert fee.status == FeeStatus.AWAITING_CUSTOMER

    response = manager.post(f"/payments/fees/{fee.pk}/waive/", {"reason": "First visit"})

    assert response.status_code == 302
    in_schema(tenant_alpha)
    fee.refresh_from_db()
    assert fee.status == FeeStatus.WAIVED
    assert sdk.v1.payment_intents.retrieve(fee.payment_intent_id).status == "canceled"
    event = fee.events.get(action="creneau.fee.waived")
    assert event.message == "First visit" and event.actor_user_id is not None
    # The link in the email now says there is nothing to pay.
    link = re.search(r"/manage/fee/\d+/\?token=\S+", mail.outbox[0].body).group(0)
    page = api.get(link)
    assert page.status_code == 200 and b"cr-fee-pay" not in page.content


def sign_in(tenant, email: str, captured) -> Client:
    """The customer's real sign-in: ask for a link (emailed after commit), use it (POST)."""
    client = client_for(tenant)
    mail.outbox.clear()
    with captured(execute=True):
        client.post("/my/sign-in/", {"email": email})
    link = re.search(r"/my/sign-in/[^/\s]+/", mail.outbox[-1].body).group(0)
    assert client.post(link).status_code == 302
    return client


def test_customer_removes_a_saved_card_and_it_is_detached(
    service, api, sdk, stripe_base_url, tenant_alpha, django_capture_on_commit_callbacks
):
    book_with_card(api, sdk, stripe_base_url, service)
    in_schema(tenant_alpha)
    card = SavedCard.objects.get()
    customer = sign_in(tenant_alpha, "chloe@example.test", django_capture_on_commit_callbacks)

    page = customer.get("/my/").content.decode()
    assert "Saved cards" in page and "Visa •••• 4242" in page
    assert card.payment_method_id not in page
    response = customer.post(f"/my/cards/{card.pk}/remove/")

    assert response.status_code == 302
    in_schema(tenant_alpha)
    card.refresh_from_db()
    assert card.removed_at is not None
    assert sdk.v1.payment_methods.retrieve(card.payment_method_id).customer is None
    assert "Visa •••• 4242" not in customer.get("/my/").content.decode()


def test_another_customer_cannot_remove_the_card(
    service, api, sdk, stripe_base_url, tenant_alpha, django_capture_on_commit_callbacks
):
    book_with_card(api, sdk, stripe_base_url, service)
    book_with_card(api, sdk, stripe_base_url, service, email="dan@example.test",
                   starts_at=service_start_later())  # fmt: skip
    in_schema(tenant_alpha)
    chloe_card = SavedCard.objects.get(owner__customer__email="chloe@example.test")
    dan = sign_in(tenant_alpha, "dan@example.test", django_capture_on_commit_callbacks)

    assert dan.post(f"/my/cards/{chloe_card.pk}/remove/").status_code == 404
    assert client_for(tenant_alpha).post(f"/my/cards/{chloe_card.pk}/remove/").status_code == 302
    in_schema(tenant_alpha)
    assert SavedCard.objects.get(pk=chloe_card.pk).removed_at is None


def service_start_later():
    from datetime import timedelta

    from .conftest import TEN_AM

    return TEN_AM + timedelta(days=1)


def test_tenant_isolation_of_fees_pay_links_and_cards(
    service, api, sdk, stripe_base_url, desk, tenant_alpha, tenant_beta, owner_beta,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    fee = no_show_fee(api, sdk, stripe_base_url, service, desk, tenant_alpha,
                      django_capture_on_commit_callbacks,
                      "pm_card_authenticationRequired")  # fmt: skip
    link = re.search(r"/manage/fee/\d+/\?token=\S+", mail.outbox[-1].body).group(0)
    beta_public = Client(HTTP_HOST=host_of(tenant_beta))
    beta_owner = member_client(tenant_beta, owner_beta, verified=True)

    # Alpha's pay link on beta's host, alpha's fee pages for beta's owner: nothing.
    assert beta_public.get(link).status_code == 404
    assert beta_owner.get(f"/payments/fees/{fee.pk}/").status_code == 404
    assert beta_owner.post(f"/payments/fees/{fee.pk}/waive/", {"reason": "x"}).status_code == 404
    in_schema(tenant_alpha)
    card = SavedCard.objects.get()
    assert beta_public.post(f"/my/cards/{card.pk}/remove/").status_code == 302  # not signed in
    in_schema(tenant_alpha)
    assert FeeCharge.objects.get(pk=fee.pk).status == FeeStatus.AWAITING_CUSTOMER
    assert SavedCard.objects.get(pk=card.pk).removed_at is None
