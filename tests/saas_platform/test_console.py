"""Operator console: who gets in, suspension and reactivation, the audit log."""

import pytest
from django.core.management import call_command

from tenants.models import AuditEntry, Tenant, User
from tests.factories import client_for, make_member, make_user, member_client, signed_in


@pytest.fixture
def operator(db):
    return make_user(name="Olga Operator", is_operator=True)


@pytest.fixture
def console(operator):
    return signed_in(client_for(), operator, schema="public", verified=True)


def test_only_verified_operators_get_in(db, operator, tenant_alpha, owner_alpha):
    assert client_for().get("/console/").status_code == 302  # anonymous → sign in
    business_owner = signed_in(client_for(), owner_alpha, schema="public", verified=True)
    assert business_owner.get("/console/").status_code == 404
    unverified = signed_in(client_for(), operator, schema="public")
    assert unverified.get("/console/")["Location"].startswith("/account/two_factor/setup/")
    verified = signed_in(client_for(), operator, schema="public", verified=True)
    assert verified.get("/console/").status_code == 200


def test_operator_session_does_not_open_tenant_pages(operator, tenant_alpha):
    # An operator is not a member: tenant back offices stay closed (404 once signed in there).
    client = member_client(tenant_alpha, operator, verified=True)
    assert client.get("/").status_code == 404


def test_list_and_search_tenants(console, tenant_alpha, tenant_beta):
    make_member(tenant_alpha, "staff")
    page = console.get("/console/")
    assert b"Alpha Studio" in page.content and b"Beta Gym" in page.content
    row = dict((t.slug, (t, bookings)) for t, bookings in page.context["rows"])
    assert row["alpha"][0].member_count == 2
    found = console.get("/console/?q=bet")
    assert b"Beta Gym" in found.content and b"Alpha Studio" not in found.content
    assert b"Starter" in page.content  # plan


def test_suspend_then_reactivate_changes_public_page_and_is_audited(
    console, operator, tenant_alpha, owner_alpha
):
    public_visitor = client_for(tenant_alpha)
    assert public_visitor.get("/account/login/").status_code == 200

    # A missing reason is shown on the confirmation page (it used to redirect to the summary).
    refused = console.post("/console/tenants/alpha/suspend/", {"reason": ""})
    assert refused.status_code == 400
    assert b"This field is required." in refused.content
    assert Tenant.objects.get(slug="alpha").status == "active"

    console.post("/console/tenants/alpha/suspend/", {"reason": "Chargeback investigation"})
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.status == "suspended"

    visitor_page = public_visitor.get("/book/")
    assert visitor_page.status_code == 503
    assert b"temporarily unavailable" in visitor_page.content
    assert b"Chargeback" not in visitor_page.content  # the reason is for the team only
    staff_page = member_client(tenant_alpha, owner_alpha).get("/")
    assert staff_page.status_code == 503
    assert b"Chargeback investigation" in staff_page.content

    console.post("/console/tenants/alpha/reactivate/", {"reason": "Resolved with the bank"})
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.status == "active"
    assert member_client(tenant_alpha, owner_alpha).get("/").status_code == 200

    entries = list(
        AuditEntry.objects.filter(tenant=tenant_alpha, action__startswith="creneau.console.")
        .order_by("created_at")
        .values_list("actor__email", "action", "reason")
    )
    assert entries == [
        (operator.email, "creneau.console.tenant.suspended", "Chargeback investigation"),
        (operator.email, "creneau.console.tenant.reactivated", "Resolved with the bank"),
    ]
    log = console.get("/console/audit/")
    assert b"Chargeback investigation" in log.content and operator.email.encode() in log.content


def test_suspending_asks_for_confirmation_naming_the_business_and_what_it_does(console):
    summary = console.get("/console/tenants/alpha/").content.decode()
    assert 'href="/console/tenants/alpha/suspend/"' in summary
    page = console.get("/console/tenants/alpha/suspend/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Suspend Alpha Studio?" in text and "New bookings stop" in text
    assert "can still open their booking, cancel it" in text
    assert Tenant.objects.get(slug="alpha").status == "active"  # looking suspends nothing


def test_suspending_reports_the_business_and_reason_in_words(console):
    response = console.post(
        "/console/tenants/alpha/suspend/", {"reason": "Chargeback investigation"}, follow=True
    )
    text = response.content.decode()
    assert "Alpha Studio is suspended: Chargeback investigation." in text
    assert "suspend done" not in text
    again = console.post("/console/tenants/alpha/suspend/", {"reason": "Twice"}, follow=True)
    assert "Alpha Studio was already suspended" in again.content.decode()
    back = console.post("/console/tenants/alpha/reactivate/", {"reason": "Paid"}, follow=True)
    assert "Alpha Studio is active again" in back.content.decode()


def test_unknown_console_action_is_a_404(console):
    assert console.post("/console/tenants/alpha/explode/", {"reason": "x"}).status_code == 404
    assert console.get("/console/tenants/nobody/suspend/").status_code == 404


def test_suspension_deletes_nothing(console, tenant_alpha):
    members_before = tenant_alpha.memberships.count()
    console.post("/console/tenants/alpha/suspend/", {"reason": "Abuse report"})
    assert Tenant.objects.filter(slug="alpha").exists()
    assert tenant_alpha.memberships.count() == members_before


def test_tenant_summary_shows_no_customer_data(console, tenant_alpha):
    page = console.get("/console/tenants/alpha/")
    assert page.status_code == 200
    assert b"Alpha Studio" in page.content
    assert b"customer" not in page.content.lower().replace(b"no customer data", b"")


def test_create_operator_command(db):
    call_command(
        "create_operator", email="ops@creneau.test", name="Ops", password="ops-pass-2026!x"
    )
    user = User.objects.get(email="ops@creneau.test")
    assert user.is_operator and user.check_password("ops-pass-2026!x")
    assert AuditEntry.objects.filter(action="creneau.console.operator.created").exists()
