"""Memberships against a running local Stripe (official SDK over HTTP), with signed webhooks
relayed to /stripe/webhook/ and test clocks for renewals: joining grants the first period once,
a monthly renewal grants once however often its events arrive, a failed renewal suspends the
credits until a fixed card pays, Stripe giving up ends the membership."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from common.stripe_events import ReceivedEvent, handler_for
from connect_payments.models import StripeEvent
from memberships.models import CreditEntry, Membership, MembershipPeriod, MembershipStatus
from memberships.selectors.credits import ledger_mismatches, usable_grant_for
from memberships.services.memberships import (
    membership_card_setup,
    membership_card_update,
    membership_join_returned,
)
from memberships.services.memberships_billing import membership_refresh_all
from stripe_local.testing import local
from tests.scheduling.conftest import NOW, paris

from .membership_helpers import (
    advance,
    join_and_pay,
    membership_grants,
    new_clock,
    offer_on_sale,
    relay_all,
)

CLASS_TIME = paris(2030, 6, 4, 10)


@pytest.fixture
def member(alpha_account, catalogue, customer, sdk, webhooks, tenant_alpha,
           django_capture_on_commit_callbacks):  # fmt: skip
    """A customer who joined "Monthly 8 classes" on a test clock; the first invoice's webhooks
    relayed. Returns (membership, clock id)."""
    offer = offer_on_sale([catalogue["service"]])
    clock = new_clock(sdk)
    membership = join_and_pay(sdk, offer, customer, clock=clock)
    invoice = sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id).latest_invoice
    relay_all(webhooks, django_capture_on_commit_callbacks, "invoice.paid", invoice, tenant_alpha)
    membership.refresh_from_db()
    return membership, clock


def _replay_as_new_event(event_type: str, obj: dict, tenant) -> bool:
    """The same object in another event (Stripe sends `invoice.paid` and later events about
    the same invoice; a resent event has a new id): the handler runs again."""
    handler = handler_for(event_type)
    assert handler is not None
    applied = handler(
        ReceivedEvent(event_id="evt_replayed", type=event_type, account_id="",
                      tenant_schema=tenant.schema_name, payload={"data": {"object": obj}})
    )  # fmt: skip
    connection.set_tenant(tenant)
    return applied


def test_joining_pays_the_business_and_grants_the_first_period(member, sdk, alpha_account):
    membership, _ = member
    assert membership.status == MembershipStatus.ACTIVE
    [grant] = membership_grants(membership)
    assert grant.credits_total == 8 and grant.remaining == 8
    assert grant.expires_at == membership.current_period_end
    [period] = MembershipPeriod.objects.filter(membership=membership)
    assert period.amount_paid_minor == 6000 and period.billing_reason == "subscription_create"
    # 2.5 % of the fee plan as application_fee_percent; the rest reaches alpha's account.
    charge = sdk.v1.charges.retrieve(period.charge_id)
    assert sdk.v1.application_fees.retrieve(charge.application_fee).amount == 150
    transfers = sdk.v1.transfers.list(params={"limit": 100}).data
    [transfer] = [t for t in transfers if t.source_transaction == charge.id]
    assert transfer.amount == 5850 and transfer.destination == alpha_account.account_id
    assert usable_grant_for(customer=membership.customer, service=grant.services.get(),
                            starts_at=CLASS_TIME, now=NOW).pk == grant.pk  # fmt: skip


def test_monthly_renewal_grants_credits_once_with_duplicated_events(
    member, sdk, webhooks, tenant_alpha, django_capture_on_commit_callbacks
):
    membership, clock = member
    first_end = membership.current_period_end
    advance(sdk, clock, first_end + timedelta(hours=2))
    subscription = sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id)
    renewal = sdk.v1.invoices.retrieve(subscription.latest_invoice)
    assert renewal.billing_reason == "subscription_cycle" and renewal.status == "paid"

    # Reordered: the subscription's update first, then invoice.paid twice (the same delivery
    # again is dropped by the inbox), then the same invoice in a new event, then reconciliation.
    relay_all(webhooks, django_capture_on_commit_callbacks, "customer.subscription.updated",
              membership.stripe_subscription_id, tenant_alpha)  # fmt: skip
    delivered = relay_all(webhooks, django_capture_on_commit_callbacks, "invoice.paid",
                          renewal.id, tenant_alpha)  # fmt: skip
    relay_all(webhooks, django_capture_on_commit_callbacks, "invoice.paid", renewal.id,
              tenant_alpha)  # fmt: skip
    assert _replay_as_new_event("invoice.paid", renewal.to_dict(), tenant_alpha)
    membership_refresh_all(membership=membership)

    assert delivered == 1
    assert StripeEvent.objects.filter(type="invoice.paid").count() == 2  # first + renewal
    grants = membership_grants(membership)
    assert [g.credits_total for g in grants] == [8, 8]
    assert grants[1].valid_from == first_end
    assert CreditEntry.objects.filter(grant__in=grants, kind="granted").count() == 2
    assert MembershipPeriod.objects.filter(membership=membership).count() == 2
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.current_period_start == first_end
    assert ledger_mismatches() == 0


def test_failed_renewal_blocks_credit_use_and_the_fixed_card_restores_it(
    member, sdk, webhooks, tenant_alpha, django_capture_on_commit_callbacks, mailoutbox, catalogue
):
    membership, clock = member
    declining = sdk.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": membership.stripe_customer_id}
    )
    sdk.v1.subscriptions.update(
        membership.stripe_subscription_id, params={"default_payment_method": declining.id}
    )
    renewal_at = membership.current_period_end + timedelta(hours=2)
    advance(sdk, clock, renewal_at)
    failed_invoice = sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id).latest_invoice
    relay_all(webhooks, django_capture_on_commit_callbacks, "invoice.payment_failed",
              failed_invoice, tenant_alpha)  # fmt: skip
    assert _replay_as_new_event(
        "invoice.payment_failed", sdk.v1.invoices.retrieve(failed_invoice).to_dict(), tenant_alpha
    )

    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAST_DUE
    service = catalogue["service"]
    later_class = renewal_at + timedelta(days=1)
    assert usable_grant_for(customer=membership.customer, service=service, starts_at=later_class,
                            now=renewal_at) is None  # fmt: skip
    assert all(g.suspended for g in membership_grants(membership))
    [email] = mailoutbox  # one email, though the failure arrived twice
    assert email.to == [membership.customer.email]
    assert f"/my/memberships/{membership.pk}/card/" in email.body

    # The customer fixes the card on the account page: a SetupIntent confirmed in the Payment
    # Element (here with a test card), then our endpoint pays the open invoice with it.
    secret = membership_card_setup(membership=membership)
    setup_id = secret.split("_secret_")[0]
    sdk.v1.setup_intents.confirm(setup_id, params={"payment_method": "pm_card_visa"})
    membership = membership_card_update(membership=membership, setup_intent_id=setup_id)

    assert membership.status == MembershipStatus.ACTIVE
    assert sdk.v1.invoices.retrieve(failed_invoice).status == "paid"
    relay_all(webhooks, django_capture_on_commit_callbacks, "invoice.paid", failed_invoice,
              tenant_alpha)  # fmt: skip
    grants = membership_grants(membership)
    assert [g.credits_total for g in grants] == [8, 8]
    assert not any(g.suspended for g in grants)
    usable = usable_grant_for(customer=membership.customer, service=service,
                              starts_at=later_class, now=renewal_at)  # fmt: skip
    assert usable is not None and usable.pk == grants[1].pk


@pytest.mark.parametrize("final_action", ["mark_unpaid", "cancel"])
def test_membership_ends_when_stripe_gives_up(
    member, sdk, stripe_base_url, final_action, webhooks, tenant_alpha,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    local(stripe_base_url, "/_local/config", {"dunning_final_action": final_action})
    try:
        membership, clock = member
        declining = sdk.v1.payment_methods.attach(
            "pm_card_chargeCustomerFail", params={"customer": membership.stripe_customer_id}
        )
        sdk.v1.subscriptions.update(
            membership.stripe_subscription_id, params={"default_payment_method": declining.id}
        )
        advance(sdk, clock, membership.current_period_end + timedelta(days=16))
    finally:
        local(stripe_base_url, "/_local/config", {"dunning_final_action": "mark_unpaid"})
    relay_all(webhooks, django_capture_on_commit_callbacks, "customer.subscription.updated",
              membership.stripe_subscription_id, tenant_alpha)  # fmt: skip
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ENDED and membership.ended_at is not None
    # "unpaid" (Stripe stopped retrying) is cancelled by us, so it never invoices again.
    assert sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id).status == "canceled"
    assert all(g.suspended for g in membership_grants(membership))


def test_joining_twice_returns_the_same_incomplete_membership(alpha_account, catalogue, customer,
                                                              sdk):  # fmt: skip
    from memberships.services.memberships import membership_join

    offer = offer_on_sale([catalogue["service"]])
    clock = new_clock(sdk)
    first = membership_join(offer=offer, customer=customer, test_clock=clock)
    again = membership_join(offer=offer, customer=customer, test_clock=clock)
    assert again.pk == first.pk and again.client_secret == first.client_secret
    assert Membership.objects.count() == 1
    assert len(sdk.v1.subscriptions.list(params={"status": "all"}).data) == 1
    sdk.v1.payment_intents.confirm(
        first.client_secret.split("_secret_")[0], params={"payment_method": "pm_card_visa"}
    )
    # Without any webhook: the return from the Payment Element re-reads Stripe.
    joined = membership_join_returned(membership=first)
    assert joined.status == MembershipStatus.ACTIVE
    assert [g.credits_total for g in membership_grants(joined)] == [8]


def test_a_new_card_that_is_declined_too_keeps_the_credits_suspended(member, sdk, tenant_alpha):
    from memberships.services.memberships import MembershipChangeRefused

    membership, clock = member
    declining = sdk.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": membership.stripe_customer_id}
    )
    sdk.v1.subscriptions.update(
        membership.stripe_subscription_id, params={"default_payment_method": declining.id}
    )
    advance(sdk, clock, membership.current_period_end + timedelta(hours=2))
    membership_refresh_all(membership=membership)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAST_DUE

    setup_id = membership_card_setup(membership=membership).split("_secret_")[0]
    sdk.v1.setup_intents.confirm(setup_id, params={"payment_method": "pm_card_chargeCustomerFail"})
    with pytest.raises(MembershipChangeRefused):
        membership_card_update(membership=membership, setup_intent_id=setup_id)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PAST_DUE
    assert all(g.suspended for g in membership_grants(membership))
    assert len(membership_grants(membership)) == 1  # the failed period granted nothing
