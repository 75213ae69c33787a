"""Race safety with real threads against real PostgreSQL (committed transactions): five people
accepting one freed seat at the same second make one booking, four kind pages and four kind
emails; a freed seat
handled twice (or two seats freed at once) never makes two offers for one seat; nobody pays for
a place they did not get (a payment that crosses a lost race is refunded in full)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django_tenants.utils import tenant_context

from connect_payments.models import BookingPayment, ConnectedAccount
from scheduling.actors import CUSTOMER
from scheduling.models import Booking, BookingStatus
from scheduling.services.bookings import booking_cancel, booking_expire_due_holds
from stripe_local.testing import onboarded_account
from tenants.models import Tenant
from tests.factories import client_for
from tests.scheduling.conftest import truncate_tenant_tables
from waitlists.emails import offer_notice_send
from waitlists.models import (
    FreedPlace,
    OfferStatus,
    PlaceStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
)
from waitlists.services.entries import entry_join
from waitlists.services.offers import offer_accept, place_open

from .conftest import build_yoga, fill


@pytest.fixture
def alpha_committed(committed_db, sdk, stripe_base_url) -> Iterator[Tenant]:
    """Alpha with committed rows (emptied before and after) and an onboarded account."""
    tenant = Tenant.objects.get(slug="alpha")
    truncate_tenant_tables(tenant.schema_name)
    account = ConnectedAccount.objects.create(
        tenant=tenant, account_id=onboarded_account(sdk, stripe_base_url),
        charges_enabled=True, payouts_enabled=True, details_submitted=True,
    )  # fmt: skip
    yield tenant
    connection.set_schema_to_public()
    account.delete()
    truncate_tenant_tables(tenant.schema_name)


def run_concurrently(count: int, action: Callable[[int], object]) -> list[object]:
    """`count` threads released at once by a barrier; their results in index order."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = action(index)
        except Exception as error:  # noqa: BLE001  (the result: the assertions name it)
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def waiting_line(tenant: Tenant, *, people: int, offers_at_once: int) -> dict:
    with tenant_context(tenant):
        yoga = build_yoga(seats=2)
        WaitlistSettings.objects.update_or_create(pk=1, defaults={"offers_at_once": offers_at_once})
        seats = fill(yoga["session"])
        for n in range(people):
            entry_join(service=yoga["service"], name=f"Waiting {n}", email=f"wait{n}@example.test",
                       occurrence=yoga["session"])  # fmt: skip
    return {**yoga, "seats": seats}


def test_five_accepting_one_seat_at_the_same_second_make_one_booking_and_four_kind_pages(
    alpha_committed,
):
    yoga = waiting_line(alpha_committed, people=20, offers_at_once=5)
    with tenant_context(alpha_committed):
        booking_cancel(booking=yoga["seats"][0], actor=CUSTOMER, by_business=False)  # commits
        offers = list(WaitlistOffer.objects.filter(status=OfferStatus.PENDING).order_by("pk"))
        links = [(o.pk, o.token) for o in offers]
    assert len(links) == 5  # the business offers each freed seat to five at once

    def accept(index: int) -> tuple[int, str]:
        offer_id, token = links[index]
        response = client_for(alpha_committed).post(
            f"/book/waitlist/offer/{offer_id}/", {"token": token, "action": "accept"}
        )
        return response.status_code, response.content.decode()

    results = run_concurrently(5, accept)
    statuses = Counter(status for status, _ in results)  # type: ignore[misc]
    assert statuses == Counter({200: 1, 409: 4}), results
    for status, page in results:  # type: ignore[misc]
        if status == 409:
            assert "Someone else took this place a moment before you" in page
    with tenant_context(alpha_committed):
        made = Booking.objects.filter(occurrence=yoga["session"], notes="From the waitlist.")
        assert made.count() == 1
        assert Booking.objects.filter(occurrence=yoga["session"],
                                      status__in=["held", "confirmed"]).count() == 2  # fmt: skip
        # Only the winner was asked to pay: one PaymentIntent, for the one booking.
        assert list(BookingPayment.objects.values_list("booking_id", flat=True)) == [made.get().pk]
        assert Counter(WaitlistOffer.objects.values_list("status", flat=True)) == Counter(
            {OfferStatus.ACCEPTED: 1, OfferStatus.LOST: 4}
        )
        assert FreedPlace.objects.get().status == PlaceStatus.FILLED
        # The four told kindly by email too (through the outbox, once each), still in line.
        losers = set(WaitlistOffer.objects.filter(status=OfferStatus.LOST).values_list(
            "entry__email", flat=True))  # fmt: skip
        told = [m for m in mail.outbox if "went to someone else" in m.subject]
        assert sorted(m.to[0] for m in told) == sorted(losers) and len(told) == 4
        assert all("still on the waitlist" in m.body for m in told)
        assert WaitlistEntry.objects.filter(email__in=losers, status="waiting").count() == 4
        for offer in WaitlistOffer.objects.filter(status=OfferStatus.LOST):
            assert offer_notice_send(offer_id=offer.pk) == "duplicate"
        assert len([m for m in mail.outbox if "went to someone else" in m.subject]) == 4


def test_a_freed_seat_handled_by_four_workers_at_once_is_one_place_and_one_offer(
    alpha_committed,
):
    yoga = waiting_line(alpha_committed, people=20, offers_at_once=1)
    with tenant_context(alpha_committed):
        settings_row = WaitlistSettings.objects.get()
        settings_row.is_enabled = False  # no offer from the commit: the workers below make it
        settings_row.save()
        booking_cancel(booking=yoga["seats"][0], actor=CUSTOMER, by_business=False)
        WaitlistSettings.objects.filter(pk=1).update(is_enabled=True)
        event = yoga["seats"][0].events.get(action="creneau.booking.cancelled")

    def handle(index: int) -> str:
        with tenant_context(alpha_committed):
            return place_open(booking_id=yoga["seats"][0].pk, event_id=event.pk)

    results = run_concurrently(4, handle)
    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "offered"], results  # type: ignore[type-var]
    with tenant_context(alpha_committed):
        assert FreedPlace.objects.count() == 1
        assert WaitlistOffer.objects.count() == 1


def test_two_seats_freed_at_once_go_to_two_different_people_and_never_a_third_place(
    alpha_committed,
):
    yoga = waiting_line(alpha_committed, people=20, offers_at_once=1)

    def free(index: int) -> None:
        with tenant_context(alpha_committed):
            booking_cancel(booking=yoga["seats"][index], actor=CUSTOMER, by_business=False)

    assert run_concurrently(2, free) == [None, None]
    with tenant_context(alpha_committed):
        offers = list(WaitlistOffer.objects.select_related("entry"))
        assert len(offers) == 2 and FreedPlace.objects.count() == 2
        assert {o.entry.email for o in offers} == {"wait0@example.test", "wait1@example.test"}
        # A third handling of either event, or of a seat nobody freed, adds nothing.
        for seat in yoga["seats"]:
            event = seat.events.get(action="creneau.booking.cancelled")
            assert place_open(booking_id=seat.pk, event_id=event.pk) == "duplicate"
        assert FreedPlace.objects.count() == 2


def test_a_payment_that_crosses_a_lost_place_is_refunded_in_full(alpha_committed, sdk):
    """The first person takes the place and starts paying; their hold runs out, the seat goes to
    the next person, then the first payment goes through: it is refunded automatically."""
    yoga = waiting_line(alpha_committed, people=2, offers_at_once=1)
    with tenant_context(alpha_committed):
        booking_cancel(booking=yoga["seats"][0], actor=CUSTOMER, by_business=False)
        first_offer = WaitlistOffer.objects.get(status=OfferStatus.PENDING)
    client = client_for(alpha_committed)
    paying = client.post(f"/book/waitlist/offer/{first_offer.pk}/",
                         {"token": first_offer.token, "action": "accept"})  # fmt: skip
    assert paying.status_code == 200
    with tenant_context(alpha_committed):
        held = Booking.objects.get(customer__email="wait0@example.test")
        payment = BookingPayment.objects.get(booking=held)
        booking_expire_due_holds(now=held.hold_expires_at + timedelta(seconds=1))  # commits
        second_offer = WaitlistOffer.objects.get(status=OfferStatus.PENDING)
        assert second_offer.entry.email == "wait1@example.test"
        assert offer_accept(offer=second_offer).booking is not None  # the seat is theirs now
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    status = client.get(f"/api/v1/bookings/{held.reference}/?token={held.manage_token}")
    assert status.json()["status"] == BookingStatus.EXPIRED
    with tenant_context(alpha_committed):
        payment.refresh_from_db()
        assert payment.paid_minor == 2000 and payment.refunded_minor == 2000
        [refund] = payment.refunds.all()
        assert refund.origin == "slot_lost"
    charge = sdk.v1.charges.retrieve(payment.charge_id)
    assert charge.amount_refunded == 2000
