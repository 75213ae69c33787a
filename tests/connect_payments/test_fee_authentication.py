"""When the bank asks for authentication (`authentication_required`) the fee is not retried
off-session: the customer gets an email with a signed link, the booking shows "fee awaiting the
customer", the customer authenticates (3-D Secure) and pays on the page, one reminder follows
after 48 hours. Test card 4000002760003184 (`pm_card_authenticationRequired`): Stripe's card
that asks for authentication on every payment, off-session ones included."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from connect_payments.models import FeeCharge, FeeStatus
from connect_payments.services.card_fees import fee_reminders_enqueue
from connect_payments.tasks import remind_fees_awaiting_customer_in_every_tenant
from stripe_local.testing import local
from tenants.roles import Role
from tests.factories import client_for, make_member, member_client

from .cards_support import an_hour_ago, book_with_card, card_service, move_start, post_json
from .conftest import in_schema


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def desk(tenant_alpha):
    return member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK), verified=True)


@pytest.fixture
def awaiting(alpha_account, catalogue, api, sdk, stripe_base_url, desk, tenant_alpha,
             django_capture_on_commit_callbacks):  # fmt: skip
    """A no-show whose off-session charge the bank refused for want of authentication."""
    service = card_service(catalogue["service"])
    created = book_with_card(api, sdk, stripe_base_url, service,
                             payment_method="pm_card_authenticationRequired")  # fmt: skip
    move_start(tenant_alpha, created["reference"], an_hour_ago())
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"/bookings/{created['reference']}/no-show/")
    in_schema(tenant_alpha)
    return created, FeeCharge.objects.get()


def pay_link(message) -> str:
    found = re.search(r"http://\S+/manage/fee/\d+/\?token=\S+", message.body)
    assert found, message.body
    return found.group(0)


def page_config(response) -> dict:
    text = response.content.decode()
    marker = '<script id="cr-config" type="application/json">'
    start = text.index(marker) + len(marker)
    return json.loads(text[start : text.index("</script>", start)])


def authenticate_and_pay(sdk, base_url: str, fee_config: dict) -> None:
    """What the page's Stripe.js does: confirm on-session with the saved card, pass 3-D Secure."""
    intent_id = fee_config["client_secret"].split("_secret_")[0]
    intent = sdk.v1.payment_intents.confirm(
        intent_id, params={"payment_method": fee_config["payment_method"]}
    )
    assert intent.status == "requires_action"
    local(base_url, f"/_local/3ds/{intent_id}",
          {"client_secret": fee_config["client_secret"], "outcome": "complete"})  # fmt: skip


def test_authentication_required_emails_the_customer_who_authenticates_and_pays(
    awaiting, api, sdk, stripe_base_url, desk, tenant_alpha
):
    created, fee = awaiting
    assert fee.status == FeeStatus.AWAITING_CUSTOMER
    # Tried once off-session, never again.
    intents = sdk.v1.payment_intents.list(params={"customer": fee.setup.owner.stripe_customer_id})
    assert [intent.status for intent in intents.data] == ["requires_payment_method"]
    assert intents.data[0].last_payment_error.code == "authentication_required"
    page = desk.get(f"/bookings/{created['reference']}/").content.decode()
    assert "No-show fee · Fee awaiting the customer" in page

    [message] = mail.outbox
    assert message.to == ["chloe@example.test"]
    assert "€20.00" in message.body
    link = pay_link(message)
    response = api.get(link[link.index("/manage/") :])
    assert response.status_code == 200
    fee_config = page_config(response)["fee"]
    assert fee_config["client_secret"] == fee.client_secret
    assert fee_config["payment_method"] == fee.setup.card.payment_method_id

    authenticate_and_pay(sdk, stripe_base_url, fee_config)
    status = post_json(api, fee_config["status_url"], {"token": fee_config["token"]})

    assert status.status_code == 200
    assert status.json()["status"] == "paid"
    in_schema(tenant_alpha)
    fee.refresh_from_db()
    assert fee.status == FeeStatus.PAID and fee.paid_at is not None
    assert (
        "No-show fee · Charged" in desk.get(f"/bookings/{created['reference']}/").content.decode()
    )
    assert list(fee.events.values_list("action", flat=True)) == [
        "creneau.fee.reserved", "creneau.fee.authentication_required",
        "creneau.fee.customer_asked", "creneau.fee.charged",
    ]  # fmt: skip


def test_paid_on_the_page_and_reported_by_webhook(
    awaiting, api, sdk, stripe_base_url, webhooks, tenant_alpha,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    _created, fee = awaiting
    response = api.get(pay_link(mail.outbox[0])[pay_link(mail.outbox[0]).index("/manage/") :])
    authenticate_and_pay(sdk, stripe_base_url, page_config(response)["fee"])  # tab closed then

    delivery = webhooks.deliveries("payment_intent.succeeded", fee.payment_intent_id)[0]
    assert webhooks.relay(delivery, captured=django_capture_on_commit_callbacks).status_code == 200

    in_schema(tenant_alpha)
    fee.refresh_from_db()
    assert fee.status == FeeStatus.PAID


def test_one_reminder_after_48_hours(awaiting, tenant_alpha, django_capture_on_commit_callbacks):
    _created, fee = awaiting
    assert fee_reminders_enqueue(now=timezone.now() + timedelta(hours=47)) == 0

    later = timezone.now() + timedelta(hours=49)
    for _beat in range(2):  # the beat runs again: still one reminder
        with django_capture_on_commit_callbacks(execute=True):
            fee_reminders_enqueue(now=later)

    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.startswith("Reminder:")
    assert pay_link(mail.outbox[1]) == pay_link(mail.outbox[0])
    in_schema(tenant_alpha)
    fee.refresh_from_db()
    assert fee.reminder_sent_at is not None
    # The beat job itself runs in every tenant (nothing due now: the fee was just asked).
    assert remind_fees_awaiting_customer_in_every_tenant() == {}


def test_pay_link_with_a_wrong_token_is_not_found(awaiting, api):
    _created, fee = awaiting

    assert api.get(f"/manage/fee/{fee.pk}/", {"token": "wrong"}).status_code == 404
    assert post_json(api, f"/manage/fee/{fee.pk}/status/", {"token": "wrong"}).status_code == 404
