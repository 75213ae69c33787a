"""Customer accounts on the business's host: one-time sign-in links (sent through the outbox,
hashed, single use, short expiry, valid on their business only), the account page and its
sections, and booking with a credit from the booking page (signed-in only, CSRF-checked)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from common.link_tokens import legacy_hash
from memberships.models import CreditEntry
from memberships.services.credits import credit_grant
from notifications.customer_emails import send_customer_sign_in_link
from outbox.models import OutboxMessage
from scheduling.models import Booking, CustomerSignInLink
from scheduling.services.customer_sign_in import (
    SIGN_IN_EMAIL_TASK,
    customer_sign_in_request,
    sign_in_token_of,
)
from scheduling.services.customers import customer_upsert
from tests.factories import host_of
from tests.scheduling.conftest import build_catalogue, paris


def client_of(tenant, **extra) -> Client:
    return Client(HTTP_HOST=host_of(tenant), **extra)


@pytest.fixture
def chloe(tenant_alpha):
    with tenant_context(tenant_alpha):
        yield customer_upsert(name="Chloé Client", email="chloe@example.test")


def link_url_from_email() -> str:
    [message] = mail.outbox
    return re.search(r"https?://\S+/my/sign-in/\S+/", message.body).group(0)


def sign_in(client: Client, tenant, customer) -> None:
    with tenant_context(tenant):
        link = customer_sign_in_request(email=customer.email)
        token = sign_in_token_of(link)
    client.get(f"/my/sign-in/{token}/")  # the page's form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(f"/my/sign-in/{token}/", {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302 and response["Location"] == "/my/"


def test_sign_in_link_is_emailed_through_the_outbox_and_signs_in_once(
    tenant_alpha, chloe, django_capture_on_commit_callbacks
):
    client = client_of(tenant_alpha)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/my/sign-in/", {"email": "Chloe@Example.test"})
    assert response.status_code == 200
    assert "a sign-in link is on its way" in response.content.decode()
    with tenant_context(tenant_alpha):
        link = CustomerSignInLink.objects.get()
        row = OutboxMessage.objects.get(task_name=SIGN_IN_EMAIL_TASK)
        assert row.kwargs == {"link_id": link.pk}  # the token itself is never stored
        token = sign_in_token_of(link)
        assert link.token_hash == legacy_hash(token) and token not in json.dumps(row.kwargs)
        send_customer_sign_in_link(link.pk)
    url = link_url_from_email()
    assert url.endswith(f"/my/sign-in/{token}/")
    assert (
        client.get(f"/my/sign-in/{token}/").status_code == 200
    )  # a button: scanners don't burn it
    response = client.post(f"/my/sign-in/{token}/")
    assert response.status_code == 302
    page = client.get("/my/")
    assert page.status_code == 200 and "chloe@example.test" in page.content.decode()
    # Reused: refused.
    again = client_of(tenant_alpha).post(f"/my/sign-in/{token}/")
    assert again.status_code == 400 and "already used" in again.content.decode()


def test_unknown_email_gets_the_same_answer_and_no_link(tenant_alpha, chloe):
    response = client_of(tenant_alpha).post("/my/sign-in/", {"email": "nobody@example.test"})
    assert response.status_code == 200
    assert "a sign-in link is on its way" in response.content.decode()
    with tenant_context(tenant_alpha):
        assert CustomerSignInLink.objects.count() == 0


def test_invalid_email_is_a_form_error(tenant_alpha):
    response = client_of(tenant_alpha).post("/my/sign-in/", {"email": "not-an-email"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_expired_link_is_refused(tenant_alpha, chloe):
    with tenant_context(tenant_alpha):
        link = customer_sign_in_request(email=chloe.email, now=timezone.now() - timedelta(hours=1))
        token = sign_in_token_of(link)
    client = client_of(tenant_alpha)
    response = client.post(f"/my/sign-in/{token}/")
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert client.get("/my/")["Location"] == "/my/sign-in/"


def test_link_of_another_business_is_refused(tenant_alpha, tenant_beta, chloe):
    with tenant_context(tenant_alpha):
        token = sign_in_token_of(customer_sign_in_request(email=chloe.email))
    with tenant_context(tenant_beta):  # beta even knows a customer with the same email
        customer_upsert(name="Chloé at Beta", email="chloe@example.test")
    response = client_of(tenant_beta).post(f"/my/sign-in/{token}/")
    assert response.status_code == 400
    with tenant_context(tenant_alpha):
        assert CustomerSignInLink.objects.get().used_at is None  # still usable on alpha


def test_a_session_of_one_business_signs_in_nobody_on_another(tenant_alpha, tenant_beta, chloe):
    client = client_of(tenant_alpha)
    sign_in(client, tenant_alpha, chloe)
    assert client.get("/my/").status_code == 200
    # The test client sends the same cookie to every host (a browser would not): the session
    # still names alpha's schema, so beta sees nobody.
    client.defaults["HTTP_HOST"] = host_of(tenant_beta)
    response = client.get("/my/")
    assert response.status_code == 302 and response["Location"] == "/my/sign-in/"


def test_too_many_links_in_an_hour_send_nothing_more(tenant_alpha, chloe):
    with tenant_context(tenant_alpha):
        links = [customer_sign_in_request(email=chloe.email) for _ in range(7)]
        assert sum(1 for link in links if link is not None) == 5


def test_account_page_shows_bookings_credits_and_their_expiry(tenant_alpha, chloe):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        credit_grant(customer=chloe, source_kind="adjustment", source_id="gift", credits=4,
                     expires_at=paris(2031, 1, 15, 12), service_ids=[catalogue["service"].pk],
                     idempotency_key="gift")  # fmt: skip
    client = client_of(tenant_alpha)
    sign_in(client, tenant_alpha, chloe)
    page = client.get("/my/").content.decode()
    assert "4 credits" in page and "Valid until 15 January 2031" in page and "Massage" in page
    assert 'id="cr-section-credits"' in page  # memberships' section, through the port


def test_credit_booking_needs_a_signed_in_customer_and_the_session_token(tenant_alpha, chloe):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        Service = type(catalogue["service"])
        Service.objects.filter(pk=catalogue["service"].pk).update(minimum_notice_minutes=0)
        credit_grant(customer=chloe, source_kind="adjustment", source_id="gift", credits=1,
                     expires_at=None, service_ids=[], idempotency_key="gift")  # fmt: skip
    start = paris(2030, 6, 4, 10).isoformat()
    body = {"service": catalogue["service"].pk, "start": start, "staff": catalogue["ada"].pk}
    anonymous = client_of(tenant_alpha, enforce_csrf_checks=True)
    refused = anonymous.get(f"/my/credit-offer/?service={catalogue['service'].pk}&start={start}")
    assert refused.json() == {"signed_in": False, "offer": None}
    client = client_of(tenant_alpha, enforce_csrf_checks=True)
    sign_in(client, tenant_alpha, chloe)
    no_token = client.post("/my/credit-bookings/", body, content_type="application/json")
    assert no_token.status_code == 403
    offer = client.get("/my/credit-offer/", {"service": catalogue["service"].pk, "start": start})
    assert offer.json()["offer"]["remaining"] == 1
    token = offer.json()["booking_token"]
    booked = client.post("/my/credit-bookings/", body, content_type="application/json",
                         HTTP_X_CRENEAU_CREDIT_TOKEN=token)  # fmt: skip
    assert booked.status_code == 201, booked.content
    assert booked.json()["status"] == "confirmed" and booked.json()["payment_mode"] == "credit"
    later = {**body, "start": paris(2030, 6, 4, 14).isoformat()}
    second = client.post("/my/credit-bookings/", later, content_type="application/json",
                         HTTP_X_CRENEAU_CREDIT_TOKEN=token)  # fmt: skip
    assert second.status_code == 409 and second.json()["error"]["code"] == "credit_unavailable"
    with tenant_context(tenant_alpha):
        assert Booking.objects.count() == 1
        assert CreditEntry.objects.filter(kind="spent").count() == 1
