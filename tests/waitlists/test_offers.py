"""From a freed seat to a booking: a cancellation offers the place to the first person in line
whose request fits, by email with a signed link; accepting holds it and the Payment Element pays
it (local Stripe over HTTP); declining or an expired offer passes it to the next person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from connect_payments.models import BookingPayment
from scheduling.actors import CUSTOMER
from scheduling.models import Booking, BookingStatus
from scheduling.services.bookings import booking_cancel, booking_reschedule
from tests.factories import client_for
from waitlists.models import (
    EntryStatus,
    FreedPlace,
    OfferStatus,
    PlaceStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
)
from waitlists.services.entries import entry_join
from waitlists.services.offers import offers_expire_due
from waitlists.tasks import expire_offers_in_every_tenant

from .conftest import fill, offer_links


def join(service, n: int, **where):
    return entry_join(service=service, name=f"Waiting {n}", email=f"wait{n}@example.test", **where)


def cancel(booking, captured):
    with captured(execute=True):
        booking_cancel(booking=booking, actor=CUSTOMER, by_business=False)


def test_a_cancellation_offers_the_seat_to_the_first_in_line_who_accepts_and_pays(
    yoga, alpha_account, sdk, django_capture_on_commit_callbacks
):
    session = yoga["session"]
    seats = fill(session)
    other_session = join(yoga["service"], 0, occurrence=yoga["thursday"])  # does not fit
    first = join(yoga["service"], 1, occurrence=session)
    second = join(yoga["service"], 2, occurrence=session)
    mail.outbox.clear()

    cancel(seats[0], django_capture_on_commit_callbacks)

    place = FreedPlace.objects.get()
    assert place.occurrence == session and place.status == PlaceStatus.OPEN
    offer = WaitlistOffer.objects.get()
    assert offer.entry == first and offer.status == OfferStatus.PENDING
    assert offer.expires_at - offer.created_at == timedelta(minutes=30)  # the default
    offers_sent = [m for m in mail.outbox if "/book/waitlist/offer/" in m.body]
    assert [m.to for m in offers_sent] == [["wait1@example.test"]]
    assert "A place is free for you: Yoga" in offers_sent[0].subject
    link = offer_links()[0]
    assert f"/book/waitlist/offer/{offer.pk}/?token=" in link
    second.refresh_from_db()
    other_session.refresh_from_db()
    assert second.status == other_session.status == EntryStatus.WAITING

    client = client_for(alpha_account.tenant)
    page = client.get(link)
    assert page.status_code == 200 and b"Take the place" in page.content
    token = link.split("token=", 1)[1]
    paying = client.post(f"/book/waitlist/offer/{offer.pk}/", {"token": token, "action": "accept"})
    assert paying.status_code == 200 and b"cr-payment-element" in paying.content

    booking = Booking.objects.get(customer__email="wait1@example.test")
    assert booking.status == BookingStatus.HELD and booking.occurrence == session
    payment = BookingPayment.objects.get(booking=booking)
    assert payment.amount_minor == 2000 and payment.client_secret
    assert payment.client_secret in paying.content.decode()  # the page mounts this intent
    # The customer's card, as the Payment Element confirms it in the browser.
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    status = client.get(f"/api/v1/bookings/{booking.reference}/?token={booking.manage_token}")
    assert status.json()["status"] == "confirmed"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert sdk.v1.payment_intents.retrieve(payment.payment_intent_id).status == "succeeded"
    offer.refresh_from_db()
    place.refresh_from_db()
    first.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED and offer.booking == booking
    assert place.status == PlaceStatus.FILLED and first.status == EntryStatus.BOOKED
    # The link again (a second click, a reload): the booking, not a second one.
    again = client.post(f"/book/waitlist/offer/{offer.pk}/", {"token": token, "action": "accept"})
    assert again.status_code == 302 and booking.reference in again["Location"]
    assert Booking.objects.filter(customer__email="wait1@example.test").count() == 1


def test_a_wrong_token_opens_nothing(yoga, alpha_account, django_capture_on_commit_callbacks):
    seats = fill(yoga["session"])
    join(yoga["service"], 1, occurrence=yoga["session"])
    cancel(seats[0], django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    client = client_for(alpha_account.tenant)
    for token in ("", "nope", offer.secret):
        response = client.post(f"/book/waitlist/offer/{offer.pk}/",
                               {"token": token, "action": "accept"})  # fmt: skip
        assert response.status_code == 404 and b"This link does not work" in response.content
    assert not Booking.objects.filter(customer__email="wait1@example.test").exists()


def test_declining_passes_the_seat_to_the_next_person(
    yoga, alpha_account, django_capture_on_commit_callbacks
):
    seats = fill(yoga["session"])
    first = join(yoga["service"], 1, occurrence=yoga["session"])
    second = join(yoga["service"], 2, occurrence=yoga["session"])
    cancel(seats[0], django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get(entry=first)
    client = client_for(alpha_account.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/book/waitlist/offer/{offer.pk}/",
                           {"token": offer.token, "action": "decline"})  # fmt: skip
    assert page.status_code == 200 and b"You let this place go" in page.content
    offer.refresh_from_db()
    first.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED and first.status == EntryStatus.WAITING
    passed = WaitlistOffer.objects.get(entry=second)
    assert passed.status == OfferStatus.PENDING and passed.place == offer.place
    assert mail.outbox[-1].to == ["wait2@example.test"]


def test_an_expired_offer_passes_to_the_next_and_its_link_says_so_kindly(
    yoga, alpha_account, django_capture_on_commit_callbacks
):
    seats = fill(yoga["session"])
    first = join(yoga["service"], 1, occurrence=yoga["session"])
    second = join(yoga["service"], 2, occurrence=yoga["session"])
    WaitlistSettings.objects.update_or_create(pk=1, defaults={"offer_minutes": 10})
    cancel(seats[0], django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get(entry=first)
    assert offer.expires_at - offer.created_at == timedelta(minutes=10)  # the business's time

    assert offers_expire_due(now=timezone.now() + timedelta(minutes=9)) == 0  # still open
    with django_capture_on_commit_callbacks(execute=True):
        # The beat job, as the worker runs it (each tenant's schema in turn).
        result = expire_offers_in_every_tenant.apply(
            kwargs={"now": (timezone.now() + timedelta(minutes=11)).isoformat()}
        ).get()
    assert result == {alpha_account.tenant.schema_name: 1}
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    passed = WaitlistOffer.objects.get(entry=second)
    assert passed.status == OfferStatus.PENDING
    assert mail.outbox[-1].to == ["wait2@example.test"]

    client = client_for(alpha_account.tenant)
    late = client.post(f"/book/waitlist/offer/{offer.pk}/", {"token": offer.token,
                                                               "action": "accept"})  # fmt: skip
    assert late.status_code == 409 and b"This offer has ended" in late.content
    assert not Booking.objects.filter(customer__email="wait1@example.test").exists()


def test_a_place_taken_on_the_booking_page_meanwhile_is_told_kindly(
    yoga, alpha_account, django_capture_on_commit_callbacks
):
    from scheduling.services.bookings import booking_take_seat
    from scheduling.services.customers import customer_upsert

    seats = fill(yoga["session"])
    first = join(yoga["service"], 1, occurrence=yoga["session"])
    cancel(seats[0], django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get(entry=first)
    walk_in = customer_upsert(name="Quick Quinn", email="quinn@example.test")
    booking_take_seat(occurrence=yoga["session"], customer=walk_in)  # the booking page's seat
    client = client_for(alpha_account.tenant)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/book/waitlist/offer/{offer.pk}/",
                               {"token": offer.token, "action": "accept"})  # fmt: skip
    assert response.status_code == 409 and b"Someone else took this place" in response.content
    offer.refresh_from_db()
    first.refresh_from_db()
    assert offer.status == OfferStatus.LOST and first.status == EntryStatus.WAITING
    assert offer.place.status == PlaceStatus.LAPSED
    # And by email, once, saying they are still in line.
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["wait1@example.test"], "The place went to someone else: Yoga, Tue 4 Jun, 18:00")
    ]
    assert "still on the waitlist" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/book/waitlist/offer/{offer.pk}/",
                            {"token": offer.token, "action": "accept"})  # fmt: skip
    assert again.status_code == 409 and len(mail.outbox) == 1


def test_a_place_handled_twice_is_one_place_and_one_offer(
    yoga, alpha, django_capture_on_commit_callbacks
):
    from waitlists.services.offers import place_open

    seats = fill(yoga["session"])
    for n in range(3):
        join(yoga["service"], n, occurrence=yoga["session"])
    cancel(seats[0], django_capture_on_commit_callbacks)
    event = seats[0].events.get(action="creneau.booking.cancelled")
    # The outbox handing the same row again (a worker killed before it marked it done).
    assert place_open(booking_id=seats[0].pk, event_id=event.pk) == "duplicate"
    assert FreedPlace.objects.count() == 1 and WaitlistOffer.objects.count() == 1


def test_nobody_waiting_costs_a_cancellation_nothing(
    yoga, alpha, django_capture_on_commit_callbacks
):
    from outbox.models import OutboxMessage

    seats = fill(yoga["session"])
    before = OutboxMessage.objects.filter(task_name="waitlists.tasks.open_freed_place").count()
    cancel(seats[0], django_capture_on_commit_callbacks)
    after = OutboxMessage.objects.filter(task_name="waitlists.tasks.open_freed_place").count()
    assert after == before and not FreedPlace.objects.exists()


@pytest.mark.parametrize("how", ["expired hold", "moved away"])
def test_an_expired_hold_or_a_seat_moved_away_frees_the_seat_too(
    yoga, alpha, django_capture_on_commit_callbacks, how
):
    from scheduling.services.bookings import (
        booking_expire_due_holds,
        booking_move_seat,
        booking_take_seat,
    )
    from scheduling.services.customers import customer_upsert

    session = yoga["session"]
    seats = fill(session)
    if how == "expired hold":
        booking_cancel(booking=seats[1], actor=CUSTOMER, by_business=False)  # nobody waits yet
        holder = customer_upsert(name="Slow Sam", email="sam@example.test")
        hold = booking_take_seat(occurrence=session, customer=holder)  # full again, unpaid
        first = join(yoga["service"], 1, occurrence=session)
        with django_capture_on_commit_callbacks(execute=True):
            booking_expire_due_holds(now=hold.hold_expires_at + timedelta(seconds=1))
    else:
        first = join(yoga["service"], 1, occurrence=session)
        with django_capture_on_commit_callbacks(execute=True):
            booking_move_seat(booking=seats[0], occurrence=yoga["thursday"], actor=CUSTOMER)
    offer = WaitlistOffer.objects.get(entry=first, status=OfferStatus.PENDING)
    assert offer.place.occurrence == session


def test_a_cancelled_appointment_goes_to_the_first_request_that_fits_its_day_person_and_window(
    alpha, alpha_account, django_capture_on_commit_callbacks
):
    from datetime import time

    from scheduling.services.bookings import booking_confirm, booking_hold
    from scheduling.services.customers import customer_upsert
    from tests.scheduling.conftest import build_catalogue, paris

    catalogue = build_catalogue()
    service = catalogue["service"]
    service.payment_mode = "pay_at_venue"
    service.save(update_fields=["payment_mode"])
    day = paris(2030, 6, 4, 10).date()
    taken = customer_upsert(name="Booked Bea", email="bea@example.test")
    booking = booking_confirm(
        booking=booking_hold(
            service=service,
            starts_at=paris(2030, 6, 4, 10),
            customer=taken,
            staff_id=catalogue["ada"].pk,
        )
    )
    wrong_person = join(service, 1, day=day, staff=catalogue["ben"])
    wrong_window = join(service, 2, day=day, window_start=time(14), window_end=time(17))
    fits = join(service, 3, day=day, window_start=time(9), window_end=time(12))
    later = join(service, 4, day=day)

    cancel(booking, django_capture_on_commit_callbacks)

    offer = WaitlistOffer.objects.get()
    assert offer.entry == fits
    for entry in (wrong_person, wrong_window, later):
        entry.refresh_from_db()
        assert entry.status == EntryStatus.WAITING
    # Pay at the venue: accepting books at once and opens the booking's page.
    client = client_for(alpha_account.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/book/waitlist/offer/{offer.pk}/",
                               {"token": offer.token, "action": "accept"})  # fmt: skip
    assert response.status_code == 302 and "/manage/" in response["Location"]
    made = Booking.objects.get(customer__email="wait3@example.test")
    assert made.status == BookingStatus.CONFIRMED and made.staff == catalogue["ada"]
    assert made.starts_at == paris(2030, 6, 4, 10)
    assert any(m.to == ["wait3@example.test"] and "confirmed" in m.subject.lower()
               for m in mail.outbox)  # fmt: skip
    assert WaitlistEntry.objects.get(pk=fits.pk).status == EntryStatus.BOOKED

    # Moving an appointment away frees its old time for the next fitting request.
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(booking=made, new_start=paris(2030, 6, 4, 15), actor=CUSTOMER,
                           staff_id=catalogue["ada"].pk)  # fmt: skip
    moved = WaitlistOffer.objects.get(entry=later)
    assert moved.place.starts_at == paris(2030, 6, 4, 10)


def test_a_place_whose_process_died_after_commit_is_opened_from_the_outbox(
    yoga, alpha, django_capture_on_commit_callbacks
):
    """The cancelling process opens the place right after commit; if it dies first (here: the
    after-commit callbacks never run), the outbox row is left and the sweep hands it to Celery."""
    from datetime import timedelta as span

    from outbox.services import outbox_sweep

    seats = fill(yoga["session"])
    first = join(yoga["service"], 1, occurrence=yoga["session"])
    with django_capture_on_commit_callbacks(execute=False):
        booking_cancel(booking=seats[0], actor=CUSTOMER, by_business=False)
    assert not FreedPlace.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep(now=timezone.now() + span(minutes=5)) >= 1
    assert WaitlistOffer.objects.get().entry == first


def test_hours_added_on_a_waited_for_day_are_offered_to_the_request_that_fits(
    alpha, alpha_account, django_capture_on_commit_callbacks
):
    """Ada and Ben work Monday to Saturday; someone waits for Sunday 9 June with Ada, between
    10:00 and 12:00. Ada adds Sunday 10:00–12:00 to her week: the first start is offered."""
    from datetime import time

    from scheduling.services.catalogue import working_hours_replace
    from tests.scheduling.conftest import build_catalogue, paris

    catalogue = build_catalogue()
    service = catalogue["service"]
    service.payment_mode = "pay_at_venue"
    service.save(update_fields=["payment_mode"])
    sunday = paris(2030, 6, 9, 10).date()
    other_person = join(service, 1, day=sunday, staff=catalogue["ben"])
    fits = join(service, 2, day=sunday, staff=catalogue["ada"], window_start=time(10),
                window_end=time(12))  # fmt: skip
    week = [(day, time(9), time(18)) for day in range(6)] + [(6, time(10), time(12))]
    with django_capture_on_commit_callbacks(execute=True):
        working_hours_replace(staff=catalogue["ada"], intervals=week)

    offer = WaitlistOffer.objects.get()
    assert offer.entry == fits and offer.place.starts_at == paris(2030, 6, 9, 10)
    assert WaitlistEntry.objects.get(pk=other_person.pk).status == EntryStatus.WAITING
    client = client_for(alpha_account.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(f"/book/waitlist/offer/{offer.pk}/",
                               {"token": offer.token, "action": "accept"})  # fmt: skip
    assert accepted.status_code == 302
    made = Booking.objects.get(customer__email="wait2@example.test")
    assert made.status == BookingStatus.CONFIRMED and made.staff == catalogue["ada"]
    # The same week saved again adds nothing new: no second offer of that time.
    with django_capture_on_commit_callbacks(execute=True):
        working_hours_replace(staff=catalogue["ada"], intervals=week)
    assert WaitlistOffer.objects.count() == 1


def test_a_place_taken_and_not_paid_in_time_goes_to_the_next_and_the_taker_waits_at_the_end(
    yoga, alpha_account, django_capture_on_commit_callbacks
):
    from scheduling.services.bookings import booking_expire_due_holds
    from waitlists.services.offers import offer_accept

    seats = fill(yoga["session"])
    first = join(yoga["service"], 1, occurrence=yoga["session"])
    second = join(yoga["service"], 2, occurrence=yoga["session"])
    cancel(seats[0], django_capture_on_commit_callbacks)
    held = offer_accept(offer=WaitlistOffer.objects.get(entry=first)).booking
    assert held is not None and held.status == BookingStatus.HELD
    with django_capture_on_commit_callbacks(execute=True):
        booking_expire_due_holds(now=held.hold_expires_at + timedelta(seconds=1))
    assert WaitlistOffer.objects.get(entry=second).status == OfferStatus.PENDING
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == EntryStatus.WAITING and first.booking is None
    assert first.position > second.position


def test_the_booking_made_from_an_offer_speaks_the_language_the_person_joined_in(
    yoga, alpha_account, django_capture_on_commit_callbacks
):
    """Its confirmation and reminders are written in the booking's language (notifications)."""
    session = yoga["session"]
    seats = fill(session)
    entry_join(service=yoga["service"], name="Amélie", email="amelie@example.test",
               occurrence=session, language="fr")  # fmt: skip
    cancel(seats[0], django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    link = offer_links()[0]
    token = link.split("token=", 1)[1]
    client = client_for(alpha_account.tenant)
    client.post(f"/book/waitlist/offer/{offer.pk}/", {"token": token, "action": "accept"})
    booking = Booking.objects.get(customer__email="amelie@example.test")
    assert booking.language == "fr"
