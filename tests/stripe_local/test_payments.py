"""Payments: payment intents with test cards and 3-D Secure, charges, refunds, transfers, fees."""

from __future__ import annotations

import pytest
import stripe

from stripe_local.cards import stripe_fee
from stripe_local.testing import local, make_client, onboarded_account


def _pay(
    client: stripe.StripeClient, pm: str = "pm_card_visa", **extra: object
) -> stripe.PaymentIntent:
    params: dict = {"amount": 5000, "currency": "eur", "payment_method": pm, "confirm": True}
    params.update(extra)
    return client.v1.payment_intents.create(params=params)


def test_payment_intent_automatic_capture_succeeds_with_a_charge(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create(params={"email": "ana@example.com"})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "eur",
            "customer": customer.id,
            "automatic_payment_methods": {"enabled": True},
            "metadata": {"booking": "b_1"},
            "receipt_email": "ana@example.com",
            "description": "Yoga class",
        }
    )
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(intent.id + "_secret_")
    intent = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert intent.status == "succeeded"
    assert intent.amount_received == 5000
    charge = client.v1.charges.retrieve(
        intent.latest_charge, params={"expand": ["balance_transaction"]}
    )
    assert charge.paid and charge.captured and charge.status == "succeeded"
    assert charge.customer == customer.id and charge.metadata["booking"] == "b_1"
    assert charge.payment_method_details.card.last4 == "4242"
    assert charge.balance_transaction.fee == stripe_fee(5000)
    assert charge.balance_transaction.net == 5000 - stripe_fee(5000)


@pytest.mark.parametrize(
    ("payment_method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeCustomerFail", "card_declined", "generic_decline"),
    ],
)
def test_declined_test_cards_raise_card_errors(
    client: stripe.StripeClient, payment_method: str, code: str, decline_code: str
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        _pay(client, payment_method)
    error = raised.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code) == (code, decline_code)
    intent = error.error.payment_intent
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == decline_code
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "failed" and charge.failure_code == code


@pytest.mark.parametrize(
    ("number", "decline_code"),
    [
        ("4242424242424242", None),
        ("4000000000000002", "generic_decline"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000341", "generic_decline"),
    ],
)
def test_test_card_numbers_behave_like_stripe(
    client: stripe.StripeClient, number: str, decline_code: str | None
) -> None:
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    assert pm.card.last4 == number[-4:]
    if decline_code is None:
        assert _pay(client, pm.id).status == "succeeded"
        return
    with pytest.raises(stripe.CardError) as raised:
        _pay(client, pm.id)
    assert raised.value.error.decline_code == decline_code


def test_invalid_card_details_are_card_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424241", "exp_month": 1, "exp_year": 2034},
            }
        )
    assert raised.value.code == "incorrect_number"
    with pytest.raises(stripe.CardError) as expired:
        client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2020},
            }
        )
    assert expired.value.code == "invalid_expiry_year"


def test_3d_secure_challenge_can_be_completed(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    intent = _pay(client, "pm_card_authenticationRequired")
    assert intent.status == "requires_action"
    assert intent.next_action.type == "use_stripe_sdk"
    result = local(stripe_base_url, f"/_local/3ds/{intent.id}", {"outcome": "complete"})
    assert result["status"] == "succeeded"
    charge = client.v1.charges.retrieve(result["latest_charge"])
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"


def test_3d_secure_challenge_can_fail(client: stripe.StripeClient, stripe_base_url: str) -> None:
    intent = _pay(
        client, "pm_card_authenticationRequired", return_url="http://zen.localhost:8000/back"
    )
    assert intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.return_url == "http://zen.localhost:8000/back"
    result = local(stripe_base_url, f"/_local/3ds/{intent.id}", {"outcome": "fail"})
    assert result["status"] == "requires_payment_method"
    assert result["last_payment_error"]["code"] == "payment_intent_authentication_failure"


def test_off_session_payment_needing_authentication_fails(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={})
    pm = client.v1.payment_methods.attach(
        "pm_card_authenticationRequired", params={"customer": customer.id}
    )
    with pytest.raises(stripe.CardError) as raised:
        _pay(client, pm.id, customer=customer.id, off_session=True)
    assert raised.value.code == "authentication_required"


def test_manual_capture_partial_and_cancel(client: stripe.StripeClient) -> None:
    intent = _pay(client, capture_method="manual")
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 5000
    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 3000})
    assert captured.status == "succeeded" and captured.amount_received == 3000
    charge = client.v1.charges.retrieve(captured.latest_charge)
    assert charge.amount_captured == 3000 and charge.captured
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id)
    assert raised.value.code == "payment_intent_unexpected_state"
    held = _pay(client, capture_method="manual")
    canceled = client.v1.payment_intents.cancel(
        held.id, params={"cancellation_reason": "abandoned"}
    )
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(captured.id)


def test_partial_and_repeated_refunds_and_over_refund(client: stripe.StripeClient) -> None:
    intent = _pay(client)
    first = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "amount": 1000,
            "reason": "requested_by_customer",
            "metadata": {"why": "late"},
        }
    )
    assert (
        first.status == "succeeded"
        and first.amount == 1000
        and first.reason == "requested_by_customer"
    )
    second = client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 1500})
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 2500 and charge.refunded is False
    assert {r.id for r in charge.refunds.data} == {first.id, second.id}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 3000})
    assert raised.value.param == "amount"
    assert "is greater than unrefunded amount on charge (€25.00)" in raised.value.user_message
    client.v1.refunds.create(params={"charge": charge.id})
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"charge": charge.id})
    assert again.value.code == "charge_already_refunded"
    assert client.v1.charges.retrieve(charge.id).refunded is True
    updated = client.v1.refunds.update(first.id, params={"metadata": {"why": "early"}})
    assert updated.metadata["why"] == "early"
    assert len(client.v1.refunds.list(params={"charge": charge.id}).data) == 3


def test_destination_charge_transfers_fee_and_reverses_on_refund(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    account = onboarded_account(client, stripe_base_url)
    intent = _pay(
        client,
        application_fee_amount=500,
        transfer_data={"destination": account},
        on_behalf_of=account,
    )
    charge = client.v1.charges.retrieve(
        intent.latest_charge, params={"expand": ["transfer", "application_fee"]}
    )
    assert charge.transfer.destination == account and charge.transfer.amount == 4500
    assert charge.application_fee.amount == 500 and charge.application_fee.account == account
    assert (
        client.v1.balance.retrieve(options={"stripe_account": account}).available[0].amount == 4500
    )
    refund = client.v1.refunds.create(
        params={
            "charge": charge.id,
            "amount": 2500,
            "reverse_transfer": True,
            "refund_application_fee": True,
        }
    )
    reversal = client.v1.transfers.reversals.retrieve(charge.transfer.id, refund.transfer_reversal)
    assert reversal.amount == 2250
    fee = client.v1.application_fees.retrieve(charge.application_fee.id)
    assert fee.amount_refunded == 250 and fee.refunds.data[0].amount == 250
    transfer = client.v1.transfers.retrieve(charge.transfer.id)
    assert transfer.amount_reversed == 2250 and transfer.reversed is False
    assert (
        client.v1.balance.retrieve(options={"stripe_account": account}).available[0].amount
        == 2250 + 250
    )


def test_direct_charge_on_connected_account_with_application_fee(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    account = onboarded_account(client, stripe_base_url)
    options: dict = {"stripe_account": account}
    intent = client.v1.payment_intents.create(
        params={
            "amount": 10000,
            "currency": "eur",
            "application_fee_amount": 300,
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options=options,
    )
    charge = client.v1.charges.retrieve(
        intent.latest_charge, params={"expand": ["balance_transaction"]}, options=options
    )
    assert charge.balance_transaction.fee == stripe_fee(10000) + 300
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert fee.account == account
    fee_refund = client.v1.application_fees.refunds.create(fee.id, params={"amount": 100})
    assert fee_refund.object == "fee_refund" and fee_refund.amount == 100
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.application_fees.refunds.create(fee.id, params={"amount": 1000})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve(intent.id)


def test_application_fee_needs_connect(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="application_fee_amount"):
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "eur", "application_fee_amount": 10}
        )


def test_transfers_and_reversals(client: stripe.StripeClient, stripe_base_url: str) -> None:
    account = onboarded_account(client, stripe_base_url)
    _pay(client)
    transfer = client.v1.transfers.create(
        params={
            "amount": 1000,
            "currency": "eur",
            "destination": account,
            "metadata": {"payout": "p1"},
        }
    )
    assert transfer.id.startswith("tr_") and transfer.destination_payment.startswith("py_")
    reversal = client.v1.transfers.reversals.create(transfer.id, params={"amount": 400})
    assert reversal.id.startswith("trr_")
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 400
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 700})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.transfers.create(
            params={"amount": 10**8, "currency": "eur", "destination": account}
        )
    assert raised.value.code == "balance_insufficient"


def test_payment_methods_attach_detach_and_customer_default(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "pm@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_mastercard", params={"customer": customer.id})
    assert pm.customer == customer.id and pm.card.brand == "mastercard"
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}}
    )
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert [p.id for p in listed.data] == [pm.id]
    with pytest.raises(stripe.CardError):
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": customer.id})
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None


def test_setup_intent_saves_a_card_for_off_session_use(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    customer = client.v1.customers.create(params={})
    setup = client.v1.setup_intents.create(params={"customer": customer.id, "usage": "off_session"})
    assert setup.status == "requires_payment_method"
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 12, "exp_year": 2034},
        }
    )
    setup = client.v1.setup_intents.confirm(setup.id, params={"payment_method": pm.id})
    assert setup.status == "requires_action"
    done = local(stripe_base_url, f"/_local/3ds/{setup.id}", {"outcome": "complete"})
    assert done["status"] == "succeeded"
    # 4000 0025 0000 3155 needs no authentication off-session once set up.
    intent = _pay(client, pm.id, customer=customer.id, off_session=True)
    assert intent.status == "succeeded"


def test_publishable_key_can_confirm_with_client_secret_only(
    client: stripe.StripeClient, stripe_base_url: str
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 1200, "currency": "eur"})
    public = make_client(stripe_base_url, api_key="pk_test_local")
    with pytest.raises(stripe.InvalidRequestError):
        public.v1.payment_intents.retrieve(intent.id)
    fetched = public.v1.payment_intents.retrieve(
        intent.id, params={"client_secret": intent.client_secret}
    )
    assert fetched.id == intent.id
    confirmed = public.v1.payment_intents.confirm(
        intent.id,
        params={"client_secret": intent.client_secret, "payment_method": "pm_card_visa"},  # type: ignore[typeddict-unknown-key]
    )
    assert confirmed.status == "succeeded"


def test_balance_transactions_are_listed_by_type(client: stripe.StripeClient) -> None:
    intent = _pay(client)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    txns = client.v1.balance_transactions.list(params={"source": charge.id})
    assert [t.type for t in txns.data] == ["charge"]
    assert client.v1.balance.retrieve().available[0].currency == "eur"
