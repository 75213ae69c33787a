"""A plan's staff and group-session limits are enforced in scheduling's service layer (through
billing's port), so the pages and any other caller refuse the same way, naming the plan that
allows it."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.changes import downgrade_refusal
from billing.limits import BillingPlanLimits
from billing.models import Plan
from scheduling import ports
from scheduling.models import GroupSchedule, Occurrence, Service, StaffMember
from scheduling.services.catalogue import (
    StaffSpec,
    group_schedule_create,
    staff_create,
    staff_update,
)
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


# --- recurring group sessions (Starter: 2 running at once) -----------------------------------
@pytest.fixture
def yoga_alpha(tenant_alpha):
    """Alpha on Starter with a group service, a teacher and two weekly classes running."""
    tenant_alpha.plan = Plan.objects.get(code="starter")
    tenant_alpha.save(update_fields=["plan"])
    with tenant_context(tenant_alpha):
        teacher = StaffMember.objects.create(display_name="Yann")
        service = Service.objects.create(
            name="Yoga", duration_minutes=60, capacity=8, maximum_advance_days=3650
        )
        service.staff.add(teacher)
        for weekday in (0, 1):
            _weekly(service, teacher, weekday)
    return tenant_alpha, service, teacher


def _weekly(service, teacher, weekday: int, weeks: int = 4):
    return group_schedule_create(
        service=service, staff=teacher, weekday=weekday, start_time=time(18),
        first_date=timezone.localdate() + timedelta(days=1), weeks=weeks, capacity=8,
    )  # fmt: skip


def test_a_third_running_group_session_is_refused_naming_the_plan(yoga_alpha) -> None:
    tenant, service, teacher = yoga_alpha
    with tenant_context(tenant), pytest.raises(ValidationError) as refused:
        _weekly(service, teacher, weekday=2)
    message = refused.value.messages[0]
    assert "The Starter plan allows 2 recurring group sessions running at once; this would " \
           "make 3." in message  # fmt: skip
    assert "The Studio plan allows it" in message
    with tenant_context(tenant):
        assert GroupSchedule.objects.count() == 2  # nothing half-written
        assert Occurrence.objects.count() == 8


def test_a_finished_or_cancelled_class_frees_its_place(yoga_alpha) -> None:
    tenant, service, teacher = yoga_alpha
    with tenant_context(tenant):
        first = GroupSchedule.objects.order_by("pk").first()
        Occurrence.objects.filter(schedule=first).update(is_cancelled=True)
        _weekly(service, teacher, weekday=2)  # allowed: the first class no longer runs
        assert GroupSchedule.objects.count() == 3
        with pytest.raises(ValidationError):
            _weekly(service, teacher, weekday=3)


def test_the_group_sessions_page_shows_the_refusal(yoga_alpha, owner_alpha) -> None:
    tenant, service, teacher = yoga_alpha
    page = member_client(tenant, owner_alpha, verified=True).post("/group-sessions/", {
        "service": service.pk, "staff": teacher.pk, "weekday": 2, "start_time": "18:00",
        "first_date": str(timezone.localdate() + timedelta(days=1)), "weeks": 4, "capacity": "",
    })  # fmt: skip
    assert page.status_code == 400
    assert "The Starter plan allows 2 recurring group sessions" in page.content.decode()
    with tenant_context(tenant):
        assert GroupSchedule.objects.count() == 2


def test_a_plan_without_a_group_session_limit_allows_more(yoga_alpha) -> None:
    tenant, service, teacher = yoga_alpha
    tenant.plan = Plan.objects.get(code="studio")
    tenant.save(update_fields=["plan"])
    with tenant_context(tenant):
        _weekly(service, teacher, weekday=2)
        assert GroupSchedule.objects.count() == 3


def test_a_downgrade_is_refused_while_over_the_lower_plans_group_sessions(yoga_alpha) -> None:
    tenant, service, teacher = yoga_alpha
    tenant.plan = Plan.objects.get(code="studio")
    tenant.save(update_fields=["plan"])
    with tenant_context(tenant):
        _weekly(service, teacher, weekday=2)
        refusal = downgrade_refusal(Plan.objects.get(code="starter"))
    assert refusal == ("You have 3 recurring group sessions running; the Starter plan allows 2. "
                       "Cancel the sessions of some first.")  # fmt: skip
