"""Self-service signup: success, refusals, and nothing half-created on failure."""

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from tenants import services
from tenants.models import Domain, LoginHandoff, Membership, Tenant, User
from tests.factories import PASSWORD, client_for

VALID = {
    "business_name": "Salon Lumière",
    "slug": "lumiere",
    "owner_name": "Lucie Bernard",
    "email": "lucie@lumiere.test",
    "password": PASSWORD,
    "country": "FR",
    "currency": "EUR",
    "time_zone": "Europe/Paris",
}


def _nothing_created(slug: str, email: str) -> None:
    assert not Tenant.objects.filter(slug=slug).exists()
    assert not Domain.objects.filter(domain=f"{slug}.localhost").exists()
    assert not User.objects.filter(email=email).exists()
    assert not schema_exists(f"t_{slug.replace('-', '_')}")


def test_signup_creates_tenant_schema_domain_owner_and_lands_on_dashboard(db):
    client = client_for()
    response = client.post("/signup/", VALID)
    assert response.status_code == 302
    assert response["Location"].startswith("http://lumiere.localhost/account/welcome/?token=")

    tenant = Tenant.objects.get(slug="lumiere")
    assert tenant.schema_name == "t_lumiere"
    assert schema_exists("t_lumiere")
    assert tenant.get_primary_domain().domain == "lumiere.localhost"
    assert tenant.time_zone == "Europe/Paris" and tenant.currency == "EUR"
    assert tenant.plan is not None and tenant.plan.is_default
    owner = User.objects.get(email="lucie@lumiere.test")
    assert Membership.objects.get(tenant=tenant).user == owner
    assert Membership.objects.get(tenant=tenant).role == "owner"

    # Follow the hand-off link on the tenant host: signed in there, on the dashboard.
    tenant_client = client_for(tenant)
    path = response["Location"].split("lumiere.localhost", 1)[1]
    landed = tenant_client.get(path)
    assert landed.status_code == 302 and landed["Location"] == "/"
    dashboard = tenant_client.get("/")
    assert dashboard.status_code == 200
    assert b"Salon Lumi" in dashboard.content
    assert b"Lucie Bernard" in dashboard.content
    # The hand-off link works once.
    again = client_for(tenant).get(path)
    assert again.status_code == 400
    assert b"already been used" in again.content
    assert LoginHandoff.objects.get().used_at is not None


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        return {row[0] for row in cursor.fetchall()} - {"django_migrations"}


def test_new_tenant_schema_is_a_clone_of_the_template(db):
    client_for().post("/signup/", VALID)
    assert _tables("t_lumiere") == _tables("tenant_template")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t_lumiere.django_migrations")
        assert cursor.fetchone()[0] > 0  # migrations recorded (faked) for the clone


def test_duplicate_slug_is_refused(db, tenant_alpha):
    response = client_for().post("/signup/", {**VALID, "slug": "alpha"})
    assert response.status_code == 400
    assert "already taken" in response.context["form"].errors["slug"][0]
    assert not User.objects.filter(email=VALID["email"]).exists()


@pytest.mark.parametrize("slug", ["www", "api", "admin", "console", "static"])
def test_reserved_slug_is_refused(db, slug):
    response = client_for().post("/signup/", {**VALID, "slug": slug})
    assert response.status_code == 400
    assert "reserved" in response.context["form"].errors["slug"][0]
    _nothing_created(slug, VALID["email"])


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("slug", "Bad Slug", "lowercase letters"),
        ("slug", "-edge", "lowercase letters"),
        ("slug", "a--b", "single hyphens"),
        ("email", "not-an-email", "valid email"),
        ("password", "123", "too short"),
        ("password", "password", "too common"),
        ("time_zone", "Mars/Olympus", "time zone"),
    ],
)
def test_invalid_input_gives_form_errors_and_creates_nothing(db, field, value, message):
    response = client_for().post("/signup/", {**VALID, field: value})
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    _nothing_created(VALID["slug"], VALID["email"])


def test_existing_email_is_refused(db, owner_alpha):
    response = client_for().post("/signup/", {**VALID, "email": owner_alpha.email.upper()})
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["email"][0]


def test_failure_after_schema_creation_leaves_nothing_behind(db, monkeypatch):
    class Boom(RuntimeError):
        pass

    def explode(tenant):
        assert schema_exists(tenant.schema_name)  # the schema really was created
        raise Boom("injected after schema creation")

    monkeypatch.setattr(services, "_after_schema_created", explode)
    with pytest.raises(Boom):
        services.tenant_provision(
            name="Doomed",
            slug="doomed",
            owner_email="doomed@example.test",
            owner_name="Doomed Owner",
            owner_password=PASSWORD,
            country="FR",
            currency="EUR",
            time_zone="Europe/Paris",
        )
    connection.set_schema_to_public()
    _nothing_created("doomed", "doomed@example.test")
    assert not Membership.objects.filter(user__email="doomed@example.test").exists()


def test_signup_page_defaults_time_zone_from_browser(db):
    page = client_for().get("/signup/")
    assert page.status_code == 200
    assert b"Intl.DateTimeFormat().resolvedOptions().timeZone" in page.content


def test_a_kind_of_business_prefills_example_services_and_the_owners_hours(db):
    from django_tenants.utils import tenant_context

    from scheduling.models import Service, StaffMember, WorkingHours

    response = client_for().post("/signup/", {**VALID, "kind": "salon"})
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="lumiere")
    owner = User.objects.get(email="lucie@lumiere.test")
    with tenant_context(tenant):
        services_made = list(Service.objects.order_by("display_order"))
        [staff] = StaffMember.objects.all()
        assert [s.name for s in services_made] == ["Haircut", "Colour", "Blow-dry"]
        assert [s.price_minor for s in services_made] == [3500, 7000, 2500]  # EUR cents
        assert {s.payment_mode for s in services_made} == {"pay_at_venue"}
        assert all(list(s.staff.all()) == [staff] for s in services_made)
        assert staff.user_id == owner.pk and staff.display_name == "Lucie Bernard"
        hours = sorted(WorkingHours.objects.values_list("weekday", "start", "end"))
        assert [day for day, _, _ in hours] == [1, 2, 3, 4, 5]  # Tuesday to Saturday
    connection.set_schema_to_public()


def test_no_kind_or_other_leaves_the_catalogue_empty_and_a_bad_kind_is_refused(db):
    from django_tenants.utils import tenant_context

    from scheduling.models import Service

    refused = client_for().post("/signup/", {**VALID, "kind": "casino"})
    assert refused.status_code == 400 and b"Select a valid choice" in refused.content
    assert not Tenant.objects.filter(slug="lumiere").exists()
    assert client_for().post("/signup/", {**VALID, "kind": "other"}).status_code == 302
    with tenant_context(Tenant.objects.get(slug="lumiere")):
        assert not Service.objects.exists()
    connection.set_schema_to_public()
