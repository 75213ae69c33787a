"""The team's waitlist pages (roles, reordering, offering by hand, figures, settings), the
customer's join and leave pages, and tenant isolation of every link and page."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import tenant_context

from scheduling.actors import CUSTOMER
from scheduling.services.bookings import booking_cancel
from tests.factories import client_for, make_member, member_client
from waitlists.models import (
    EntryStatus,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
)
from waitlists.services.entries import entry_join

from .conftest import fill


def join(service, n: int, **where):
    return entry_join(service=service, name=f"Waiting {n}", email=f"wait{n}@example.test", **where)


@pytest.fixture
def line(yoga):
    fill(yoga["session"])
    return [join(yoga["service"], n, occurrence=yoga["session"]) for n in range(3)]


def test_the_front_desk_sees_the_line_in_order_and_reorders_it(
    yoga, line, tenant_alpha, django_capture_on_commit_callbacks
):
    desk = member_client(tenant_alpha, make_member(tenant_alpha, "front_desk"))
    page = desk.get("/waitlists/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("wait0@example.test") < text.index("wait1@example.test")
    assert "Yoga · Tue 04 Jun 2030 18:00" in text  # the business's time (Europe/Paris)
    in_schema(tenant_alpha)
    response = desk.post(f"/waitlists/{line[2].pk}/move/", {"direction": "up"})
    assert response.status_code == 302
    text = desk.get("/waitlists/").content.decode()
    assert text.index("wait2@example.test") < text.index("wait1@example.test")
    in_schema(tenant_alpha)
    # The new order decides who is offered the next freed seat.
    response = desk.post(f"/waitlists/{line[0].pk}/remove/")
    in_schema(tenant_alpha)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=yoga["session"].bookings.first(), actor=CUSTOMER,
                       by_business=False)  # fmt: skip
    assert WaitlistOffer.objects.get().entry == line[2]
    assert WaitlistEntry.objects.get(pk=line[0].pk).status == EntryStatus.REMOVED


def in_schema(tenant) -> None:
    connection.set_tenant(tenant)  # a test client's request switched the connection


def test_a_place_is_offered_by_hand_when_a_seat_is_free(
    yoga, line, tenant_alpha, owner_alpha, django_capture_on_commit_callbacks
):
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    refused = owner.post(f"/waitlists/{line[1].pk}/offer/", follow=True)
    assert "No place is free" in refused.content.decode()  # the class is full
    in_schema(tenant_alpha)
    yoga["session"].capacity = 3  # the owner adds a mat
    yoga["session"].save(update_fields=["capacity"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = owner.post(f"/waitlists/{line[1].pk}/offer/", follow=True)
    assert "A place was offered to Waiting 1" in done.content.decode()
    in_schema(tenant_alpha)
    offer = WaitlistOffer.objects.get()
    assert offer.entry == line[1] and offer.offered_by and offer.status == OfferStatus.PENDING
    assert [m.to for m in mail.outbox] == [["wait1@example.test"]]
    again = owner.post(f"/waitlists/{line[2].pk}/offer/", follow=True)
    assert "No place is free" in again.content.decode()  # the one free seat is on offer


def test_staff_without_the_customer_list_cannot_open_or_change_the_waitlist(
    yoga, line, tenant_alpha
):
    staff = member_client(tenant_alpha, make_member(tenant_alpha, "staff"))
    assert staff.get("/waitlists/").status_code == 403
    assert staff.post(f"/waitlists/{line[2].pk}/move/", {"direction": "up"}).status_code == 403
    assert staff.post(f"/waitlists/{line[2].pk}/offer/").status_code == 403
    in_schema(tenant_alpha)
    assert list(WaitlistEntry.objects.values_list("pk", flat=True)) == [e.pk for e in line]
    desk = member_client(tenant_alpha, make_member(tenant_alpha, "front_desk"))
    assert desk.get("/waitlists/settings/").status_code == 403  # the managers' page


def test_the_owner_sets_the_offer_time_and_the_mode(yoga, tenant_alpha, owner_alpha):
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    form = {"is_enabled": "on", "offer_minutes": "45", "offers_at_once": "1", "mode": "offer"}
    saved = owner.post("/waitlists/settings/", form)
    assert saved.status_code == 302
    in_schema(tenant_alpha)
    assert WaitlistSettings.objects.get().offer_minutes == 45
    assert owner.post("/waitlists/settings/", {**form, "mode": "automatic"}).status_code == 302
    in_schema(tenant_alpha)
    assert WaitlistSettings.objects.get().mode == "automatic"
    bad = owner.post("/waitlists/settings/", {"offer_minutes": "0", "offers_at_once": "1",
                                              "mode": "offer"})  # fmt: skip
    assert bad.status_code == 400


def test_the_figures_count_joins_offers_and_bookings(
    yoga, line, tenant_alpha, owner_alpha, django_capture_on_commit_callbacks
):
    from waitlists.services.offers import offer_accept

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=yoga["session"].bookings.first(), actor=CUSTOMER,
                       by_business=False)  # fmt: skip
    yoga["service"].payment_mode = "pay_at_venue"  # accepted → booked at once
    yoga["service"].save(update_fields=["payment_mode"])
    offer_accept(offer=WaitlistOffer.objects.get())
    page = member_client(tenant_alpha, owner_alpha, verified=True).get("/waitlists/")
    text = page.content.decode()
    assert 'data-figure="joins">3<' in text and 'data-figure="offers">1<' in text
    assert 'data-figure="conversions">1 (100 %)<' in text


def test_a_customer_joins_a_full_session_once_and_leaves_by_their_link(yoga, tenant_alpha):
    fill(yoga["session"])
    client = client_for(tenant_alpha)
    page = client.get(f"/book/waitlist/{yoga['service'].pk}/")
    assert page.status_code == 200
    assert "Tue 04 Jun 2030, 18:00 · Ada" in page.content.decode()  # the full session only
    assert "Thu 06 Jun" not in page.content.decode()  # free seats: book it directly
    form = {"occurrence": yoga["session"].pk, "name": "Jo Join", "email": "Jo@Example.test"}
    joined = client.post(f"/book/waitlist/{yoga['service'].pk}/", form)
    assert joined.status_code == 200 and "You are on the waitlist" in joined.content.decode()
    twice = client.post(f"/book/waitlist/{yoga['service'].pk}/", form)
    assert twice.status_code == 200
    in_schema(tenant_alpha)
    entry = WaitlistEntry.objects.get()
    assert entry.email == "jo@example.test" and entry.occurrence == yoga["session"]
    bad = client.post(f"/book/waitlist/{yoga['service'].pk}/",
                      {"occurrence": yoga["thursday"].pk, "name": "", "email": "nope"})  # fmt: skip
    assert bad.status_code == 400  # a session that is not full, no name, a bad email
    in_schema(tenant_alpha)
    assert WaitlistEntry.objects.count() == 1
    assert client.post(f"/book/waitlist/leave/{entry.pk}/", {"token": "x"}).status_code == 404
    left = client.post(f"/book/waitlist/leave/{entry.pk}/", {"token": entry.token})
    assert left.status_code == 200 and "You left the waitlist" in left.content.decode()
    in_schema(tenant_alpha)
    assert WaitlistEntry.objects.get().status == EntryStatus.LEFT


def test_a_day_request_is_checked_before_it_is_stored(alpha, tenant_alpha):
    from tests.scheduling.conftest import build_catalogue

    service = build_catalogue()["service"]
    client = client_for(tenant_alpha)
    form = {"day": "2030-06-04", "staff": "", "window_start": "15:00", "window_end": "12:00",
            "name": "Di Day", "email": "di@example.test"}  # fmt: skip
    assert client.post(f"/book/waitlist/{service.pk}/", form).status_code == 400
    form.update({"window_start": "09:00", "staff": "999999"})
    assert client.post(f"/book/waitlist/{service.pk}/", form).status_code == 400
    form.update({"staff": "", "day": "1999-01-01"})
    assert client.post(f"/book/waitlist/{service.pk}/", form).status_code == 400
    form.update({"day": "2030-06-04"})
    assert client.post(f"/book/waitlist/{service.pk}/", form).status_code == 200
    in_schema(tenant_alpha)
    entry = WaitlistEntry.objects.get()
    assert str(entry.day) == "2030-06-04" and entry.window_end.hour == 12


def test_another_business_cannot_open_or_see_anything_of_this_waitlist(
    yoga, line, tenant_alpha, tenant_beta, owner_beta, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=yoga["session"].bookings.first(), actor=CUSTOMER,
                       by_business=False)  # fmt: skip
    offer = WaitlistOffer.objects.get()
    entry = line[0]
    beta = client_for(tenant_beta)
    assert beta.get(f"/book/waitlist/offer/{offer.pk}/?token={offer.token}").status_code == 404
    assert beta.post(f"/book/waitlist/offer/{offer.pk}/",
                     {"token": offer.token, "action": "accept"}).status_code == 404  # fmt: skip
    assert beta.post(f"/book/waitlist/leave/{entry.pk}/", {"token": entry.token}).status_code == 404
    assert beta.get(f"/book/waitlist/{yoga['service'].pk}/").status_code == 404
    beta_owner = member_client(tenant_beta, owner_beta, verified=True)
    page = beta_owner.get("/waitlists/").content.decode()
    assert "wait0@example.test" not in page and "empty-waitlists" in page
    assert beta_owner.post(f"/waitlists/{entry.pk}/remove/").status_code == 404
    # alpha's own member on beta's host: not a member there.
    with tenant_context(tenant_alpha):
        offer.refresh_from_db()
        entry.refresh_from_db()
    assert offer.status == OfferStatus.PENDING and entry.status == EntryStatus.OFFERED


def test_the_customer_forms_post_from_a_no_referrer_page(yoga, tenant_alpha):
    """The customer pages send `Referrer-Policy: no-referrer`, so Chromium posts their forms
    with `Origin: null` (found by the browser test): Django's CSRF check refused every join.
    The forms carry their own secret (offer and entry tokens) or none is needed (joining)."""
    from django.test import Client

    from tests.factories import host_of

    fill(yoga["session"])
    client = Client(enforce_csrf_checks=True, HTTP_HOST=host_of(tenant_alpha), HTTP_ORIGIN="null")
    form = {"occurrence": yoga["session"].pk, "name": "Nora Null", "email": "nora@example.test"}
    assert client.post(f"/book/waitlist/{yoga['service'].pk}/", form).status_code == 200
    in_schema(tenant_alpha)
    entry = WaitlistEntry.objects.get()
    left = client.post(f"/book/waitlist/leave/{entry.pk}/", {"token": entry.token})
    assert left.status_code == 200


def test_joining_is_rate_limited_like_holds(yoga, tenant_alpha, settings):
    """Each join writes a row and can lead to emails: the booking API's `hold` limit applies,
    per business and client address; the fourth join in the hour is refused and not stored."""
    from tests.scheduling.test_throttling import clear_throttle_counters

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"hold": "3/hour", "token": "4/hour", "browse": "5/minute"},
    }
    clear_throttle_counters()
    try:
        fill(yoga["session"])
        client = client_for(tenant_alpha)
        url = f"/book/waitlist/{yoga['service'].pk}/"
        for n in range(3):
            form = {"occurrence": yoga["session"].pk, "name": f"N {n}", "email": f"n{n}@x.test"}
            assert client.post(url, form).status_code == 200
        refused = client.post(url, {"occurrence": yoga["session"].pk, "name": "Four",
                                    "email": "four@x.test"})  # fmt: skip
        assert refused.status_code == 429 and refused["Retry-After"]
        assert "Too many requests" in refused.content.decode()
        in_schema(tenant_alpha)
        assert WaitlistEntry.objects.count() == 3
    finally:
        clear_throttle_counters()


def test_the_booking_page_links_to_the_waitlist_unless_the_business_turned_it_off(
    yoga, tenant_alpha
):
    import json

    def page_config() -> dict:
        text = client_for(tenant_alpha).get(f"/book/{yoga['service'].pk}/").content.decode()
        start = text.index('<script id="cr-config" type="application/json">')
        start = text.index(">", start) + 1
        return json.loads(text[start : text.index("</script>", start)])

    assert page_config()["waitlist"] == "/book/waitlist/"
    in_schema(tenant_alpha)
    WaitlistSettings.objects.update_or_create(pk=1, defaults={"is_enabled": False})
    assert page_config()["waitlist"] == ""
    in_schema(tenant_alpha)
    closed = client_for(tenant_alpha).post(f"/book/waitlist/{yoga['service'].pk}/",
                                           {"name": "Late", "email": "late@x.test"})  # fmt: skip
    assert "does not take waitlist requests" in closed.content.decode()
    in_schema(tenant_alpha)
    assert not WaitlistEntry.objects.exists()


def test_the_dashboard_shows_waitlist_offers_and_conversion(
    yoga, line, tenant_alpha, owner_alpha, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from waitlists.services.offers import offer_accept

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=yoga["session"].bookings.first(), actor=CUSTOMER,
                       by_business=False)  # fmt: skip
    yoga["service"].payment_mode = "pay_at_venue"
    yoga["service"].save(update_fields=["payment_mode"])
    offer_accept(offer=WaitlistOffer.objects.get())
    today = timezone.now().astimezone(yoga["session"].starts_at.tzinfo).date().isoformat()
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    response = owner.get("/", {"period": "custom", "from": today, "to": today})
    assert response.status_code == 200
    figures = {item["label"]: item for item in response.context["dashboard"]["figures"]}
    assert figures["Waitlist offers"]["value"] == "1"
    assert figures["Waitlist conversion"]["value"] == "100.0 %"
    desk = member_client(tenant_alpha, make_member(tenant_alpha, "staff"))
    in_schema(tenant_alpha)
    staff_figures = desk.get("/").context["dashboard"]["figures"]
    assert "Waitlist offers" not in {item["label"] for item in staff_figures}


def test_a_customer_who_joined_in_french_gets_french_pages_and_emails(
    yoga, tenant_alpha, django_capture_on_commit_callbacks
):
    from scheduling.models import Booking

    client = client_for(tenant_alpha)
    in_schema(tenant_alpha)
    fill(yoga["session"])
    booking_page = client.get(f"/book/{yoga['service'].pk}/?lang=fr").content.decode()
    assert "Complet, ou aucun horaire ne vous convient" in booking_page  # the widget's link
    page = client.get(f"/book/waitlist/{yoga['service'].pk}/?lang=fr")
    assert "Rejoindre la liste d’attente" in page.content.decode()
    joined = client.post(f"/book/waitlist/{yoga['service'].pk}/?lang=fr", {
        "occurrence": yoga["session"].pk, "name": "Zoé", "email": "zoe@example.test",
    })  # fmt: skip
    assert "Vous êtes sur la liste d’attente" in joined.content.decode()
    in_schema(tenant_alpha)
    assert WaitlistEntry.objects.get().language == "fr"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=Booking.objects.filter(occurrence=yoga["session"]).first(),
                       actor=CUSTOMER, by_business=False)  # fmt: skip
    [offer_email] = [m for m in mail.outbox if m.to == ["zoe@example.test"]]
    assert offer_email.subject.startswith("Une place est libre pour vous : Yoga")
    assert "Prendre la place (ou la laisser) :" in offer_email.body
    offer = WaitlistOffer.objects.get()
    offer_page = client.get(f"/book/waitlist/offer/{offer.pk}/?token={offer.token}&lang=fr")
    assert "Une place pour vous" in offer_page.content.decode()
