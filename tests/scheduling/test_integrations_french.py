"""The calendar subscription page follows the browser's language (French or English)."""

from tenants.roles import Role
from tests.factories import make_member, member_client


def test_calendar_subscription_page_in_french_and_in_english(tenant_alpha, catalogue):
    owner = member_client(tenant_alpha, make_member(tenant_alpha, Role.OWNER, name="Olga Owner"))

    french = owner.get("/calendar/subscribe/", HTTP_ACCEPT_LANGUAGE="fr")
    english = owner.get("/calendar/subscribe/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert french.status_code == 200
    text = french.content.decode()
    assert "<h1>Abonnement au calendrier</h1>" in text and "Réinitialiser le lien" in text
    # (The menu is templates/tenant/_nav.html's, not this page's: only the page is checked.)
    assert "<h1>Calendar subscription</h1>" not in text and "Reset link" not in text
    assert "<h1>Calendar subscription</h1>" in english and "Reset link" in english
    assert "Réinitialiser le lien" not in english
