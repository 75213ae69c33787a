"""Passes against local Stripe over HTTP: buy (destination charge with the platform fee), the
credits granted once by the signed webhook (duplicates change nothing), book with a credit,
in-policy cancel returns it, late cancel keeps it, and staff refunds (pro rata and full)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memberships.exceptions import PassNotAvailable
from memberships.models import CreditEntry, CreditGrant, PassPurchase, PassRefundMode
from memberships.selectors.credits import ledger_mismatches
from memberships.services.credit_bookings import booking_with_credit
from memberships.services.passes import (
    pass_offer_save,
    pass_offer_set_status,
    pass_purchase_start,
    pass_purchase_sync,
    pass_refund,
    pass_settings,
)
from scheduling.actors import CUSTOMER, Actor
from scheduling.exceptions import CreditUnavailable
from scheduling.services.bookings import booking_cancel
from tests.connect_payments.conftest import TEN_AM, in_schema
from tests.scheduling.conftest import paris

MANAGER = Actor("Manager Mia", user_id=None)


def make_offer(catalogue, **changes):
    fields = dict(name="10-class pass", description="", credits=10, validity_days=3650,
                  validity_starts="purchase", price_minor=40000, new_customers_only=False,
                  per_customer_limit=None)  # fmt: skip
    fields.update(changes)
    offer = pass_offer_save(offer=None, fields=fields, service_ids=[catalogue["service"].pk])
    return pass_offer_set_status(offer=offer, status="on_sale")


def buy(offer, customer, sdk, card="pm_card_visa"):
    purchase = pass_purchase_start(offer=offer, customer=customer)
    sdk.v1.payment_intents.confirm(purchase.payment_intent_id, params={"payment_method": card})
    return purchase


@pytest.fixture
def offer(alpha_account, catalogue):
    return make_offer(catalogue)


def test_pass_is_a_destination_charge_with_the_platform_fee(offer, customer, sdk, alpha_account):
    purchase = pass_purchase_start(offer=offer, customer=customer)
    intent = sdk.v1.payment_intents.retrieve(purchase.payment_intent_id)
    assert intent.amount == 40000 and intent.currency == "eur"
    assert intent.transfer_data.destination == alpha_account.account_id
    assert intent.on_behalf_of == alpha_account.account_id
    # The fee plan: 2.5 % + 0.25 → 1000 + 25.
    assert intent.application_fee_amount == purchase.fee_minor == 1025
    assert intent.metadata["pass_purchase"] == str(purchase.pk)
    again = pass_purchase_start(offer=offer, customer=customer)  # a second click: same purchase
    assert again.pk == purchase.pk and again.payment_intent_id == purchase.payment_intent_id


def test_webhook_grants_the_credits_once_and_duplicates_change_nothing(
    offer, customer, sdk, webhooks, tenant_alpha, django_capture_on_commit_callbacks
):
    purchase = buy(offer, customer, sdk)
    [delivery, *_] = webhooks.deliveries("payment_intent.succeeded", purchase.payment_intent_id)
    for _ in range(3):  # Stripe delivers more than once
        response = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)
        assert response.status_code == 200
        in_schema(tenant_alpha)
    purchase.refresh_from_db()
    assert purchase.status == "paid" and purchase.paid_minor == 40000
    grant = CreditGrant.objects.get()
    assert (grant.remaining, grant.credits_total, grant.source_id) == (10, 10, str(purchase.pk))
    assert list(grant.services.all()) == list(offer.services.all())
    assert CreditEntry.objects.filter(kind="granted").count() == 1
    pass_purchase_sync(purchase=purchase)  # the return page after the webhook: nothing more
    assert CreditEntry.objects.count() == 1


def test_buy_a_pass_and_book_with_it(offer, customer, sdk, catalogue):
    purchase = pass_purchase_sync(purchase=buy(offer, customer, sdk))
    booking = booking_with_credit(service=catalogue["service"], customer=customer,
                                  actor=CUSTOMER, starts_at=TEN_AM)  # fmt: skip
    assert booking.status == "confirmed" and booking.payment_mode == "credit"
    from connect_payments.models import BookingPayment

    assert not BookingPayment.objects.filter(booking=booking).exists()  # nothing charged
    grant = CreditGrant.objects.get(pk=purchase.grant_id)
    assert grant.remaining == 9
    assert list(CreditEntry.objects.filter(booking=booking).values_list("kind", flat=True)) == [
        "held",
        "spent",
    ]


def test_credit_returned_on_in_policy_cancel_and_kept_on_late_cancel(
    offer, customer, sdk, catalogue
):
    purchase = pass_purchase_sync(purchase=buy(offer, customer, sdk))
    early = booking_with_credit(service=catalogue["service"], customer=customer,
                                actor=CUSTOMER, starts_at=TEN_AM)  # fmt: skip
    late = booking_with_credit(service=catalogue["service"], customer=customer,
                               actor=CUSTOMER, starts_at=paris(2030, 6, 5, 10))  # fmt: skip
    grant = CreditGrant.objects.get(pk=purchase.grant_id)
    assert CreditGrant.objects.get(pk=grant.pk).remaining == 8
    booking_cancel(booking=early, actor=CUSTOMER, by_business=False, now=TEN_AM - timedelta(days=3))
    assert CreditGrant.objects.get(pk=grant.pk).remaining == 9  # returned
    booking_cancel(booking=late, actor=CUSTOMER, by_business=False,
                   now=paris(2030, 6, 5, 10) - timedelta(hours=2))  # fmt: skip
    assert CreditGrant.objects.get(pk=grant.pk).remaining == 9  # kept: used
    assert ledger_mismatches() == 0


def test_pass_for_another_service_does_not_pay(offer, customer, sdk, catalogue):
    from scheduling.models import Service

    pass_purchase_sync(purchase=buy(offer, customer, sdk))
    other = Service.objects.create(
        name="Other", duration_minutes=60, price_minor=100, payment_mode="online_full",
        maximum_advance_days=3650,
    )  # fmt: skip
    other.staff.add(catalogue["ada"])
    with pytest.raises(CreditUnavailable):
        booking_with_credit(service=other, customer=customer, actor=CUSTOMER, starts_at=TEN_AM)


def stripe_refund_amounts(sdk, purchase):
    charge = sdk.v1.charges.retrieve(purchase.charge_id, params={"expand": ["application_fee"]})
    transfers = sdk.v1.transfers.list(params={"limit": 100}).data
    [mine] = [t for t in transfers if t.source_transaction == purchase.charge_id]
    return charge.amount_refunded, charge.application_fee.amount_refunded, mine.amount_reversed


def test_staff_refund_pro_rata_to_unused_credits(offer, customer, sdk, catalogue):
    purchase = pass_purchase_sync(purchase=buy(offer, customer, sdk))
    for day in (4, 5, 6):
        booking_with_credit(service=catalogue["service"], customer=customer, actor=CUSTOMER,
                            starts_at=paris(2030, 6, day, 10))  # fmt: skip
    assert pass_settings().refund_mode == PassRefundMode.PRO_RATA  # the default
    refund = pass_refund(purchase=purchase, actor=MANAGER, reason="Moving away")
    assert refund.status == "succeeded"
    assert (refund.amount_minor, refund.credits_removed) == (28000, 7)  # 400.00 × 7 / 10
    purchase.refresh_from_db()
    assert purchase.refunded_minor == 28000 and purchase.status == "paid"
    assert CreditGrant.objects.get(pk=purchase.grant_id).remaining == 0
    # Fee and transfer reversal as for bookings, pro rata to the refund: the fee 1025 × 0.7 =
    # 717.5 → 718; the transfer (40000 − 1025) × 0.7 = 27282.5 → 27283.
    assert stripe_refund_amounts(sdk, purchase) == (28000, 718, 27283)
    with pytest.raises(Exception, match="Nothing is left"):
        pass_refund(purchase=purchase, actor=MANAGER)
    assert ledger_mismatches() == 0


def test_staff_refund_in_full_when_the_business_chose_it(offer, customer, sdk, catalogue):
    row = pass_settings()
    row.refund_mode = PassRefundMode.FULL
    row.save()
    purchase = pass_purchase_sync(purchase=buy(offer, customer, sdk))
    booking_with_credit(service=catalogue["service"], customer=customer, actor=CUSTOMER,
                        starts_at=TEN_AM)  # fmt: skip
    refund = pass_refund(purchase=purchase, actor=MANAGER)
    assert (refund.amount_minor, refund.credits_removed) == (40000, 9)
    purchase.refresh_from_db()
    assert purchase.status == "refunded"


def test_retiring_an_offer_stops_sales_and_keeps_credits(offer, customer, sdk, catalogue):
    purchase = pass_purchase_sync(purchase=buy(offer, customer, sdk))
    pass_offer_set_status(offer=offer, status="retired")
    with pytest.raises(PassNotAvailable):
        pass_purchase_start(offer=offer, customer=customer)
    assert CreditGrant.objects.get(pk=purchase.grant_id).remaining == 10
    booking = booking_with_credit(service=catalogue["service"], customer=customer,
                                  actor=CUSTOMER, starts_at=TEN_AM)  # fmt: skip
    assert booking.payment_mode == "credit"


def test_limit_per_customer_and_new_customers_only(alpha_account, catalogue, customer, sdk):
    limited = make_offer(catalogue, name="Intro", per_customer_limit=1, new_customers_only=True)
    pass_purchase_sync(purchase=buy(limited, customer, sdk))
    with pytest.raises(PassNotAvailable, match="as many times"):
        pass_purchase_start(offer=limited, customer=customer)
    second = make_offer(catalogue, name="Intro 2", new_customers_only=True)
    with pytest.raises(PassNotAvailable, match="new customers"):
        pass_purchase_start(offer=second, customer=customer)
    assert PassPurchase.objects.filter(status="paid").count() == 1


def test_a_declined_card_grants_nothing(offer, customer, sdk):
    purchase = pass_purchase_start(offer=offer, customer=customer)
    with pytest.raises(Exception):  # noqa: B017  (the SDK's CardError)
        sdk.v1.payment_intents.confirm(
            purchase.payment_intent_id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    purchase = pass_purchase_sync(purchase=purchase)
    assert purchase.status == "pending" and purchase.grant_id is None
    assert CreditGrant.objects.count() == 0


def test_reconciliation_grants_what_a_missed_webhook_left_pending(offer, customer, sdk):
    purchase = buy(offer, customer, sdk)  # paid in Stripe; no webhook, no return page
    assert PassPurchase.objects.get(pk=purchase.pk).status == "pending"
    from memberships.services.passes import passes_reconcile

    assert passes_reconcile(since=timezone.now() - timedelta(days=1)) == [
        f"pass purchase {purchase.pk}: paid"
    ]
    assert passes_reconcile(since=timezone.now() - timedelta(days=1)) == []
    assert CreditGrant.objects.get().remaining == 10


def test_a_pending_refund_is_sent_again_by_the_reconciliation(
    offer, customer, sdk, stripe_base_url
):
    from memberships.services.passes import passes_reconcile
    from stripe_local.testing import local

    purchase = pass_purchase_sync(purchase=buy(offer, customer, sdk))
    local(stripe_base_url, "/_local/fail_next", {"path": "/v1/refunds", "status": 500})
    refund = pass_refund(purchase=purchase, actor=MANAGER)
    assert refund.status == "pending" and refund.error
    assert CreditGrant.objects.get(pk=purchase.grant_id).remaining == 0  # removed meanwhile
    assert passes_reconcile(since=timezone.now() - timedelta(days=1)) == [
        f"pass refund {refund.pk}: succeeded"
    ]
    purchase.refresh_from_db()
    assert purchase.refunded_minor == 40000


def test_the_purchase_page_is_the_buyers_only(offer, customer, sdk, tenant_alpha):
    from django.test import Client

    from scheduling.services.customer_sign_in import customer_sign_in_request, sign_in_token_of
    from scheduling.services.customers import customer_upsert
    from tests.factories import host_of

    purchase = pass_purchase_start(offer=offer, customer=customer)
    other = customer_upsert(name="Other", email="other@example.test")
    token = sign_in_token_of(customer_sign_in_request(email=other.email))
    client = Client(HTTP_HOST=host_of(tenant_alpha))
    client.post(f"/my/sign-in/{token}/")
    in_schema(tenant_alpha)
    assert client.get(f"/my/purchases/{purchase.pk}/").status_code == 404
    in_schema(tenant_alpha)
