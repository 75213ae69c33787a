"""Owner-facing money pages follow the browser's language: French for a French browser (labels,
buttons, amounts written the French way), English otherwise."""

import pytest

from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from tenants.roles import Role
from tests.factories import make_member, member_client

from .conftest import hold_now


@pytest.fixture
def paid(alpha_account, catalogue, customer, sdk):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    return booking, booking_payment_on_return(booking=booking)


@pytest.fixture
def owner(tenant_alpha):
    user = make_member(tenant_alpha, Role.OWNER, name="Olga Owner")
    return member_client(tenant_alpha, user, verified=True)


def test_payment_detail_in_french_for_a_french_browser(paid, owner):
    _, payment = paid

    page = owner.get(f"/payments/{payment.pk}/", HTTP_ACCEPT_LANGUAGE="fr")

    assert page.status_code == 200
    text = page.content.decode()
    for french in ("Paiement de", "Client", "Net pour vous", "Historique", "Rembourser", "45,00"):
        assert french in text
    for english in ("Payment of", "Net to you", "History", "Charged online", "€45.00"):
        assert english not in text


def test_payment_detail_stays_english_for_an_english_browser(paid, owner):
    _, payment = paid

    text = owner.get(f"/payments/{payment.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Payment of" in text and "Net to you" in text and "€45.00" in text
    assert "Net pour vous" not in text


def test_promo_codes_in_french(owner):
    page = owner.get("/payments/promo-codes/", HTTP_ACCEPT_LANGUAGE="fr")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Nouveau code promo" in text and "Créer votre premier code" in text
    assert "New promo code" not in text and "Create your first code" not in text
    english = owner.get("/payments/promo-codes/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "New promo code" in english and "Nouveau code promo" not in english


def test_get_paid_in_french(owner):
    page = owner.get("/payouts/", HTTP_ACCEPT_LANGUAGE="fr")

    assert page.status_code == 200
    text = page.content.decode()
    # (The menu is templates/tenant/_nav.html's: only this page's own heading is checked.)
    assert "<h1>Être payé</h1>" in text and "Se connecter avec Stripe" in text
    assert "<h1>Get paid</h1>" not in text and "Connect with Stripe" not in text


def test_promo_code_form_error_in_french(owner):
    page = owner.post(
        "/payments/promo-codes/",
        {"code": "ÉTÉ!", "kind": "percent", "value": "150"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert page.status_code == 400
    text = page.content.decode()
    assert "Utilisez de 3 à 40 lettres, chiffres, tirets ou tirets bas." in text
    assert "Use 3 to 40 letters" not in text
