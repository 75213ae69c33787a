"""Cards on file at checkout: the customer sees the exact fees, consents, and saves a card with
a SetupIntent (usage=off_session) through the widget's endpoints; nothing is charged; the consent
text, its version and time are stored with the booking. Against local Stripe over HTTP."""

import pytest

from connect_payments.card_rules import CONSENT_VERSION, consent_digest
from connect_payments.models import CardCustomer, CardSetup, CardSetupStatus, SavedCard
from scheduling.models import Booking, BookingStatus
from tests.factories import client_for

from .cards_support import (
    book_page_terms,
    book_with_card,
    card_service,
    complete_card,
    confirm_setup,
    hold,
    post_json,
    start_card,
)
from .conftest import in_schema


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def service(alpha_account, catalogue):
    return card_service(catalogue["service"])


def test_booking_page_shows_the_exact_fees_to_consent_to(service, api):
    terms = book_page_terms(api, service)

    assert terms["no_show_fee_minor"] == 2000
    assert terms["late_cancel_fee_minor"] == 2250  # 50 % of 45.00
    assert terms["late_window_hours"] == 24
    assert terms["consent_text"] == (
        "You authorise Alpha Studio to charge up to €20.00 to this card if you do not attend, "
        "or €22.50 if you cancel less than 24 hours before the start. Nothing is charged now."
    )
    assert terms["consent_digest"] == consent_digest(terms["consent_text"])


def test_card_saved_at_booking_with_consent_stored(service, api, sdk, stripe_base_url,
                                                   tenant_alpha):  # fmt: skip
    terms = book_page_terms(api, service)
    created = hold(api, service)
    # Without a card the booking cannot be confirmed the pay-at-venue way.
    refused = post_json(api, f"/widget/bookings/{created['reference']}/confirm/",
                        {"token": created["manage_token"]})  # fmt: skip
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "card_required"

    started = start_card(api, created, terms["consent_digest"])
    assert started.status_code == 200, started.content
    body = started.json()
    setup_intent = sdk.v1.setup_intents.retrieve(body["client_secret"].split("_secret_")[0])
    assert setup_intent.usage == "off_session"
    assert setup_intent.on_behalf_of == alpha_account_id(tenant_alpha)
    confirm_setup(sdk, stripe_base_url, body["client_secret"], "pm_card_visa")
    completed = complete_card(api, created)

    assert completed.status_code == 200
    assert completed.json() == {
        "reference": created["reference"], "status": "confirmed", "card_saved": True,
        "card": "Visa •••• 4242", "error": None,
    }  # fmt: skip
    in_schema(tenant_alpha)
    setup = CardSetup.objects.get(booking__reference=created["reference"])
    assert setup.consent_text == terms["consent_text"]
    assert setup.consent_version == CONSENT_VERSION
    assert setup.consented_at is not None
    assert (setup.no_show_fee_minor, setup.late_cancel_fee_minor, setup.late_window_hours) == (
        2000, 2250, 24,
    )  # fmt: skip
    assert setup.status == CardSetupStatus.SAVED
    card = SavedCard.objects.get()
    assert (card.brand, card.last4) == ("visa", "4242")
    owner = CardCustomer.objects.get()
    assert setup_intent.customer == owner.stripe_customer_id
    assert (
        sdk.v1.payment_methods.retrieve(card.payment_method_id).customer == owner.stripe_customer_id
    )
    # Nothing was charged.
    assert sdk.v1.payment_intents.list(params={"customer": owner.stripe_customer_id}).data == []
    assert Booking.objects.get(reference=created["reference"]).status == BookingStatus.CONFIRMED


def alpha_account_id(tenant):
    from connect_payments.models import ConnectedAccount

    return ConnectedAccount.objects.get(tenant=tenant).account_id


def test_consent_to_other_amounts_is_refused(service, api, tenant_alpha):
    created = hold(api, service)

    response = start_card(api, created, consent_digest("You authorise nothing."))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "consent_changed"
    in_schema(tenant_alpha)
    assert not CardSetup.objects.exists()


def test_card_needing_3ds_at_setup_is_saved_after_authentication(
    service, api, sdk, stripe_base_url, tenant_alpha
):
    book_with_card(api, sdk, stripe_base_url, service,
                   payment_method="pm_card_authenticationRequiredOnSetup")  # fmt: skip

    in_schema(tenant_alpha)
    assert SavedCard.objects.get().last4 == "3155"


def test_setup_succeeded_webhook_saves_the_card_when_the_page_never_came_back(
    service, api, sdk, stripe_base_url, webhooks, django_capture_on_commit_callbacks,
    tenant_alpha,
):  # fmt: skip
    terms = book_page_terms(api, service)
    created = hold(api, service)
    secret = start_card(api, created, terms["consent_digest"]).json()["client_secret"]
    confirm_setup(sdk, stripe_base_url, secret, "pm_card_mastercard")  # then the tab closed

    delivery = webhooks.deliveries("setup_intent.succeeded", secret.split("_secret_")[0])[0]
    response = webhooks.relay(delivery, captured=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    in_schema(tenant_alpha)
    assert Booking.objects.get(reference=created["reference"]).status == BookingStatus.CONFIRMED
    assert SavedCard.objects.get().last4 == "4444"


def test_service_paid_at_venue_without_card_is_unchanged(alpha_account, catalogue, api):
    service = catalogue["service"]
    service.payment_mode = "pay_at_venue"
    service.save()

    created = hold(api, service)
    confirmed = post_json(api, f"/widget/bookings/{created['reference']}/confirm/",
                          {"token": created["manage_token"]})  # fmt: skip

    assert confirmed.status_code == 200
    assert "card_terms" in api.get("/book/").content.decode()
    assert str(service.pk) not in _terms_keys(api)


def _terms_keys(api) -> list[str]:
    import json

    text = api.get("/book/").content.decode()
    marker = '<script id="cr-config" type="application/json">'
    start = text.index(marker) + len(marker)
    return list(json.loads(text[start : text.index("</script>", start)])["card_terms"])
