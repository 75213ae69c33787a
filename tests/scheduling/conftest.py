"""Scheduling fixtures: a service with two staff members working Mon–Sat 09:00–18:00 (alpha,
Europe/Paris), and a fixed "now" on a Monday morning two weeks ahead of the bookings."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from scheduling.models import Service, StaffMember, WorkingHours
from scheduling.services.customers import customer_upsert
from tenants.models import Tenant

PARIS = ZoneInfo("Europe/Paris")
# A Monday; bookings in tests are on Tuesday 2030-06-04 and later.
NOW = datetime(2030, 6, 3, 8, 0, tzinfo=PARIS)


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def build_catalogue(*, capacity: int = 1, policy: list | None = None) -> dict:
    """Two staff, one 60-minute service of 45.00 EUR with a 15-minute buffer after."""
    ada = StaffMember.objects.create(display_name="Ada")
    ben = StaffMember.objects.create(display_name="Ben")
    for member in (ada, ben):
        for weekday in range(6):
            WorkingHours.objects.create(staff=member, weekday=weekday, start=time(9), end=time(18))
    service = Service.objects.create(
        name="Massage",
        category="Body",
        duration_minutes=60,
        price_minor=4500,
        payment_mode="online_full",
        buffer_after_minutes=15,
        slot_interval_minutes=15,
        minimum_notice_minutes=60,
        maximum_advance_days=365 * 10,
        capacity=capacity,
        cancellation_policy=policy
        if policy is not None
        else [{"hours_before": 48, "refund_percent": 100}, {"hours_before": 24,
              "refund_percent": 50}, {"hours_before": 0, "refund_percent": 0}],
    )  # fmt: skip
    service.staff.add(ada, ben)
    return {"ada": ada, "ben": ben, "service": service}


@pytest.fixture
def alpha_schema(tenant_alpha):
    with tenant_context(tenant_alpha):
        yield tenant_alpha


@pytest.fixture
def catalogue(alpha_schema):
    return build_catalogue()


@pytest.fixture
def customer(alpha_schema):
    return customer_upsert(name="Chloé Client", email="chloe@example.test", phone="+33612345678")


# Race tests: real threads need committed rows, emptied before and after.
def truncate_tenant_tables(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name <> 'django_migrations'",
            [schema],
        )
        tables = ", ".join(f'"{schema}"."{row[0]}"' for row in cursor.fetchall())
        if tables:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def alpha_committed(committed_db):
    tenant = Tenant.objects.get(slug="alpha")
    truncate_tenant_tables(tenant.schema_name)
    yield tenant
    connection.set_schema_to_public()
    truncate_tenant_tables(tenant.schema_name)
