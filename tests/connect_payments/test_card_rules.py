"""The pure rules of cards on file: fee amounts, the late window of a policy and its boundary,
the consent wording; and the business default reaching a service that follows it."""

from datetime import UTC, datetime, timedelta

import pytest

from connect_payments.card_rules import (
    FeeTerms,
    cancellation_is_late,
    consent_text,
    fee_minor,
    late_window_hours,
)
from connect_payments.services.card_setup import fee_terms_for
from scheduling.models import CardOnFile, SchedulingSettings

START = datetime(2030, 6, 4, 10, tzinfo=UTC)


def test_fee_is_fixed_or_a_percentage_rounded_half_up():
    assert fee_minor(price_minor=4500, fixed_minor=2000, percent=None) == 2000
    assert fee_minor(price_minor=4500, fixed_minor=None, percent=50) == 2250
    assert fee_minor(price_minor=4501, fixed_minor=None, percent=50) == 2251  # 2250.5 → up
    assert fee_minor(price_minor=4500, fixed_minor=None, percent=None) == 0
    with pytest.raises(ValueError):
        fee_minor(price_minor=4500, fixed_minor=None, percent=101)


def test_late_window_is_the_smallest_full_refund_tier():
    assert late_window_hours([{"hours_before": 48, "refund_percent": 100},
                              {"hours_before": 24, "refund_percent": 100},
                              {"hours_before": 0, "refund_percent": 0}]) == 24  # fmt: skip
    assert late_window_hours([{"hours_before": 24, "refund_percent": 50}]) is None
    assert late_window_hours([{"hours_before": 0, "refund_percent": 100}]) is None
    assert late_window_hours([]) is None
    assert late_window_hours("not a policy") is None


def test_cancelling_exactly_at_the_window_is_not_late():
    at_window = START - timedelta(hours=24)
    assert not cancellation_is_late(starts_at=START, cancelled_at=at_window, window_hours=24)
    assert cancellation_is_late(
        starts_at=START, cancelled_at=at_window + timedelta(seconds=1), window_hours=24
    )
    assert not cancellation_is_late(starts_at=START, cancelled_at=START, window_hours=None)


def test_consent_wording_names_each_fee():
    both = FeeTerms("EUR", no_show_minor=2000, late_cancel_minor=1000, late_window_hours=24)
    assert consent_text(business="Studio Zen", terms=both) == (
        "You authorise Studio Zen to charge up to €20.00 to this card if you do not attend, or "
        "€10.00 if you cancel less than 24 hours before the start. Nothing is charged now."
    )
    no_show = FeeTerms("EUR", no_show_minor=2000, late_cancel_minor=0, late_window_hours=None)
    assert consent_text(business="Studio Zen", terms=no_show, language="fr") == (
        "Vous autorisez Studio Zen à débiter jusqu’à 20,00\u00a0€ sur cette carte si vous ne "
        "venez pas. Rien n’est débité maintenant."
    )
    assert consent_text(business="Z", terms=FeeTerms("EUR", 0, 0, None)) == ""


def test_business_default_applies_to_services_that_follow_it(alpha, catalogue):
    service = catalogue["service"]
    service.payment_mode = "pay_at_venue"
    service.card_on_file = CardOnFile.BUSINESS_DEFAULT
    policy = [{"hours_before": 24, "refund_percent": 100}]
    settings = SchedulingSettings(card_on_file_required=True, no_show_fee_percent=100,
                                  late_cancel_fee_fixed_minor=1500)  # fmt: skip

    terms = fee_terms_for(service=service, price_minor=4500, policy=policy, currency="EUR",
                          settings=settings)  # fmt: skip

    assert terms == FeeTerms("EUR", no_show_minor=4500, late_cancel_minor=1500,
                             late_window_hours=24)  # fmt: skip
    # Not asked by the business, switched off on the service, or paid online: no card.
    settings.card_on_file_required = False
    assert fee_terms_for(service=service, price_minor=4500, policy=policy, currency="EUR",
                         settings=settings) is None  # fmt: skip
    settings.card_on_file_required = True
    service.card_on_file = CardOnFile.OFF
    assert fee_terms_for(service=service, price_minor=4500, policy=policy, currency="EUR",
                         settings=settings) is None  # fmt: skip
    service.card_on_file = CardOnFile.REQUIRED
    service.payment_mode = "online_full"
    assert fee_terms_for(service=service, price_minor=4500, policy=policy, currency="EUR",
                         settings=settings) is None  # fmt: skip
