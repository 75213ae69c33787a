"""The signup page, a business's first contact with Creneau, speaks the browser's language."""

from tests.factories import PASSWORD, client_for

BASE = {
    "business_name": "Salon Lumière",
    "owner_name": "Lucie Bernard",
    "email": "lucie@lumiere-fr.test",
    "password": PASSWORD,
    "country": "FR",
    "time_zone": "Europe/Paris",
}


def test_signup_page_is_french_for_a_french_browser(db):
    page = client_for().get("/signup/", HTTP_ACCEPT_LANGUAGE="fr")

    assert page.status_code == 200
    text = page.content.decode()
    for french in ("Créez votre établissement", "Nom de l’établissement", "Mot de passe",
                   "Créer mon établissement"):  # fmt: skip
        assert french in text
    assert "Create your business" not in text and "Create my business" not in text


def test_signup_page_stays_english_for_an_english_browser(db):
    text = client_for().get("/signup/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Create your business" in text and "Business name" in text
    assert "Créez votre établissement" not in text


def test_a_taken_address_is_refused_in_french(db, tenant_alpha):
    response = client_for().post(
        "/signup/", {**BASE, "slug": tenant_alpha.slug}, HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "Cette adresse est déjà prise." in text
    assert "This address is already taken." not in text
