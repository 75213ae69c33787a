"""`manage.py reconcile_payments`, pending refunds sent by it, and the demo account of make run."""

import io

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from connect_payments.demo import demo_connected_account_ensure
from connect_payments.models import ConnectedAccount, RefundStatus
from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from connect_payments.services.refunds import booking_payment_refund
from scheduling.actors import SYSTEM
from scheduling.models import BookingStatus
from stripe_local.testing import local

from .conftest import hold_now


def test_reconcile_command_repairs_and_reports(
    alpha_account, catalogue, customer, sdk, stripe_base_url, tenant_alpha
):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    out = io.StringIO()

    call_command("reconcile_payments", "--tenant", "alpha", stdout=out)

    assert f"alpha: {booking.reference}: payment awaiting_payment→paid" in out.getvalue()
    assert "Repaired 1 item(s)." in out.getvalue()
    with tenant_context(tenant_alpha):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CONFIRMED


def test_reconcile_command_sends_pending_refunds(
    alpha_account, catalogue, customer, sdk, stripe_base_url, tenant_alpha
):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    payment = booking_payment_on_return(booking=booking)
    local(stripe_base_url, "/_local/fail_next", {"path": "/v1/refunds", "status": 502})
    refund = booking_payment_refund(payment=payment, amount_minor=700, reason="x", actor=SYSTEM)
    assert refund.status == RefundStatus.PENDING
    out = io.StringIO()

    call_command("reconcile_payments", stdout=out)

    assert "alpha: 1 pending refund(s) sent" in out.getvalue()
    with tenant_context(tenant_alpha):
        refund.refresh_from_db()
        assert refund.status == RefundStatus.SUCCEEDED


def test_reconcile_command_checks_its_arguments(db):
    with pytest.raises(CommandError):
        call_command("reconcile_payments", "--tenant", "nobody")
    with pytest.raises(CommandError):
        call_command("reconcile_payments", "--days", "0")


def test_demo_tenant_gets_an_onboarded_local_account_once(tenant_alpha, sdk):
    assert demo_connected_account_ensure(tenant=tenant_alpha, email="owner@alpha.test")
    account = ConnectedAccount.objects.get(tenant=tenant_alpha)
    assert account.charges_enabled
    assert sdk.v1.accounts.retrieve(account.account_id).charges_enabled

    assert not demo_connected_account_ensure(tenant=tenant_alpha, email="owner@alpha.test")
    assert ConnectedAccount.objects.filter(tenant=tenant_alpha).count() == 1


def test_demo_account_is_only_for_local_stripe(tenant_alpha, settings):
    settings.STRIPE_API_BASE = ""
    assert not demo_connected_account_ensure(tenant=tenant_alpha, email="owner@alpha.test")
    assert not ConnectedAccount.objects.exists()


def test_a_sync_that_finds_nothing_new_does_not_keep_the_payment_recent(
    alpha_account, catalogue, customer, sdk, tenant_alpha
):
    from connect_payments.services.booking_payments import booking_payment_sync
    from connect_payments.services.refunds import payment_totals_sync

    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    payment = booking_payment_on_return(booking=booking)
    stamp = payment.updated_at

    payment = booking_payment_sync(payment=payment)
    payment = payment_totals_sync(payment=payment)

    assert payment.updated_at == stamp
