"""Changing the business's time zone later (issue #18): the page says what happens to the
bookings to come (with the next one shown in both zones) and asks for a confirmation before
moving them, checks the zone against the country like signup, audits the change, and is for
managers and owners only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from scheduling.services.bookings import booking_confirm, booking_hold
from tenants.models import AuditEntry, Tenant
from tests.factories import make_member, member_client

from .conftest import build_catalogue

URL = "/booking-settings/time-zone/"


@pytest.fixture
def manager(alpha_schema):
    return member_client(alpha_schema, make_member(alpha_schema, "manager"))


def zone_of(tenant) -> str:
    return Tenant.objects.get(pk=tenant.pk).time_zone


def test_without_upcoming_bookings_only_another_countrys_zone_is_asked_about(manager, alpha_schema):
    assert alpha_schema.time_zone == "Europe/Paris" and alpha_schema.country == "FR"
    page = manager.get(URL)
    assert page.status_code == 200 and b"Europe/Paris" in page.content
    done = manager.post(URL, {"time_zone": "Europe/Paris"})  # unchanged: nothing recorded
    assert done.status_code == 302
    assert not AuditEntry.objects.filter(action="creneau.tenant.time_zone_changed").exists()
    asked = manager.post(URL, {"time_zone": "Europe/Brussels"})
    assert asked.status_code == 400 and b"is not a time zone of France" in asked.content
    assert b"upcoming booking" not in asked.content.split(b"<form")[1]  # no bookings to warn of
    moved = manager.post(URL, {"time_zone": "Europe/Brussels", "confirmed": "on"})
    assert moved.status_code == 302 and zone_of(alpha_schema) == "Europe/Brussels"
    entry = AuditEntry.objects.get(action="creneau.tenant.time_zone_changed")
    assert entry.data == {"from": "Europe/Paris", "to": "Europe/Brussels"}


def test_upcoming_bookings_are_shown_in_both_zones_and_need_a_confirmation(manager, alpha_schema):
    catalogue = build_catalogue()
    from scheduling.services.customers import customer_upsert

    customer = customer_upsert(name="Chloé", email="chloe@example.test", phone="")
    now = timezone.now()
    start = (now + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    booking = booking_hold(service=catalogue["service"], starts_at=start, customer=customer,
                           now=now)  # fmt: skip
    booking_confirm(booking=booking)
    asked = manager.post(URL, {"time_zone": "Europe/London"})
    assert asked.status_code == 400
    text = asked.content.decode()
    assert "1 upcoming booking(s) will show at other clock times" in text
    assert "is not a time zone of France" in text
    assert 'id="time-zone-example"' in text and "in Europe/London" in text
    assert zone_of(alpha_schema) == "Europe/Paris"  # nothing changed yet
    confirmed = manager.post(URL, {"time_zone": "Europe/London", "confirmed": "on"})
    assert confirmed.status_code == 302 and zone_of(alpha_schema) == "Europe/London"


def test_an_unknown_zone_is_refused_and_staff_cannot_open_the_page(alpha_schema, manager):
    refused = manager.post(URL, {"time_zone": "Mars/Olympus", "confirmed": "on"})
    assert refused.status_code == 400 and b"Choose a time zone from the list" in refused.content
    assert zone_of(alpha_schema) == "Europe/Paris"
    staff = member_client(alpha_schema, make_member(alpha_schema, "staff"))
    assert staff.get(URL).status_code in (403, 404)
    assert staff.post(URL, {"time_zone": "UTC", "confirmed": "on"}).status_code in (403, 404)
    assert zone_of(alpha_schema) == "Europe/Paris"
    connection.set_schema_to_public()
