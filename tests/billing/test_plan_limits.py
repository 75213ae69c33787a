"""A plan's staff limit is enforced in scheduling's service layer (through billing's port), so
the staff page and any other caller refuse the same way, naming the plan that allows it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from billing.limits import BillingPlanLimits
from billing.models import Plan
from scheduling import ports
from scheduling.models import StaffMember
from scheduling.services.catalogue import StaffSpec, staff_create, staff_update
from tests.factories import member_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def starter_alpha(tenant_alpha):
    tenant_alpha.plan = Plan.objects.get(code="starter")  # at most 3 active staff
    tenant_alpha.save(update_fields=["plan"])
    with tenant_context(tenant_alpha):
        StaffMember.objects.all().delete()
        for n in range(3):
            staff_create(spec=StaffSpec(display_name=f"Staff {n}"), tenant_id=tenant_alpha.pk)
    return tenant_alpha


def test_billing_registers_the_plan_limits_port() -> None:
    assert isinstance(ports.plan_limits(), BillingPlanLimits)


def test_a_fourth_active_staff_member_is_refused_naming_the_plan(starter_alpha) -> None:
    with tenant_context(starter_alpha), pytest.raises(ValidationError) as refused:
        staff_create(spec=StaffSpec(display_name="Fourth"), tenant_id=starter_alpha.pk)
    message = refused.value.message_dict["is_active"][0]
    assert "The Starter plan allows 3 active staff members; this would make 4." in message
    assert "The Studio plan allows it" in message
    with tenant_context(starter_alpha):
        assert StaffMember.objects.count() == 3
        # inactive staff do not count; reactivating one over the limit is refused the same way
        inactive = staff_create(
            spec=StaffSpec(display_name="Away", is_active=False), tenant_id=starter_alpha.pk
        )
        with pytest.raises(ValidationError):
            staff_update(
                staff=inactive, spec=StaffSpec(display_name="Away"), tenant_id=starter_alpha.pk
            )


def test_the_staff_page_shows_the_refusal(starter_alpha, owner_alpha) -> None:
    page = member_client(starter_alpha, owner_alpha, verified=True).post(
        "/staff/new/",
        {"display_name": "Fourth", "colour": "#2f5d50", "is_active": "on", "display_order": 0},
    )
    assert page.status_code == 400
    assert "The Starter plan allows 3 active staff members" in page.content.decode()
    with tenant_context(starter_alpha):
        assert StaffMember.objects.count() == 3


def test_a_plan_without_a_limit_allows_more(starter_alpha) -> None:
    starter_alpha.plan = Plan.objects.get(code="pro")
    starter_alpha.save(update_fields=["plan"])
    with tenant_context(starter_alpha):
        staff_create(spec=StaffSpec(display_name="Fourth"), tenant_id=starter_alpha.pk)
        assert StaffMember.objects.filter(is_active=True).count() == 4
