"""Who sees what on the dashboard (role matrix, for each figure and each CSV), tenant isolation,
and bad query parameters answered with 400, never 500."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from scheduling.models import StaffMember
from tenants.roles import Role
from tests.factories import make_member, member_client

from .conftest import WEEK, chart, dashboard_of, figure

MONEY_CHARTS = {"revenue-per-day"}
ALL_CHARTS = {"bookings-per-week", "forecast", "revenue-per-day", "popular-slots", "by-service",
              "by-staff", "capacity-per-day", "capacity-per-staff"}  # fmt: skip
CUSTOMER_FIGURES = {"New customers", "Returning customers", "Rebooking rate"}


def _client(tenant, role: str, *, verified: bool = True, staff: StaffMember | None = None):
    user = make_member(tenant, role)
    if staff is not None:
        with tenant_context(tenant):
            StaffMember.objects.filter(pk=staff.pk).update(user=user)
        connection.set_schema_to_public()
    return member_client(tenant, user, verified=verified)


def _labels(dashboard) -> set[str]:
    return {item["label"] for item in dashboard["figures"]}


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_owners_and_managers_see_everything(tenant_alpha, dataset, role):
    dashboard = dashboard_of(_client(tenant_alpha, role))
    assert {table.key for table in dashboard["charts"]} == ALL_CHARTS
    assert "Average booking value" in _labels(dashboard) and dashboard["revenue"]
    assert CUSTOMER_FIGURES <= _labels(dashboard)


def test_without_a_verified_second_factor_no_money(tenant_alpha, dataset):
    client = _client(tenant_alpha, Role.OWNER, verified=False)
    dashboard = dashboard_of(client)
    assert dashboard["revenue"] is None and dashboard["money_locked"]
    assert "Average booking value" not in _labels(dashboard)
    assert all(len(table.columns) == 2 for table in dashboard["charts"]
               if table.key in ("by-service", "by-staff"))  # fmt: skip
    assert client.get("/dashboard/revenue-per-day.csv", WEEK).status_code == 404
    assert b"\xe2\x82\xac" not in client.get("/", WEEK).content  # no euro sign anywhere


def test_front_desk_see_bookings_and_occupancy_never_money(tenant_alpha, dataset):
    client = _client(tenant_alpha, Role.FRONT_DESK)
    dashboard = dashboard_of(client)
    assert {table.key for table in dashboard["charts"]} == ALL_CHARTS - MONEY_CHARTS
    assert dashboard["revenue"] is None and not dashboard["money_locked"]
    assert "Average booking value" not in _labels(dashboard)
    assert figure(dashboard, "Bookings in the period")["raw"] == 7
    assert chart(dashboard, "by-service").rows == [["Haircut", 4], ["Yoga", 3]]
    for key in MONEY_CHARTS:
        assert client.get(f"/dashboard/{key}.csv", WEEK).status_code == 404
    by_service = client.get("/dashboard/by-service.csv", WEEK).content.decode()
    assert by_service.splitlines()[0] == "Service,Bookings"


def test_staff_see_only_their_own(tenant_alpha, dataset):
    ben = _client(tenant_alpha, Role.STAFF, staff=dataset["ben"])
    dashboard = dashboard_of(ben)
    assert dashboard["own_only"] and dashboard["revenue"] is None
    assert figure(dashboard, "Bookings in the period")["raw"] == 0  # Ada's bookings are not his
    assert not CUSTOMER_FIGURES & _labels(dashboard)
    assert {table.key for table in dashboard["charts"]} == {
        "bookings-per-week",
        "forecast",
        "popular-slots",
        "by-service",
        "capacity-per-day",
    }
    # Asking for Ada changes nothing: the staff filter is his own.
    other = dashboard_of(ben, staff=str(dataset["ada"].pk))
    assert figure(other, "Bookings in the period")["raw"] == 0
    assert ben.get("/dashboard/by-staff.csv", WEEK).status_code == 404
    ada = _client(tenant_alpha, Role.STAFF, staff=dataset["ada"])
    assert figure(dashboard_of(ada), "Bookings in the period")["raw"] == 7
    assert chart(dashboard_of(ada), "capacity-per-day").rows[0][2] == 8  # her hours alone


def test_each_csv_equals_its_table(tenant_alpha, dataset):
    client = _client(tenant_alpha, Role.OWNER)
    dashboard = dashboard_of(client)
    for table in dashboard["charts"]:
        response = client.get(f"/dashboard/{table.key}.csv", WEEK)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows == [table.headings] + table.formatted_rows, table.key


def test_a_name_that_looks_like_a_formula_is_written_as_text(tenant_alpha, dataset):
    with tenant_context(tenant_alpha):
        StaffMember.objects.filter(pk=dataset["ada"].pk).update(display_name="=HYPERLINK(1)")
    connection.set_schema_to_public()
    body = _client(tenant_alpha, Role.OWNER).get("/dashboard/by-staff.csv", WEEK).content
    assert b"'=HYPERLINK(1)" in body


def test_tenant_b_never_counts_in_tenant_a(tenant_alpha, tenant_beta, owner_beta, dataset):
    dashboard = dashboard_of(member_client(tenant_beta, owner_beta, verified=True))
    assert figure(dashboard, "Bookings in the period")["raw"] == 0
    assert all(part["raw"] == 0 for row in dashboard["revenue"] for part in row["parts"])
    assert chart(dashboard, "by-service").rows == []
    # Alpha's staff member as a filter on beta's host: no such staff member there.
    response = member_client(tenant_beta, owner_beta, verified=True).get(
        "/", {**WEEK, "staff": str(dataset["ada"].pk)}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"period": "year"},
        {"period": "custom"},
        {"period": "custom", "from": "2026-13-01", "to": "2026-03-01"},
        {"period": "custom", "from": "2026-03-10", "to": "2026-03-01"},
        {"period": "custom", "from": "2020-01-01", "to": "2026-01-01"},
        {"period": "custom", "from": "1900-01-01", "to": "1900-01-02"},
        {"basis": "paid"},
        {"money": "x"},
        {"staff": "abc"},
        {"staff": "99999999999999999999"},
        {"service": "-1"},
        {"service": "424242"},
    ],
)
def test_bad_query_parameters_are_a_400(tenant_alpha, dataset, params):
    client = _client(tenant_alpha, Role.OWNER)
    response = client.get("/", params)
    assert response.status_code == 400
    assert response.context["dashboard"]["error"]
    assert client.get("/dashboard/fragment/", params).status_code == 400
    assert client.get("/dashboard/by-service.csv", params).status_code == 400


def test_unknown_chart_is_a_404_and_live_answers_a_version(tenant_alpha, dataset):
    client = _client(tenant_alpha, Role.STAFF)
    assert client.get("/dashboard/nothing.csv").status_code == 404
    first = client.get("/dashboard/live/").json()["version"]
    with tenant_context(tenant_alpha):
        from tests.insights.dataset import cancel

        cancel(dataset["b3"], dataset["b3"].starts_at)
    connection.set_schema_to_public()
    assert client.get("/dashboard/live/").json()["version"] != first


def test_the_page_sends_a_strict_content_security_policy(tenant_alpha, dataset):
    response = _client(tenant_alpha, Role.OWNER).get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
