"""Operators override a tenant's fee rate in the console (audited); new payments use it."""

import pytest
from django_tenants.utils import tenant_context

from billing.models import FeeOverride
from billing.selectors import fee_rate_of
from connect_payments.services.booking_payments import booking_payment_start
from tenants.models import AuditEntry
from tests.factories import client_for, make_user, signed_in

from .conftest import hold_now


@pytest.fixture
def console(db):
    operator = make_user(name="Olga Operator", is_operator=True)
    return signed_in(client_for(), operator, schema="public", verified=True)


def test_operator_sets_then_removes_a_fee_override(console, tenant_alpha):
    response = console.post(
        "/console/tenants/alpha/fee/",
        {"fee_percent": "1.25", "fee_fixed": "0.10", "reason": "Partner deal"},
    )

    assert response.status_code == 302
    override = FeeOverride.objects.get(tenant=tenant_alpha)
    assert (override.fee_basis_points, override.fee_fixed_minor) == (125, 10)
    entry = AuditEntry.objects.get(action="creneau.console.tenant.fee_override_set")
    assert entry.reason == "Partner deal"
    assert entry.data["after"] == {"basis_points": 125, "fixed_minor": 10}
    page = console.get("/console/tenants/alpha/")
    assert b"125 bp + 10" in page.content

    console.post("/console/tenants/alpha/fee/", {"fee_percent": "", "reason": "Deal ended"})

    assert not FeeOverride.objects.filter(tenant=tenant_alpha).exists()
    assert AuditEntry.objects.filter(action="creneau.console.tenant.fee_override_removed").exists()


@pytest.mark.parametrize(
    "form",
    [
        {"fee_percent": "101", "reason": "x"},
        {"fee_percent": "2.555", "reason": "x"},
        {"fee_percent": "-1", "reason": "x"},
        {"fee_percent": "2", "reason": ""},
    ],
)
def test_bad_fee_overrides_are_refused(console, tenant_alpha, form):
    response = console.post("/console/tenants/alpha/fee/", form, follow=True)
    assert response.status_code == 200
    assert not FeeOverride.objects.filter(tenant=tenant_alpha).exists()
    assert not AuditEntry.objects.filter(action__startswith="creneau.console.tenant.fee").exists()


def test_business_owner_cannot_set_fees(tenant_alpha, owner_alpha):
    owner = signed_in(client_for(), owner_alpha, schema="public", verified=True)
    response = owner.post("/console/tenants/alpha/fee/", {"fee_percent": "0", "reason": "x"})
    assert response.status_code == 404
    assert not FeeOverride.objects.exists()


def test_new_payments_use_the_override(alpha_account, catalogue, customer, tenant_alpha):
    FeeOverride.objects.create(tenant=tenant_alpha, fee_basis_points=100, fee_fixed_minor=0)
    with tenant_context(tenant_alpha):
        assert fee_rate_of(tenant_alpha).basis_points == 100
        payment = booking_payment_start(booking=hold_now(catalogue["service"], customer))
    assert payment.fee_minor == 45
