"""Seats added to a full class are offered to the waitlist by themselves, one place per new seat:
a session's capacity raised on the group sessions page, or a group service's capacity raised
(its sessions that followed it follow it up). Handled twice, or by four workers at once, the
new seats still make one place each, never two offers of one seat."""

from __future__ import annotations

from dataclasses import fields

from django.core import mail
from django_tenants.utils import tenant_context

from scheduling.services.catalogue import ServiceSpec, occurrence_capacity_set, service_update
from tests.factories import member_client
from waitlists.models import EntryStatus, FreedPlace, OfferStatus, WaitlistEntry, WaitlistOffer
from waitlists.services.entries import entry_join
from waitlists.services.hours import places_for_new_hours

from .conftest import build_yoga, fill
from .test_races import alpha_committed, run_concurrently  # noqa: F401  (fixture)


def join(service, n: int, **where):
    return entry_join(service=service, name=f"Waiting {n}", email=f"wait{n}@example.test", **where)


def pending_emails() -> list[str]:
    return sorted(
        WaitlistOffer.objects.filter(status=OfferStatus.PENDING).values_list(
            "entry__email", flat=True
        )
    )


def test_raising_a_full_sessions_capacity_offers_each_new_seat_once(
    yoga, django_capture_on_commit_callbacks
):
    session = yoga["session"]
    fill(session)
    line = [join(yoga["service"], n, occurrence=session) for n in range(3)]
    elsewhere = join(yoga["service"], 9, occurrence=yoga["thursday"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        occurrence_capacity_set(occurrence=session, capacity=4)  # two mats more

    assert pending_emails() == ["wait0@example.test", "wait1@example.test"]
    assert FreedPlace.objects.filter(occurrence=session).count() == 2
    assert sorted(m.to[0] for m in mail.outbox if "/book/waitlist/offer/" in m.body) == [
        "wait0@example.test", "wait1@example.test",
    ]  # fmt: skip
    assert WaitlistEntry.objects.get(pk=line[2].pk).status == EntryStatus.WAITING
    assert WaitlistEntry.objects.get(pk=elsewhere.pk).status == EntryStatus.WAITING
    # The outbox row handed again (or the sweep) counts the open places: nothing new.
    assert places_for_new_hours(staff_id=session.staff_id) == 0
    assert FreedPlace.objects.count() == 2 and WaitlistOffer.objects.count() == 2


def test_the_group_sessions_page_sets_seats_never_below_those_taken(
    yoga, tenant_alpha, owner_alpha, django_capture_on_commit_callbacks
):
    session = yoga["session"]
    fill(session)
    first = join(yoga["service"], 0, occurrence=session)
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    url = f"/group-sessions/{session.pk}/capacity/"
    too_few = owner.post(url, {"capacity": "1"}, follow=True)
    assert "2 seat(s) are taken" in too_few.content.decode()
    nonsense = owner.post(url, {"capacity": "many"}, follow=True)
    assert "Give the number of seats." in nonsense.content.decode()
    with tenant_context(tenant_alpha):
        session.refresh_from_db()
        assert session.capacity == 2 and not FreedPlace.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = owner.post(url, {"capacity": "3"}, follow=True)
    assert "The session has 3 seats." in done.content.decode()
    with tenant_context(tenant_alpha):
        assert WaitlistOffer.objects.get().entry == first


def test_raising_a_group_services_capacity_raises_the_sessions_that_followed_it(
    yoga, django_capture_on_commit_callbacks
):
    service, tuesday, thursday = yoga["service"], yoga["session"], yoga["thursday"]
    fill(tuesday)
    fill(thursday, prefix="thursday")
    thursday.capacity = 5  # given its own capacity: not the service's any more
    thursday.save(update_fields=["capacity"])
    first = join(service, 0, occurrence=tuesday)
    spec = ServiceSpec(**{
        f.name: getattr(service, f.name) for f in fields(ServiceSpec) if f.name != "staff_ids"
    }, staff_ids=tuple(service.staff.values_list("pk", flat=True)))  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        service_update(service=service, spec=ServiceSpec(**{**spec.__dict__, "capacity": 3}))

    tuesday.refresh_from_db()
    thursday.refresh_from_db()
    assert (tuesday.capacity, thursday.capacity) == (3, 5)
    assert WaitlistOffer.objects.get().entry == first


def test_seats_added_and_handled_by_four_workers_at_once_make_one_place_per_seat(
    alpha_committed,  # noqa: F811
):
    tenant = alpha_committed
    with tenant_context(tenant):
        yoga = build_yoga(seats=2)
        fill(yoga["session"])
        for n in range(10):
            join(yoga["service"], n, occurrence=yoga["session"])
        from waitlists.models import WaitlistSettings

        WaitlistSettings.objects.update_or_create(pk=1, defaults={"is_enabled": False})
        occurrence_capacity_set(occurrence=yoga["session"], capacity=4)  # nothing offered
        WaitlistSettings.objects.filter(pk=1).update(is_enabled=True)
        assert not FreedPlace.objects.exists()

    def handle(index: int) -> int:
        with tenant_context(tenant):
            return places_for_new_hours(staff_id=yoga["ada"].pk)

    results = run_concurrently(4, handle)
    assert sorted(results) == [0, 0, 0, 2], results  # type: ignore[type-var]
    with tenant_context(tenant):
        assert FreedPlace.objects.count() == 2
        assert pending_emails() == ["wait0@example.test", "wait1@example.test"]
