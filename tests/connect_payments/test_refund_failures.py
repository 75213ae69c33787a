"""Refunds that Stripe reports failed after making them (card closed, account gone): recorded,
re-issued with a new idempotency key by the retry task, never silently left unpaid.

Local Stripe cannot make a refund fail after the fact (its refunds succeed at once and no
`/_local` helper changes that), so these tests post, through `/stripe/webhook/`, a `refund.*`
event signed with the endpoint's secret and built from the real refund object read back from
local Stripe, with only `status` and `failure_reason` changed, as real Stripe would send it.
Local Stripe therefore still counts the failed refund in its charge's `amount_refunded`: the
tests check refunds, not the charge's totals.
"""

import json
from itertools import count

import pytest

from connect_payments.models import PaymentRefund, RefundStatus
from connect_payments.services.refunds import booking_payment_refund, booking_payment_sync_refunds
from connect_payments.tasks import retry_pending_refunds_in_every_tenant
from scheduling.actors import Actor
from stripe_local.app.webhooks import sign
from tests.factories import client_for

from .conftest import in_schema

STAFF = Actor("Manon Manager", user_id=None)
EVENT_NUMBERS = count(1)


@pytest.fixture
def post_refund_failure(settings, sdk, django_capture_on_commit_callbacks, tenant_alpha):
    platform = client_for(None)

    def post(stripe_refund_id: str, event_type: str = "refund.updated"):
        refund = sdk.v1.refunds.retrieve(stripe_refund_id).to_dict()
        refund.update(status="failed", failure_reason="expired_or_canceled_card")
        body = json.dumps(
            {
                "id": f"evt_refund_failed_{next(EVENT_NUMBERS)}",
                "object": "event",
                "type": event_type,
                "api_version": settings.STRIPE_API_VERSION,
                "livemode": False,
                "data": {"object": refund, "previous_attributes": {"status": "succeeded"}},
            }
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = platform.post(
                "/stripe/webhook/",
                body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(body, settings.STRIPE_WEBHOOK_SECRET),
            )
        in_schema(tenant_alpha)
        assert response.status_code == 200, response.content
        return response

    return post


def test_refund_reported_failed_is_reissued_by_the_retry_task(
    paid, sdk, post_refund_failure, tenant_alpha
):
    booking, payment = paid
    first = booking_payment_refund(
        payment=payment, amount_minor=1000, reason="Late start", actor=STAFF
    )
    assert first.status == RefundStatus.SUCCEEDED

    post_refund_failure(first.stripe_refund_id)

    first.refresh_from_db()
    assert first.status == RefundStatus.FAILED
    assert first.last_error == "expired_or_canceled_card"
    replacement = first.replaced_by
    assert (replacement.status, replacement.amount_minor, replacement.origin) == (
        RefundStatus.PENDING,
        1000,
        "staff",
    )
    assert replacement.stripe_refund_id is None
    assert replacement.idempotency_key != first.idempotency_key
    actions = list(payment.events.values_list("action", flat=True))
    assert "creneau.refund.failed" in actions

    # Another event about the same failure (Stripe sends `refund.failed` too), and a re-read of
    # the refunds that still says "succeeded", change nothing: failed is final, re-issued once.
    post_refund_failure(first.stripe_refund_id, event_type="refund.failed")
    booking_payment_sync_refunds(payment=payment)
    first.refresh_from_db()
    assert first.status == RefundStatus.FAILED
    assert PaymentRefund.objects.filter(payment=payment).count() == 2

    retried = retry_pending_refunds_in_every_tenant()
    in_schema(tenant_alpha)

    assert retried == {tenant_alpha.schema_name: 1}
    replacement.refresh_from_db()
    assert replacement.status == RefundStatus.SUCCEEDED
    assert replacement.stripe_refund_id not in (None, first.stripe_refund_id)
    made = sdk.v1.refunds.retrieve(replacement.stripe_refund_id)
    assert made.amount == 1000
    assert made.metadata["creneau_refund_id"] == str(replacement.pk)
    at_stripe = sdk.v1.refunds.list(params={"payment_intent": payment.payment_intent_id})
    assert {r.id for r in at_stripe.data} == {first.stripe_refund_id, replacement.stripe_refund_id}


def test_a_refund_that_keeps_failing_stops_being_reissued(paid, post_refund_failure, tenant_alpha):
    booking, payment = paid
    refund = booking_payment_refund(
        payment=payment, amount_minor=500, reason="Goodwill", actor=STAFF
    )

    for _ in range(4):  # the first failure, then each of the three re-issues
        post_refund_failure(refund.stripe_refund_id)
        refund.refresh_from_db()
        replacement = PaymentRefund.objects.filter(replaces=refund).first()
        if replacement is None:
            break
        retry_pending_refunds_in_every_tenant()
        in_schema(tenant_alpha)
        refund = PaymentRefund.objects.get(pk=replacement.pk)

    statuses = list(PaymentRefund.objects.filter(payment=payment).values_list("status", flat=True))
    assert statuses == [RefundStatus.FAILED] * 4
    assert payment.events.filter(action="creneau.refund.needs_attention").count() == 1
