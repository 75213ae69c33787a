"""Webhooks: signed by local Stripe and delivered over HTTP to a receiver, then relayed byte for
byte to /stripe/webhook/ on the platform host. Stored once, processed in the tenant's schema,
harmless when duplicated, late or out of order; reconciliation repairs a lost one."""

import json

import pytest
import stripe
from django.utils import timezone

from connect_payments.models import (
    BookingPayment,
    ConnectedAccount,
    PaymentStatus,
    RefundStatus,
    StripeEvent,
)
from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from connect_payments.tasks import reconcile_payments_in_every_tenant
from scheduling.models import BookingEvent, BookingStatus
from stripe_local.app.webhooks import sign
from stripe_local.testing import local

from .conftest import hold_now, in_schema


def confirmations(booking) -> int:
    return BookingEvent.objects.filter(booking=booking, to_status=BookingStatus.CONFIRMED).count()


@pytest.fixture
def paid_booking(alpha_account, catalogue, customer, sdk, webhooks):
    """A held booking whose PaymentIntent the customer just paid (webhooks not yet relayed)."""
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    return booking, payment


def test_bad_signature_is_refused_and_nothing_is_stored(db, webhooks, settings):
    body = json.dumps({"id": "evt_forged", "type": "payment_intent.succeeded", "data": {}})
    platform = webhooks.platform

    forged = platform.post(
        "/stripe/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, "whsec_wrong"),
    )
    unsigned = platform.post("/stripe/webhook/", body, content_type="application/json")

    assert forged.status_code == 400
    assert unsigned.status_code == 400
    assert not StripeEvent.objects.filter(event_id="evt_forged").exists()
    # The body must be verified as received: re-serialised JSON fails the signature.
    signed = sign(body, settings.STRIPE_WEBHOOK_SECRET)
    altered = body.replace('"data": {}', '"data":{}')
    response = platform.post(
        "/stripe/webhook/", altered, content_type="application/json", HTTP_STRIPE_SIGNATURE=signed
    )
    assert response.status_code == 400


@pytest.mark.parametrize("ahead, status", [(3600, 400), (301 + 60, 400), (60, 200)])
def test_a_signature_dated_in_the_future_is_refused_beyond_the_tolerance(
    db, webhooks, settings, ahead, status
):
    """Stripe's tolerance is 300 s; a minute of clock skew is accepted, more is refused."""
    import time

    body = json.dumps({"id": f"evt_future_{ahead}", "object": "event", "type": "ping.test",
                       "data": {"object": {}}})  # fmt: skip
    signed = sign(body, settings.STRIPE_WEBHOOK_SECRET, timestamp=int(time.time()) + ahead)
    response = webhooks.platform.post(
        "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signed
    )
    assert response.status_code == status, response.content
    stored = StripeEvent.objects.filter(event_id=f"evt_future_{ahead}").exists()
    assert stored == (status == 200)


def test_webhook_only_on_the_platform_host_and_post_only(db, webhooks, tenant_alpha):
    from tests.factories import client_for

    assert webhooks.platform.get("/stripe/webhook/").status_code == 405
    assert (
        client_for(tenant_alpha)
        .post("/stripe/webhook/", "{}", content_type="application/json")
        .status_code
        == 404
    )


def test_succeeded_webhook_confirms_and_duplicates_change_nothing(
    paid_booking, webhooks, django_capture_on_commit_callbacks, tenant_alpha
):
    booking, payment = paid_booking
    [delivery] = webhooks.deliveries("payment_intent.succeeded", payment.payment_intent_id)

    responses = [
        webhooks.relay(delivery, captured=django_capture_on_commit_callbacks) for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["duplicate"] for r in responses] == [False, True, True]
    event_id = json.loads(delivery["body"])["id"]
    stored = StripeEvent.objects.get(event_id=event_id)
    assert stored.outcome == "processed"
    assert stored.tenant_schema == tenant_alpha.schema_name
    in_schema(tenant_alpha)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.PAID
    assert confirmations(booking) == 1
    assert payment.events.filter(action="creneau.payment.succeeded").count() == 1


def test_webhook_before_the_return_path(
    paid_booking, webhooks, django_capture_on_commit_callbacks, tenant_alpha
):
    booking, payment = paid_booking
    [delivery] = webhooks.deliveries("payment_intent.succeeded", payment.payment_intent_id)
    webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)
    in_schema(tenant_alpha)

    booking_payment_on_return(booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert confirmations(booking) == 1


def test_webhook_after_the_return_path(
    paid_booking, webhooks, django_capture_on_commit_callbacks, tenant_alpha
):
    booking, payment = paid_booking
    booking_payment_on_return(booking=booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED

    [delivery] = webhooks.deliveries("payment_intent.succeeded", payment.payment_intent_id)
    response = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    in_schema(tenant_alpha)
    assert confirmations(booking) == 1
    assert payment.events.filter(action="creneau.payment.succeeded").count() == 1


def test_failed_then_succeeded_in_any_order(
    alpha_account,
    catalogue,
    customer,
    sdk,
    webhooks,
    django_capture_on_commit_callbacks,
    tenant_alpha,
):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    with pytest.raises(stripe.CardError):
        sdk.v1.payment_intents.confirm(
            payment.payment_intent_id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    [failed] = webhooks.deliveries("payment_intent.payment_failed", payment.payment_intent_id)
    webhooks.relay(failed, captured=django_capture_on_commit_callbacks)
    in_schema(tenant_alpha)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.HELD  # the hold stays: another card may be tried
    assert payment.last_error == "Your card was declined."
    assert payment.events.filter(action="creneau.payment.failed").count() == 1

    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    [succeeded] = webhooks.deliveries("payment_intent.succeeded", payment.payment_intent_id)
    webhooks.relay(succeeded, captured=django_capture_on_commit_callbacks)
    # The failure arrives again, late (a retried delivery): nothing moves backwards.
    webhooks.relay(failed, captured=django_capture_on_commit_callbacks)
    in_schema(tenant_alpha)

    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.PAID
    assert payment.last_error == ""


def test_unknown_event_types_are_stored_and_ignored(
    db, sdk, webhooks, django_capture_on_commit_callbacks
):
    customer = sdk.v1.customers.create(params={"email": "someone@example.test"})
    [delivery] = webhooks.deliveries("customer.created", customer.id)

    response = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    stored = StripeEvent.objects.get(event_id=json.loads(delivery["body"])["id"])
    assert stored.outcome == "ignored"
    assert stored.type == "customer.created"


def test_account_updated_keeps_the_account_map_current(
    tenant_alpha, sdk, stripe_base_url, webhooks, django_capture_on_commit_callbacks
):
    account = sdk.v1.accounts.create(
        params={
            "type": "express",
            "country": "FR",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
    )
    mapped = ConnectedAccount.objects.create(tenant=tenant_alpha, account_id=account.id)
    local(stripe_base_url, f"/_local/accounts/{account.id}/complete_onboarding", {})
    [delivery] = webhooks.deliveries("account.updated", account.id)

    response = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    stored = StripeEvent.objects.get(event_id=json.loads(delivery["body"])["id"])
    assert stored.tenant_schema == tenant_alpha.schema_name
    assert stored.outcome == "processed"
    mapped.refresh_from_db()
    assert mapped.charges_enabled and mapped.payouts_enabled and mapped.details_submitted
    assert mapped.requirements_currently_due == []


def test_refund_made_in_stripe_is_reconciled_by_charge_refunded(
    paid_booking, sdk, webhooks, django_capture_on_commit_callbacks, tenant_alpha
):
    booking, payment = paid_booking
    booking_payment_on_return(booking=booking)
    payment.refresh_from_db()
    stripe_refund = sdk.v1.refunds.create(
        params={
            "payment_intent": payment.payment_intent_id,
            "amount": 1000,
            "reverse_transfer": True,
            "refund_application_fee": True,
        }
    )
    [delivery] = webhooks.deliveries("charge.refunded", payment.payment_intent_id)

    for _ in range(2):
        webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    in_schema(tenant_alpha)
    payment.refresh_from_db()
    [refund] = payment.refunds.all()
    assert refund.stripe_refund_id == stripe_refund.id
    assert refund.origin == "stripe"
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount_minor == 1000
    assert refund.fee_refunded_minor == 31  # 1000 × 138 / 4500 = 30.67 → 31
    assert payment.refunded_minor == 1000
    assert payment.fee_refunded_minor == 31
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED


def test_lost_webhook_is_repaired_by_reconciliation(
    alpha_account, catalogue, customer, sdk, stripe_base_url, tenant_alpha
):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    local(stripe_base_url, "/_local/webhooks/pause", {})
    try:
        sdk.v1.payment_intents.confirm(
            payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
        )
    finally:
        local(stripe_base_url, "/_local/webhooks/resume", {})

    fixed = reconcile_payments_in_every_tenant()

    assert len(fixed[tenant_alpha.schema_name]) == 1
    assert booking.reference in fixed[tenant_alpha.schema_name][0]
    in_schema(tenant_alpha)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.PAID
    assert payment.events.filter(action="creneau.payment.reconciled").count() == 1
    # A second run finds nothing left to repair.
    assert tenant_alpha.schema_name not in reconcile_payments_in_every_tenant()


def test_events_are_stored_with_their_time(
    paid_booking, webhooks, tenant_alpha, django_capture_on_commit_callbacks
):
    _, payment = paid_booking
    [delivery] = webhooks.deliveries("payment_intent.succeeded", payment.payment_intent_id)
    before = timezone.now()
    webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)
    stored = StripeEvent.objects.get(event_id=json.loads(delivery["body"])["id"])
    assert stored.received_at >= before
    assert stored.processed_at >= stored.received_at
    in_schema(tenant_alpha)
    assert BookingPayment.objects.get().status == PaymentStatus.PAID


def test_late_webhook_for_a_taken_slot_refunds_in_the_task(
    alpha_account,
    catalogue,
    customer,
    sdk,
    webhooks,
    django_capture_on_commit_callbacks,
    tenant_alpha,
):
    from scheduling.services.bookings import booking_expire
    from scheduling.services.customers import customer_upsert

    service, ada = catalogue["service"], catalogue["ada"]
    late = hold_now(service, customer, staff_id=ada.pk, hold_minutes_ago=30)
    payment = booking_payment_start(booking=late)
    booking_expire(booking_ids=[late.pk])
    hold_now(service, customer_upsert(name="Other", email="o@example.test"), staff_id=ada.pk)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    [delivery] = webhooks.deliveries("payment_intent.succeeded", payment.payment_intent_id)

    response = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert StripeEvent.objects.get(event_id=json.loads(delivery["body"])["id"]).outcome == (
        "processed"
    )
    in_schema(tenant_alpha)
    late.refresh_from_db()
    payment.refresh_from_db()
    assert late.status == BookingStatus.EXPIRED
    [refund] = payment.refunds.all()
    assert (refund.origin, refund.status, refund.amount_minor) == ("slot_lost", "succeeded", 4500)
    assert payment.status == PaymentStatus.REFUNDED


def test_event_failing_while_stripe_is_down_is_processed_on_redelivery(
    paid_booking, webhooks, stripe_base_url, django_capture_on_commit_callbacks, tenant_alpha
):
    booking, payment = paid_booking
    [delivery] = webhooks.deliveries("payment_intent.succeeded", payment.payment_intent_id)
    local(
        stripe_base_url,
        "/_local/fail_next",
        {"path": "/v1/payment_intents/*", "method": "GET", "status": 500},
    )

    first = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    assert first.status_code == 200  # stored: Stripe need not resend, but may
    stored = StripeEvent.objects.get(event_id=json.loads(delivery["body"])["id"])
    assert stored.outcome == "failed"
    assert "APIError" in stored.error
    in_schema(tenant_alpha)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD

    webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    stored.refresh_from_db()
    assert stored.outcome == "processed"
    assert stored.attempts == 2
    in_schema(tenant_alpha)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize("schema", ["public", "no_such_tenant", ""])
def test_event_naming_no_tenant_is_stored_and_ignored(
    db, webhooks, settings, schema, django_capture_on_commit_callbacks
):
    body = json.dumps(
        {
            "id": f"evt_test_{schema or 'none'}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": "pi_unknown",
                    "object": "payment_intent",
                    "metadata": {"tenant_schema": schema},
                }
            },
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = webhooks.platform.post(
            "/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, settings.STRIPE_WEBHOOK_SECRET),
        )

    assert response.status_code == 200
    stored = StripeEvent.objects.get(event_id=f"evt_test_{schema or 'none'}")
    assert stored.tenant_schema == ""
    assert stored.outcome == "ignored"


def test_an_event_with_decimal_fields_is_stored_as_sent(
    db, sdk, webhooks, django_capture_on_commit_callbacks
):
    """Prices carry `unit_amount_decimal`: the SDK reads such fields as Decimals, which JSON cannot
    store. The inbox keeps the body Stripe signed (a 500 here made Stripe redeliver forever)."""
    product = sdk.v1.products.create(params={"name": "Decimal plan"})
    price = sdk.v1.prices.create(
        params={"product": product.id, "currency": "eur", "unit_amount_decimal": "1900"}
    )
    [delivery] = webhooks.deliveries("price.created", price.id)

    response = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    sent = json.loads(delivery["body"])
    stored = StripeEvent.objects.get(event_id=sent["id"])
    assert stored.payload == sent
    assert stored.payload["data"]["object"]["unit_amount_decimal"] == "1900"
