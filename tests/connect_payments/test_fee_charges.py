"""No-show and late-cancellation fees on the saved card: charged off-session after commit
(through the outbox), once, as a destination charge with the platform fee; a late cancellation
is charged, an early one is not; the booking page shows the fee and its status."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connect_payments.models import ConnectedAccount, FeeCharge, FeeKind, FeeStatus
from outbox.models import OutboxMessage
from scheduling.models import Booking, BookingStatus
from tenants.roles import Role
from tests.factories import client_for, make_member, member_client

from .cards_support import an_hour_ago, book_with_card, card_service, move_start, post_json
from .conftest import in_schema


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def service(alpha_account, catalogue):
    return card_service(catalogue["service"])


@pytest.fixture
def desk(tenant_alpha):
    """Front desk: marks no-shows, sees no amounts."""
    return member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK), verified=True)


@pytest.fixture
def manager(tenant_alpha):
    return member_client(tenant_alpha, make_member(tenant_alpha, Role.MANAGER), verified=True)


def test_no_show_fee_is_charged_once_even_if_staff_click_twice(
    service, api, sdk, stripe_base_url, desk, manager, tenant_alpha,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    created = book_with_card(api, sdk, stripe_base_url, service)
    move_start(tenant_alpha, created["reference"], an_hour_ago())

    for _click in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = desk.post(f"/bookings/{created['reference']}/no-show/")
        assert response.status_code == 302

    in_schema(tenant_alpha)
    fee = FeeCharge.objects.get()
    assert (fee.kind, fee.status, fee.amount_minor) == (FeeKind.NO_SHOW, FeeStatus.PAID, 2000)
    assert OutboxMessage.objects.filter(task_name="connect_payments.tasks.charge_booking_fee",
                                        done_at__isnull=False).count() == 1  # fmt: skip
    intents = sdk.v1.payment_intents.list(params={"customer": fee.setup.owner.stripe_customer_id})
    assert len(intents.data) == 1
    intent = intents.data[0]
    account = ConnectedAccount.objects.get(tenant=tenant_alpha).account_id
    assert (intent.id, intent.status, intent.amount) == (fee.payment_intent_id, "succeeded", 2000)
    assert intent.transfer_data.destination == account and intent.on_behalf_of == account
    assert intent.application_fee_amount == fee.application_fee_minor == 75  # 2.5 % + 0.25
    assert intent.payment_method == fee.setup.card.payment_method_id
    assert intent.metadata["creneau_fee_id"] == str(fee.pk)
    # The charge task delivered again (a worker killed after Stripe answered) charges nothing.
    from connect_payments.tasks import charge_booking_fee

    assert charge_booking_fee(fee.pk) == "paid"
    assert len(sdk.v1.payment_intents.list(params={"customer": intent.customer}).data) == 1

    # The booking shows the fee: amounts for money roles only; the card as brand and last four.
    desk_page = desk.get(f"/bookings/{created['reference']}/").content.decode()
    assert "No-show fee · Charged" in desk_page and "€20.00" not in desk_page
    assert "Visa •••• 4242" in desk_page and fee.setup.card.payment_method_id not in desk_page
    manager_page = manager.get(f"/bookings/{created['reference']}/").content.decode()
    assert "No-show fee €20.00 · Charged" in manager_page
    assert f"/payments/fees/{fee.pk}/" in manager_page


def late_fee_text(api, created) -> str:
    response = api.get(f"/widget/bookings/{created['reference']}/",
                       {"token": created["manage_token"]})  # fmt: skip
    assert response.status_code == 200
    return response.json()["late_fee_text_now"]


def cancel(api, created):
    return post_json(api, f"/api/v1/bookings/{created['reference']}/cancel/",
                     {"token": created["manage_token"], "reason": "Cannot come"})  # fmt: skip


def test_late_cancellation_is_charged(service, api, sdk, stripe_base_url, tenant_alpha,
                                      django_capture_on_commit_callbacks):  # fmt: skip
    created = book_with_card(api, sdk, stripe_base_url, service)
    move_start(tenant_alpha, created["reference"], timezone.now() + timedelta(hours=3))
    # The manage page warns before the customer confirms.
    assert late_fee_text(api, created) == (
        "Cancelling now costs €22.50: the late-cancellation fee you agreed to is charged to "
        "your card."
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert cancel(api, created).status_code == 200

    in_schema(tenant_alpha)
    fee = FeeCharge.objects.get()
    assert (fee.kind, fee.status, fee.amount_minor) == (
        FeeKind.LATE_CANCELLATION, FeeStatus.PAID, 2250,
    )  # fmt: skip
    assert sdk.v1.payment_intents.retrieve(fee.payment_intent_id).amount == 2250


def test_early_cancellation_is_not_charged(service, api, sdk, stripe_base_url, tenant_alpha,
                                           django_capture_on_commit_callbacks):  # fmt: skip
    created = book_with_card(api, sdk, stripe_base_url, service)
    move_start(tenant_alpha, created["reference"], timezone.now() + timedelta(hours=25))
    assert late_fee_text(api, created) == ""

    with django_capture_on_commit_callbacks(execute=True):
        assert cancel(api, created).status_code == 200

    in_schema(tenant_alpha)
    assert Booking.objects.get(reference=created["reference"]).status == BookingStatus.CANCELLED
    assert not FeeCharge.objects.exists()
    assert not OutboxMessage.objects.filter(task_name__contains="fee").exists()


def test_business_cancelling_late_charges_nothing(service, api, sdk, stripe_base_url, manager,
                                                  tenant_alpha,
                                                  django_capture_on_commit_callbacks):  # fmt: skip
    created = book_with_card(api, sdk, stripe_base_url, service)
    move_start(tenant_alpha, created["reference"], timezone.now() + timedelta(hours=3))

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(f"/bookings/{created['reference']}/cancel/",
                                {"reason": "Staff ill"})  # fmt: skip

    assert response.status_code == 302
    in_schema(tenant_alpha)
    assert Booking.objects.get(reference=created["reference"]).status == BookingStatus.CANCELLED
    assert not FeeCharge.objects.exists()


def test_declined_fee_is_recorded_failed_and_not_retried(
    service, api, sdk, stripe_base_url, desk, tenant_alpha, django_capture_on_commit_callbacks
):
    # 4000000000000341: saved fine, every charge declined.
    created = book_with_card(api, sdk, stripe_base_url, service,
                             payment_method="pm_card_chargeCustomerFail")  # fmt: skip
    move_start(tenant_alpha, created["reference"], an_hour_ago())

    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"/bookings/{created['reference']}/no-show/")

    in_schema(tenant_alpha)
    fee = FeeCharge.objects.get()
    assert fee.status == FeeStatus.FAILED
    assert "declined" in fee.last_error
