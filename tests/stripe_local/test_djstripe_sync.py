"""dj-stripe (as the product uses it) syncs the objects local Stripe returns without errors.

Needs the Django test database: run with CRENEAU_TEST_DB=test_creneau_stripe.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from stripe_local.testing import onboarded_account

API_KEY = "sk_test_" + "LocalStripeDjstripeSync0123"  # dj-stripe wants 24+ alphanumerics


@pytest.fixture
def global_stripe(stripe_base_url: str) -> Iterator[None]:
    """dj-stripe calls the global `stripe` module: point it at local Stripe, then restore."""
    saved = (stripe.api_base, stripe.api_key, stripe.connect_api_base)
    stripe.api_base = stripe_base_url
    stripe.connect_api_base = stripe_base_url
    stripe.api_key = API_KEY
    try:
        yield
    finally:
        stripe.api_base, stripe.api_key, stripe.connect_api_base = saved


@pytest.mark.django_db
def test_djstripe_syncs_local_stripe_objects(
    global_stripe: None, client: stripe.StripeClient, stripe_base_url: str
) -> None:
    from djstripe import models as djstripe_models

    platform = stripe.Account.retrieve()
    djstripe_models.Account.sync_from_stripe_data(platform, api_key=API_KEY)
    account_id = onboarded_account(client, stripe_base_url)
    account = djstripe_models.Account.sync_from_stripe_data(
        stripe.Account.retrieve(account_id), api_key=API_KEY
    )
    assert account.id == account_id and account.stripe_data["charges_enabled"] is True

    customer_data = stripe.Customer.create(email="sync@example.com", payment_method="pm_card_visa")
    customer = djstripe_models.Customer.sync_from_stripe_data(customer_data, api_key=API_KEY)
    assert customer.id == customer_data.id

    intent_data = stripe.PaymentIntent.create(
        amount=4200,
        currency="eur",
        customer=customer.id,
        payment_method="pm_card_visa",
        confirm=True,
        application_fee_amount=200,
        transfer_data={"destination": account_id},
    )
    intent = djstripe_models.PaymentIntent.sync_from_stripe_data(intent_data, api_key=API_KEY)
    assert intent.stripe_data["status"] == "succeeded"
    charge = djstripe_models.Charge.sync_from_stripe_data(
        stripe.Charge.retrieve(intent_data.latest_charge), api_key=API_KEY
    )
    assert charge.stripe_data["amount_captured"] == 4200

    refund_data = stripe.Refund.create(charge=intent_data.latest_charge, amount=1000)
    refund = djstripe_models.Refund.sync_from_stripe_data(refund_data, api_key=API_KEY)
    assert refund.stripe_data["status"] == "succeeded"

    product_data = stripe.Product.create(name="Sync plan")
    product = djstripe_models.Product.sync_from_stripe_data(product_data, api_key=API_KEY)
    price_data = stripe.Price.create(
        product=product.id, currency="eur", unit_amount=1500, recurring={"interval": "month"}
    )
    price = djstripe_models.Price.sync_from_stripe_data(price_data, api_key=API_KEY)
    assert price.product_id == product.id

    pm_id = stripe.Customer.list_payment_methods(customer.id).data[0].id
    stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": pm_id})
    sub_data = stripe.Subscription.create(customer=customer.id, items=[{"price": price.id}])
    subscription = djstripe_models.Subscription.sync_from_stripe_data(sub_data, api_key=API_KEY)
    assert subscription.stripe_data["status"] == "active"
    invoice = djstripe_models.Invoice.sync_from_stripe_data(
        stripe.Invoice.retrieve(sub_data.latest_invoice), api_key=API_KEY
    )
    assert invoice.stripe_data["status"] == "paid"
    synced = [djstripe_models.Customer, djstripe_models.Subscription, djstripe_models.Invoice]
    assert all(model.objects.count() >= 1 for model in synced)


@pytest.mark.django_db
def test_djstripe_syncs_a_subscription_schedule_and_its_subscription(
    global_stripe: None, client: stripe.StripeClient
) -> None:
    from djstripe import models as djstripe_models

    djstripe_models.Account.sync_from_stripe_data(stripe.Account.retrieve(), api_key=API_KEY)
    customer_data = stripe.Customer.create(
        payment_method="pm_card_visa",
        invoice_settings={"default_payment_method": "pm_card_visa"},
    )
    djstripe_models.Customer.sync_from_stripe_data(customer_data, api_key=API_KEY)
    product = stripe.Product.create(name="Scheduled plan")
    price = stripe.Price.create(
        product=product.id, currency="eur", unit_amount=900, recurring={"interval": "month"}
    )
    djstripe_models.Product.sync_from_stripe_data(product, api_key=API_KEY)
    djstripe_models.Price.sync_from_stripe_data(price, api_key=API_KEY)
    sub_data = stripe.Subscription.create(customer=customer_data.id, items=[{"price": price.id}])
    schedule_data = stripe.SubscriptionSchedule.create(from_subscription=sub_data.id)
    schedule = djstripe_models.SubscriptionSchedule.sync_from_stripe_data(
        schedule_data, api_key=API_KEY
    )
    assert schedule.id == schedule_data.id and schedule.stripe_data["status"] == "active"
    assert schedule.subscription is not None and schedule.subscription.id == sub_data.id
    subscription = djstripe_models.Subscription.sync_from_stripe_data(
        stripe.Subscription.retrieve(sub_data.id), api_key=API_KEY
    )
    assert subscription.schedule == schedule.id
    # dj-stripe's own SubscriptionSchedule.release() re-syncs without the api_key it was given
    # (it wants one in settings), so release through the SDK and sync the answer.
    released = djstripe_models.SubscriptionSchedule.sync_from_stripe_data(
        stripe.SubscriptionSchedule.release(schedule.id), api_key=API_KEY
    )
    assert released.stripe_data["status"] == "released"
    assert released.released_subscription is not None
    assert released.released_subscription.id == sub_data.id
