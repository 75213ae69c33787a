"""The public API answers its error messages in the language the request asks for.

LocaleMiddleware activates the language from `Accept-Language`; `api_exception_handler`
translates the known texts of each error code (`API_ERROR_MESSAGES`) and leaves others as raised.
"""

import json

import pytest
from django.utils import translation

from connect_payments.exceptions import PaymentsUnavailable, PromoCodeInvalid
from scheduling import slots
from scheduling.api.public import API_ERROR_MESSAGES, api_error_message
from scheduling.exceptions import InvalidTransition, SessionFull, SlotTaken
from tests.factories import client_for
from widgets.services import HoldExpired, PaymentRequired

from .conftest import build_catalogue, paris

TEN_AM = paris(2030, 6, 4, 10)
# What the slot engine says when the chosen staff member is already booked at that time.
TAKEN_EN = "This time is no longer available."
TAKEN_FR = "Ce créneau n’est plus disponible."


@pytest.fixture
def catalogue(alpha_schema):
    built = build_catalogue()
    built["service"].payment_mode = "pay_at_venue"
    built["service"].save(update_fields=["payment_mode"])
    return built


@pytest.fixture
def api(tenant_alpha):
    return client_for(tenant_alpha)


def _hold(api, catalogue, *, email: str, language: str | None = None, **overrides):
    body = {
        "service": catalogue["service"].pk,
        "staff": catalogue["ada"].pk,
        "start": TEN_AM.isoformat(),
        "customer": {"name": "Chloé Client", "email": email, "phone": ""},
        **overrides,
    }
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return api.post("/api/v1/bookings/", json.dumps(body), content_type="application/json",
                    **headers)  # fmt: skip


def test_a_taken_slot_is_answered_in_french_when_the_request_asks_for_french(api, catalogue):
    assert _hold(api, catalogue, email="first@example.test").status_code == 201

    response = _hold(api, catalogue, email="second@example.test", language="fr")

    assert response.status_code == 409
    assert response.json()["error"] == {"code": "slot_taken", "message": TAKEN_FR}
    assert response["Content-Language"] == "fr"


@pytest.mark.parametrize("language", [None, "en", "de"])
def test_a_taken_slot_is_answered_in_english_otherwise(api, catalogue, language):
    assert _hold(api, catalogue, email="first@example.test").status_code == 201

    response = _hold(api, catalogue, email="second@example.test", language=language)

    assert response.status_code == 409
    assert response.json()["error"] == {"code": "slot_taken", "message": TAKEN_EN}


def test_slot_engine_errors_are_translated_too(api, catalogue):
    response = _hold(api, catalogue, email="late@example.test", language="fr-FR,fr;q=0.9",
                     start=paris(2030, 6, 4, 20).isoformat())  # fmt: skip

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "outside_working_hours",
        "message": "Ce créneau est en dehors des heures d’ouverture.",
    }


def test_unknown_ids_are_answered_in_french_with_their_field(api, catalogue):
    response = _hold(api, catalogue, email="x@example.test", language="fr", service=999999)

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found", "message": "Cette prestation n’existe pas.", "field": "service",
    }  # fmt: skip


def test_a_text_without_a_translation_is_answered_as_raised():
    with translation.override("fr"):
        assert api_error_message("invalid", "Use a year between 2000 and 9000.") == (
            "Use a year between 2000 and 9000."
        )
        # A known text under another code is not this code's: left alone.
        assert api_error_message("slot_in_past", TAKEN_EN) == TAKEN_EN
        assert api_error_message("slot_taken", TAKEN_EN) == TAKEN_FR


@pytest.mark.parametrize(
    "error",
    [
        SlotTaken, SessionFull, InvalidTransition, PaymentsUnavailable, PromoCodeInvalid,
        HoldExpired, PaymentRequired, slots.SlotNotOnGrid, slots.SlotInPast, slots.SlotTooSoon,
        slots.SlotTooFarAhead, slots.OutsideWorkingHours,
    ],
)  # fmt: skip
def test_each_domain_error_default_text_is_in_the_table(error):
    assert error.default_message in API_ERROR_MESSAGES[error.code]


def test_every_text_of_the_table_has_a_french_translation():
    untranslated = []
    with translation.override("fr"):
        for code, texts in API_ERROR_MESSAGES.items():
            untranslated += [
                (code, text) for text in texts if api_error_message(code, text) == text
            ]
    assert untranslated == []
