"""Shared steps of the card-on-file tests: a service paid at the venue that asks for a card,
a customer who books it through the widget's endpoints and saves a card (over HTTP, against
local Stripe), and a booking moved to a chosen start."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from scheduling.models import Booking, CardOnFile, Service
from stripe_local.testing import local

from .conftest import TEN_AM

# Full refund up to 24 hours ahead: the late window is 24 hours.
POLICY_24H = [{"hours_before": 24, "refund_percent": 100}]


def card_service(service: Service, *, no_show_minor: int = 2000, late_percent: int | None = 50,
                 policy: list | None = None) -> Service:  # fmt: skip
    """The catalogue's massage (45.00), paid at the venue, with a card on file."""
    Service.objects.filter(pk=service.pk).update(
        payment_mode="pay_at_venue",
        card_on_file=CardOnFile.REQUIRED,
        no_show_fee_fixed_minor=no_show_minor,
        late_cancel_fee_percent=late_percent,
        cancellation_policy=POLICY_24H if policy is None else policy,
    )
    service.refresh_from_db()
    return service


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def book_page_terms(api, service: Service) -> dict:
    page = api.get("/book/")
    assert page.status_code == 200
    text = page.content.decode()
    start = text.index('<script id="cr-config" type="application/json">') + len(
        '<script id="cr-config" type="application/json">'
    )
    config = json.loads(text[start : text.index("</script>", start)])
    return config["card_terms"][str(service.pk)]


def hold(api, service: Service, *, starts_at: datetime = TEN_AM, email="chloe@example.test"):
    response = post_json(api, "/api/v1/bookings/", {
        "service": service.pk, "start": starts_at.isoformat(),
        "customer": {"name": "Chloé Client", "email": email, "phone": ""},
    })  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()


def start_card(api, created: dict, digest: str):
    return post_json(
        api,
        f"/widget/bookings/{created['reference']}/card/",
        {"token": created["manage_token"], "consent_digest": digest},
    )


def complete_card(api, created: dict):
    return post_json(
        api,
        f"/widget/bookings/{created['reference']}/card/complete/",
        {"token": created["manage_token"]},
    )


def confirm_setup(sdk, base_url: str, client_secret: str, payment_method: str) -> None:
    """What Stripe.js does with the Payment Element: confirm, and pass 3-D Secure if asked."""
    setup_id = client_secret.split("_secret_")[0]
    intent = sdk.v1.setup_intents.confirm(setup_id, params={"payment_method": payment_method})
    if intent.status == "requires_action":
        local(base_url, f"/_local/3ds/{setup_id}",
              {"client_secret": client_secret, "outcome": "complete"})  # fmt: skip


def book_with_card(api, sdk, base_url: str, service: Service, *, payment_method="pm_card_visa",
                   starts_at: datetime = TEN_AM, email="chloe@example.test") -> dict:  # fmt: skip
    """The whole checkout: terms shown, hold, consent, card saved, booking confirmed."""
    terms = book_page_terms(api, service)
    created = hold(api, service, starts_at=starts_at, email=email)
    started = start_card(api, created, terms["consent_digest"])
    assert started.status_code == 200, started.content
    confirm_setup(sdk, base_url, started.json()["client_secret"], payment_method)
    completed = complete_card(api, created)
    assert completed.status_code == 200, completed.content
    assert completed.json()["status"] == "confirmed"
    return created


def move_start(tenant, reference: str, starts_at: datetime) -> Booking:
    """Put a booking at another start (a booking made ahead whose day has come)."""
    connection.set_tenant(tenant)
    booking = Booking.objects.get(reference=reference)
    ends_at = starts_at + (booking.ends_at - booking.starts_at)
    Booking.objects.filter(pk=booking.pk).update(
        starts_at=starts_at, ends_at=ends_at, occupied=DateTimeTZRange(starts_at, ends_at, "[)")
    )
    booking.refresh_from_db()
    return booking


def an_hour_ago() -> datetime:
    return timezone.now() - timedelta(hours=1)
