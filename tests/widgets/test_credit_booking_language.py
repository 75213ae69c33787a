"""A booking the signed-in customer pays with a credit (/my/credit-bookings/, from the booking
page) records the page's language, so its confirmation is in that language. Real views, credits
and templates; Django's locmem email backend."""

from django.core import mail
from django_tenants.utils import tenant_context

from memberships.services.credits import credit_grant
from scheduling.models import Booking
from tests.scheduling.conftest import build_catalogue, paris

from .test_account import chloe, client_of, sign_in

__all__ = ["chloe"]  # the fixture, used by name


def test_a_credit_booking_made_in_french_is_confirmed_in_french(
    tenant_alpha, chloe, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        Service = type(catalogue["service"])
        Service.objects.filter(pk=catalogue["service"].pk).update(minimum_notice_minutes=0)
        credit_grant(customer=chloe, source_kind="adjustment", source_id="gift", credits=1,
                     expires_at=None, service_ids=[], idempotency_key="gift")  # fmt: skip
    start = paris(2030, 6, 4, 10).isoformat()
    client = client_of(tenant_alpha, enforce_csrf_checks=True)
    sign_in(client, tenant_alpha, chloe)
    mail.outbox.clear()  # the sign-in link
    offer = client.get("/my/credit-offer/", {"service": catalogue["service"].pk, "start": start})
    body = {"service": catalogue["service"].pk, "start": start, "staff": catalogue["ada"].pk}
    with django_capture_on_commit_callbacks(execute=True):
        booked = client.post("/my/credit-bookings/", body, content_type="application/json",
                             HTTP_X_CRENEAU_CREDIT_TOKEN=offer.json()["booking_token"],
                             HTTP_ACCEPT_LANGUAGE="fr")  # fmt: skip

    assert booked.status_code == 201, booked.content
    with tenant_context(tenant_alpha):
        assert Booking.objects.get(reference=booked.json()["reference"]).language == "fr"
    [confirmation] = [m for m in mail.outbox if m.to == [chloe.email]]
    assert confirmation.subject == "Réservation confirmée : Massage le mardi 4 juin à 10:00"
