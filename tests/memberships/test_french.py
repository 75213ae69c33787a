"""French for passes, memberships and customer accounts: the /my/ pages in the page's language,
the back office's pass and membership pages in the team member's, and the account emails in the
business's default language (Branding). Also: the sign-in pages name the business (the name
was lost inside `blocktranslate`, which cannot read `tenant.name`)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from memberships.models import CreditSourceKind
from memberships.tasks import send_credits_expiry_reminder
from notifications.customer_emails import send_customer_sign_in_link
from scheduling.services.customer_sign_in import customer_sign_in_request
from scheduling.services.customers import customer_upsert
from tests.factories import host_of, member_client
from tests.scheduling.conftest import NOW, build_catalogue
from widgets.models import Branding

from .conftest import grant_credits
from .test_passes import make_offer


@pytest.fixture(autouse=True)
def back_to_english():
    """LocaleMiddleware leaves the last request's language active on the test's thread (a
    French back-office request would turn later tests' emails French)."""
    yield
    translation.activate("en")


def test_sign_in_pages_name_the_business_in_english_and_french(tenant_alpha):
    client = Client(HTTP_HOST=host_of(tenant_alpha))
    english = client.get("/my/sign-in/").content.decode()
    assert "Enter the email you book with at Alpha Studio:" in english
    french = client.get("/my/sign-in/", {"lang": "fr"}).content.decode()
    assert "Saisissez l’e-mail avec lequel vous réservez chez Alpha Studio" in french
    sent = client.post("/my/sign-in/?lang=fr", {"email": "x@example.test"}).content.decode()
    assert "Si cet e-mail est connu de Alpha Studio" in sent


def test_passes_page_for_customers_in_french(tenant_alpha, alpha_account):
    with tenant_context(tenant_alpha):
        make_offer(build_catalogue())
    html = Client(HTTP_HOST=host_of(tenant_alpha)).get("/my/passes/", {"lang": "fr"})
    assert "Connectez-vous pour acheter une carte" in html.content.decode()


def test_back_office_pass_and_membership_pages_in_french(tenant_alpha, owner_alpha):
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    passes = client.get("/passes/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Nouvelle carte" in passes and "Valable (jours)" in passes
    memberships = client.get("/memberships/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Nouvel abonnement" in memberships and "Remise membre (%)" in memberships
    english = client.get("/passes/").content.decode()
    assert "New pass" in english


def test_account_emails_use_the_business_language(tenant_alpha):
    with tenant_context(tenant_alpha):
        Branding.objects.create(default_language="fr")
        chloe = customer_upsert(name="Chloé Client", email="chloe@example.test")
        send_customer_sign_in_link(customer_sign_in_request(email=chloe.email).pk)
        grant = grant_credits(chloe, credits=3, source_kind=CreditSourceKind.ADJUSTMENT,
                              expires_at=NOW)  # fmt: skip
        send_credits_expiry_reminder(grant.pk)
    sign_in, reminder = mail.outbox
    assert sign_in.subject == "Votre lien de connexion pour Alpha Studio"
    assert "Bonjour Chloé Client," in sign_in.body and "Il fonctionne une fois" in sign_in.body
    assert reminder.subject == "Vos 3 crédit(s) chez Alpha Studio expirent bientôt"
    # In the business's time zone (08:00 in Paris), not the server's.
    expected = "3 crédits de votre Ajustement par l’équipe chez Alpha Studio expirent le lundi"
    assert f"{expected} 3 juin 2030, 08:00." in reminder.body
