"""The payments list against local Stripe: a pass bought and refunded pro rata through
memberships' services shows the amounts Stripe moved (the platform fee and the part of it
returned with the refund), and the customer's total spent on the customers page agrees."""

from __future__ import annotations

from memberships.services.credit_bookings import booking_with_credit
from memberships.services.passes import pass_purchase_sync, pass_refund
from scheduling.actors import CUSTOMER
from tenants.roles import Role
from tests.factories import make_member, member_client
from tests.memberships.test_passes import MANAGER, buy, make_offer, stripe_refund_amounts
from tests.scheduling.conftest import paris

from .test_payments_list import table_of


def test_a_pass_refunded_pro_rata_shows_what_stripe_moved(alpha_account, catalogue, customer,
                                                          sdk, tenant_alpha):  # fmt: skip
    offer = make_offer(catalogue)  # 400.00, the plan's fee: 2.5 % + 0.25 = 10.25
    purchase = pass_purchase_sync(purchase=buy(offer, customer, sdk))
    for day in (4, 5, 6):
        booking_with_credit(service=catalogue["service"], customer=customer, actor=CUSTOMER,
                            starts_at=paris(2030, 6, day, 10))  # fmt: skip
    pass_refund(purchase=purchase, actor=MANAGER, reason="Moving away")  # 7 of 10 credits
    refunded, fee_refunded, _reversed = stripe_refund_amounts(sdk, purchase)
    assert (refunded, fee_refunded) == (28000, 718)
    manager = member_client(tenant_alpha, make_member(tenant_alpha, Role.MANAGER), verified=True)

    [row] = [row for row in table_of(manager) if row["key"][0] == "pass"]

    # gross, refunds, platform fee (1025 taken − 718 returned), net
    assert row["cells"][3:7] == ["€400.00", "€280.00", "€3.07", "€116.93"]
    assert row["cells"][8].startswith(purchase.payment_intent_id)
    page = manager.get(f"/customers/{customer.pk}/").content.decode()
    assert "€120.00" in page  # what the customer spent: 400.00 − 280.00 (no booking paid)
