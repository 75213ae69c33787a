"""The same card saved twice (two bookings, the same card number: the same Stripe card
fingerprint) stays one saved card: the row takes the newer PaymentMethod, the older one is
detached at Stripe, and both bookings' consents point at the one card. A different card is a
second saved card. Against local Stripe over HTTP."""

import pytest

from connect_payments.models import CardSetup, SavedCard
from tests.factories import client_for

from .cards_support import book_with_card, card_service
from .conftest import TEN_AM, in_schema


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def service(alpha_account, catalogue):
    return card_service(catalogue["service"])


def test_the_same_card_saved_twice_is_one_saved_card(service, api, sdk, stripe_base_url,
                                                     tenant_alpha):  # fmt: skip
    first = book_with_card(api, sdk, stripe_base_url, service)
    in_schema(tenant_alpha)
    [card] = SavedCard.objects.all()
    old_method = card.payment_method_id
    assert card.fingerprint  # Stripe's, kept

    second = book_with_card(api, sdk, stripe_base_url, service, starts_at=TEN_AM.replace(hour=14))
    in_schema(tenant_alpha)
    [card] = SavedCard.objects.filter(removed_at__isnull=True)
    assert SavedCard.objects.count() == 1
    assert card.payment_method_id != old_method  # the newer set-up copy of the card
    setups = CardSetup.objects.filter(booking__reference__in=[first["reference"],
                                                              second["reference"]])  # fmt: skip
    assert {setup.card_id for setup in setups} == {card.pk} and setups.count() == 2
    assert sdk.v1.payment_methods.retrieve(old_method).customer is None  # detached
    assert sdk.v1.payment_methods.retrieve(card.payment_method_id).customer is not None


def test_a_different_card_is_a_second_saved_card(service, api, sdk, stripe_base_url,
                                                 tenant_alpha):  # fmt: skip
    book_with_card(api, sdk, stripe_base_url, service)
    book_with_card(api, sdk, stripe_base_url, service, starts_at=TEN_AM.replace(hour=14),
                   payment_method="pm_card_mastercard")  # fmt: skip
    in_schema(tenant_alpha)
    assert sorted(SavedCard.objects.values_list("brand", flat=True)) == ["mastercard", "visa"]
