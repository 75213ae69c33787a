"""The payments reconciliation covers no-show and late-cancellation fees as it covers booking
payments: a fee the customer paid at Stripe whose webhook was lost becomes paid, a paid fee
refunded at Stripe becomes refunded, each reported once; a fee that agrees with Stripe is left
alone. Local Stripe sends no webhook here (no endpoint is registered): the lost webhook."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from connect_payments.models import FeeCharge, FeeStatus
from connect_payments.services.reconcile import payments_reconcile
from stripe_local.testing import local
from tenants.roles import Role
from tests.factories import client_for, make_member, member_client

from .cards_support import an_hour_ago, book_with_card, card_service, move_start
from .conftest import in_schema


def _no_show_fee(tenant, catalogue, sdk, base_url, capture, *, payment_method: str) -> FeeCharge:
    api = client_for(tenant)
    desk = member_client(tenant, make_member(tenant, Role.FRONT_DESK), verified=True)
    service = card_service(catalogue["service"])
    created = book_with_card(api, sdk, base_url, service, payment_method=payment_method)
    move_start(tenant, created["reference"], an_hour_ago())
    with capture(execute=True):
        assert desk.post(f"/bookings/{created['reference']}/no-show/").status_code == 302
    in_schema(tenant)
    return FeeCharge.objects.select_related("setup__card", "booking").get()


@pytest.fixture
def awaiting_fee(alpha_account, catalogue, sdk, stripe_base_url, tenant_alpha,
                 django_capture_on_commit_callbacks):  # fmt: skip
    fee = _no_show_fee(tenant_alpha, catalogue, sdk, stripe_base_url,
                       django_capture_on_commit_callbacks,
                       payment_method="pm_card_authenticationRequired")  # fmt: skip
    assert fee.status == FeeStatus.AWAITING_CUSTOMER
    return fee


@pytest.fixture
def paid_fee(alpha_account, catalogue, sdk, stripe_base_url, tenant_alpha,
             django_capture_on_commit_callbacks):  # fmt: skip
    fee = _no_show_fee(tenant_alpha, catalogue, sdk, stripe_base_url,
                       django_capture_on_commit_callbacks,
                       payment_method="pm_card_visa")  # fmt: skip
    assert fee.status == FeeStatus.PAID
    return fee


def test_a_fee_paid_at_stripe_whose_webhook_was_lost_is_repaired_and_reported(
    awaiting_fee, sdk, stripe_base_url, tenant_alpha
):
    fee = awaiting_fee
    # The customer authenticates and pays on the pay page; its return never reaches us.
    sdk.v1.payment_intents.confirm(
        fee.payment_intent_id, params={"payment_method": fee.setup.card.payment_method_id}
    )
    local(stripe_base_url, f"/_local/3ds/{fee.payment_intent_id}",
          {"client_secret": fee.client_secret, "outcome": "complete"})  # fmt: skip
    assert sdk.v1.payment_intents.retrieve(fee.payment_intent_id).status == "succeeded"
    in_schema(tenant_alpha)
    assert FeeCharge.objects.get().status == FeeStatus.AWAITING_CUSTOMER  # the difference

    # Created long ago: a fee awaiting the customer is compared whatever its age.
    FeeCharge.objects.filter(pk=fee.pk).update(
        created_at=timezone.now() - timedelta(days=20),
        updated_at=timezone.now() - timedelta(days=20),
    )
    lines = payments_reconcile(since=timezone.now() - timedelta(days=3))

    assert lines == [f"{fee.booking.reference}: fee awaiting_customer→paid"]
    fee.refresh_from_db()
    assert fee.status == FeeStatus.PAID and fee.charge_id and fee.paid_at is not None
    assert fee.events.filter(action="creneau.fee.reconciled").count() == 1
    # A second run finds nothing more to repair.
    assert payments_reconcile(since=timezone.now() - timedelta(days=3)) == []


def test_a_paid_fee_refunded_at_stripe_is_recorded_refunded_by_the_command(
    paid_fee, sdk, tenant_alpha
):
    fee = paid_fee
    refund = sdk.v1.refunds.create(params={"payment_intent": fee.payment_intent_id})
    out = io.StringIO()

    call_command("reconcile_payments", "--tenant", "alpha", stdout=out)

    assert f"alpha: {fee.booking.reference}: fee paid→refunded" in out.getvalue()
    in_schema(tenant_alpha)
    fee.refresh_from_db()
    assert (fee.status, fee.refund_id) == (FeeStatus.REFUNDED, refund.id)


def test_a_fee_that_agrees_with_stripe_is_left_alone(paid_fee, tenant_alpha):
    in_schema(tenant_alpha)
    before = FeeCharge.objects.values().get()

    assert payments_reconcile(since=timezone.now() - timedelta(days=3)) == []
    assert FeeCharge.objects.values().get() == before
