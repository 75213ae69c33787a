"""Booking emails are written in the language the customer booked in.

The public API records the request's language (`Accept-Language`, which the widget and the hosted
booking page always send) on the booking; a booking the team makes records none and is written
in the business's language (its Branding `default_language`). Real API, real templates, the real
French catalogue (locale/fr), Django's locmem email backend.
"""

import json
from datetime import timedelta

import pytest
from django.core import mail

from notifications.emails import booking_notification_send, booking_notify_after_commit
from scheduling.models import Booking, BookingSource, NotificationKind
from scheduling.services.bookings import (
    booking_cancel,
    booking_confirm,
    booking_hold,
    booking_reschedule,
)
from tests.factories import client_for
from widgets.models import Branding

from .conftest import NOW, build_catalogue, paris
from .test_api_sessions import make_session, seat_body
from .test_notifications import FRONT_DESK, html_of, ics_of

TEN_AM = paris(2030, 6, 4, 10)  # a Tuesday, in June


@pytest.fixture
def catalogue(alpha_schema):
    built = build_catalogue()
    built["service"].payment_mode = "pay_at_venue"
    built["service"].save(update_fields=["payment_mode"])
    return built


def hold_through_the_api(tenant, catalogue, *, language: str | None) -> Booking:
    body = {
        "service": catalogue["service"].pk,
        "staff": catalogue["ada"].pk,
        "start": TEN_AM.isoformat(),
        "customer": {"name": "Chloé Client", "email": "chloe@example.test", "phone": ""},
    }
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client_for(tenant).post(
        "/api/v1/bookings/", json.dumps(body), content_type="application/json", **headers
    )
    assert response.status_code == 201, response.content
    return Booking.objects.get(reference=response.json()["reference"])


def confirm_and_send(booking: Booking, capture) -> None:
    with capture(execute=True):
        booking_confirm(booking=booking, actor=FRONT_DESK)


def remind(booking: Booking) -> None:
    outcome = booking_notification_send(
        booking_id=booking.pk, kind=NotificationKind.REMINDER, now=TEN_AM - timedelta(hours=20)
    )
    assert outcome == "sent"


def test_a_booking_held_in_french_gets_its_confirmation_and_reminder_in_french(
    tenant_alpha, catalogue, django_capture_on_commit_callbacks
):
    booking = hold_through_the_api(tenant_alpha, catalogue, language="fr-FR,fr;q=0.9")
    assert booking.language == "fr"

    confirm_and_send(booking, django_capture_on_commit_callbacks)
    remind(booking)

    confirmation, reminder = mail.outbox
    assert confirmation.subject == "Réservation confirmée : Massage le mardi 4 juin à 10:00"
    body = confirmation.body
    assert body.startswith(
        "Bonjour Chloé Client,\n\nVotre réservation chez Alpha Studio est confirmée."
    )
    assert "Quand :    mardi 4 juin 2030, 10:00–11:00 CEST (heure de Europe/Paris)" in body
    assert "Avec :     Ada" in body
    assert "Prix :     €45.00, à régler sur place" in body  # money formatted as before
    assert "Conditions d’annulation : Remboursement intégral en cas d’annulation" in body
    assert "Pour annuler ou déplacer votre réservation :" in body
    assert "À bientôt," in body
    for english in ("Hello", "Tuesday", "June", "confirmed", "When:", "Cancellation policy"):
        assert english not in body and english not in html_of(confirmation)
    html = html_of(confirmation)
    assert '<html lang="fr">' in html
    assert "Votre réservation est confirmée" in html
    assert "mardi 4 juin 2030, 10:00–11:00 CEST" in html
    assert "Annuler ou déplacer cette réservation" in html
    [event] = ics_of(confirmation).walk("VEVENT")
    assert f"Référence de la réservation : {booking.reference}" in str(event["description"])

    assert reminder.subject == "Rappel : Massage le mardi 4 juin à 10:00"
    assert "Un rappel de votre réservation chez Alpha Studio :" in reminder.body
    assert "mardi 4 juin 2030, 10:00–11:00 CEST" in reminder.body
    assert "Vous ne pouvez pas venir ? Annulez ou déplacez votre réservation ici :" in reminder.body


def test_a_booking_held_in_english_stays_english_in_a_french_business(
    tenant_alpha, catalogue, django_capture_on_commit_callbacks
):
    Branding.objects.create(default_language="fr")
    booking = hold_through_the_api(tenant_alpha, catalogue, language="en")
    assert booking.language == "en"

    confirm_and_send(booking, django_capture_on_commit_callbacks)
    remind(booking)

    confirmation, reminder = mail.outbox
    assert confirmation.subject == "Booking confirmed: Massage on Tuesday 4 June at 10:00"
    assert (
        "When:      Tuesday 4 June 2030, 10:00–11:00 CEST (Europe/Paris time)" in confirmation.body
    )
    assert "Price:     €45.00, to pay at the venue" in confirmation.body
    assert "Cancellation policy: Full refund if you cancel at least 48" in confirmation.body
    assert '<html lang="en">' in html_of(confirmation)
    assert reminder.subject == "Reminder: Massage on Tuesday 4 June at 10:00"
    assert "A reminder of your booking with Alpha Studio:" in reminder.body


def test_a_client_naming_no_language_gets_the_business_language(
    tenant_alpha, catalogue, django_capture_on_commit_callbacks
):
    Branding.objects.create(default_language="fr")
    booking = hold_through_the_api(tenant_alpha, catalogue, language=None)
    assert booking.language == ""

    confirm_and_send(booking, django_capture_on_commit_callbacks)

    [confirmation] = mail.outbox
    assert confirmation.subject == "Réservation confirmée : Massage le mardi 4 juin à 10:00"


def test_a_team_booking_is_written_in_the_business_language(
    catalogue, customer, django_capture_on_commit_callbacks
):
    Branding.objects.create(default_language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_hold(
            service=catalogue["service"], starts_at=paris(2030, 6, 3, 9, 30), customer=customer,
            staff_id=catalogue["ben"].pk, source=BookingSource.STAFF, actor=FRONT_DESK, now=NOW,
            team_booking=True,
        )  # fmt: skip
        booking_confirm(booking=booking, actor=FRONT_DESK, reason="Walk-in")
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, actor=FRONT_DESK, by_business=True, reason="Sick")

    assert booking.language == ""
    confirmation, cancellation = mail.outbox
    assert confirmation.subject == "Réservation confirmée : Massage le lundi 3 juin à 09:30"
    assert "lundi 3 juin 2030, 09:30–10:30 CEST" in confirmation.body
    assert "€45.00, à régler sur place" in confirmation.body
    assert cancellation.subject == "Réservation annulée : Massage le lundi 3 juin à 09:30"
    assert "Votre réservation chez Alpha Studio a été annulée." in cancellation.body
    assert "Le fichier de calendrier joint retire la réservation de votre agenda." in (
        cancellation.body
    )


def test_a_french_booking_is_told_of_its_move_and_refund_in_french(
    tenant_alpha, catalogue, django_capture_on_commit_callbacks
):
    booking = hold_through_the_api(tenant_alpha, catalogue, language="fr")
    booking = booking_confirm(booking=booking, actor=FRONT_DESK)  # its email is not under test
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(
            booking=booking, new_start=paris(2030, 6, 5, 14), actor=FRONT_DESK, now=NOW
        )
        booking_notify_after_commit(
            booking_id=booking.pk, kind=NotificationKind.REFUNDED, refund_minor=2250,
            key="refund-7",
        )  # fmt: skip

    moved, refunded = mail.outbox
    assert moved.subject == "Réservation déplacée : Massage désormais le mercredi 5 juin à 14:00"
    assert "Avant :    mardi 4 juin 2030, 10:00 CEST" in moved.body
    assert "Après :    mercredi 5 juin 2030, 14:00 CEST" in moved.body
    assert "du <s>mardi 4 juin 2030, 10:00 CEST</s> au <strong>mercredi 5 juin" in html_of(moved)
    assert refunded.subject == f"Remboursement de €22.50 pour votre réservation {booking.reference}"
    assert "Alpha Studio vous a remboursé €22.50 sur la carte" in refunded.body
    assert "vous a remboursé <strong>€22.50</strong>" in html_of(refunded)


def test_a_seat_held_in_french_gets_its_confirmation_in_french(
    tenant_alpha, alpha_schema, django_capture_on_commit_callbacks
):
    group = build_catalogue(capacity=5)
    group["service"].payment_mode = "pay_at_venue"
    group["service"].save(update_fields=["payment_mode"])
    session = make_session(group)
    response = client_for(tenant_alpha).post(
        "/api/v1/bookings/", json.dumps(seat_body(group, session)),
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    booking = Booking.objects.get(reference=response.json()["reference"])
    assert booking.language == "fr"

    confirm_and_send(booking, django_capture_on_commit_callbacks)

    [confirmation] = mail.outbox
    assert confirmation.subject == "Réservation confirmée : Massage le mardi 4 juin à 18:00"
    assert "Bonjour Yogi 0," in confirmation.body
