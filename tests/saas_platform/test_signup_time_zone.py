"""Signup's time zone: an IANA zone from the list, checked against the business's country; the
country sets the currency and the booking page's language."""

import pytest
from django_tenants.utils import tenant_context

from tenants.models import Tenant
from tenants.time_zones import all_time_zones, country_zones
from tests.factories import PASSWORD, client_for
from widgets.models import Branding

BASE = {
    "business_name": "Salon Lumière",
    "slug": "lumiere-tz",
    "owner_name": "Lucie Bernard",
    "email": "lucie@lumiere-tz.test",
    "password": PASSWORD,
    "country": "FR",
}


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/paris", "US/Eastern", "", "x" * 70])
def test_a_zone_outside_the_list_is_refused_with_a_form_error(db, zone):
    response = client_for().post("/signup/", {**BASE, "time_zone": zone})
    assert response.status_code == 400
    assert response.context["form"].errors["time_zone"]
    assert not Tenant.objects.filter(slug="lumiere-tz").exists()


def test_utc_for_a_french_business_is_questioned_and_europe_paris_proposed(db):
    response = client_for().post("/signup/", {**BASE, "time_zone": "UTC"})
    assert response.status_code == 400
    [error] = response.context["form"].errors["time_zone"]
    assert "UTC is not a time zone of France" in error and "Europe/Paris" in error
    assert 'name="time_zone_confirmed"' in response.content.decode()
    assert not Tenant.objects.filter(slug="lumiere-tz").exists()


def test_a_questioned_zone_can_be_kept_on_purpose(db):
    data = {**BASE, "time_zone": "Europe/London", "time_zone_confirmed": "on"}
    assert client_for().post("/signup/", data).status_code == 302
    assert Tenant.objects.get(slug="lumiere-tz").time_zone == "Europe/London"


def test_the_country_sets_currency_and_booking_page_language(db):
    response = client_for().post("/signup/", {**BASE, "time_zone": "Europe/Paris"})
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="lumiere-tz")
    assert tenant.currency == "EUR" and tenant.country == "FR"
    with tenant_context(tenant):
        assert Branding.objects.get().default_language == "fr"


def test_a_zone_of_the_country_passes_without_a_question(db):
    data = {**BASE, "country": "US", "time_zone": "America/New_York", "slug": "ny-tz",
            "email": "ny@ny-tz.test"}  # fmt: skip
    assert client_for().post("/signup/", data).status_code == 302
    tenant = Tenant.objects.get(slug="ny-tz")
    assert tenant.time_zone == "America/New_York" and tenant.currency == "USD"


def test_the_zone_tables_come_from_tzdata():
    assert country_zones("FR") == ["Europe/Paris"]
    assert "America/Los_Angeles" in country_zones("US")
    assert "UTC" in all_time_zones() and "US/Eastern" not in all_time_zones()
