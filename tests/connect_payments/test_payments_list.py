"""The payments list shows all the business's money: booking payments, no-show and
late-cancellation fees, pass purchases and membership invoices, each with the date money moved,
the customer, what it was for, gross, refunds, platform fee, net, status and its page. Filters
and the CSV give exactly the rows of the table; only owners and managers open it; its number of
queries does not grow with its rows; another business's money never shows."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connect_payments.models import FeeStatus
from tenants.roles import Role
from tests.factories import make_member, member_client

from .conftest import in_schema
from .money_support import charged_fee, membership_invoice, paid_booking, sold_pass


class _Table(HTMLParser):
    """The payments table's rows: (kind, id) and the text of each cell."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr" and "data-kind" in attributes:
            self.rows.append({"key": (attributes["data-kind"], attributes["data-id"]), "cells": []})
        elif tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_of(client, params=None) -> list[dict]:
    response = client.get("/payments/", params or {})
    assert response.status_code == 200
    parser = _Table()
    parser.feed(response.content.decode())
    return parser.rows


def csv_of(client, params=None) -> list[dict]:
    response = client.get("/payments/export.csv", params or {})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def manager(tenant_alpha):
    return member_client(tenant_alpha, make_member(tenant_alpha, Role.MANAGER), verified=True)


@pytest.fixture
def money(catalogue, customer):
    """One of each kind, paid on different days (oldest first)."""
    now = timezone.now()
    service = catalogue["service"]
    return {
        "booking": paid_booking(service, customer, paid_at=now - timedelta(days=30)),
        "fee": charged_fee(service, customer, paid_at=now - timedelta(days=20)),
        "pass": sold_pass(customer, refunded=3000, paid_at=now - timedelta(days=10)),
        "membership": membership_invoice(customer, paid_at=now - timedelta(days=1)),
    }


def test_the_list_shows_every_kind_of_payment_with_its_amounts_and_page(money, manager):
    rows = table_of(manager)

    assert [key for key in (row["key"] for row in rows)] == [
        ("membership", str(money["membership"].pk)),
        ("pass", str(money["pass"].pk)),
        ("fee", str(money["fee"].pk)),
        ("booking", str(money["booking"].pk)),
    ]  # fmt: skip  (newest money first)
    by_kind = {row["key"][0]: row["cells"] for row in rows}
    # date, customer, for, gross, refunds, platform fee, net, status, Stripe
    assert by_kind["booking"][3:7] == ["€45.00", "€0.00", "€1.38", "€43.62"]
    assert by_kind["fee"][3:7] == ["€20.00", "€0.00", "€0.75", "€19.25"]
    # 30.00 of 90.00 refunded: the fee comes back pro rata, half-up (250 × 1/3 = 83.33 → 83).
    assert by_kind["pass"][3:7] == ["€90.00", "€30.00", "€1.67", "€58.33"]
    # 2.5 % of 60.00, as Stripe computes `application_fee_percent`.
    assert by_kind["membership"][3:7] == ["€60.00", "€0.00", "€1.50", "€58.50"]
    assert by_kind["pass"][7] == "Partially refunded" and by_kind["fee"][7] == "Charged"
    assert "Chloé Client" in by_kind["pass"][1]
    booking = money["booking"].booking
    assert f"{booking.reference} · Massage" in by_kind["booking"][2]
    assert f"No-show fee for booking {money['fee'].booking.reference}" in by_kind["fee"][2]
    assert f"Pass: {money['pass'].name}" in by_kind["pass"][2]
    assert f"Membership {money['membership'].membership.name}, " in by_kind["membership"][2]
    page = manager.get("/payments/").content.decode()
    links = {
        f"/payments/{money['booking'].pk}/", f"/payments/fees/{money['fee'].pk}/",
        f"/credits/{money['pass'].customer_id}/",
        f"/memberships/members/{money['membership'].membership_id}/",
        f"/customers/{money['pass'].customer_id}/",  # the customer's page, from every row
    }  # fmt: skip
    for link in links:
        assert f'href="{link}"' in page, link
        assert manager.get(link).status_code == 200, link


@pytest.mark.parametrize("params", [
    {}, {"kind": "booking"}, {"kind": "fee"}, {"kind": "pass"}, {"kind": "membership"},
    {"status": "partially_refunded"}, {"status": "awaiting"}, {"q": "pi_rows_pass"},
    "last-fortnight", "a-day-a-month-ago", {"kind": "nonsense"}, {"from": "not-a-date"},
])  # fmt: skip
def test_filters_and_the_csv_give_exactly_the_rows_of_the_table(money, manager, tenant_alpha,
                                                                params):  # fmt: skip
    today = timezone.localdate(timezone=ZoneInfo(tenant_alpha.time_zone))  # the business's days
    if isinstance(params, str):
        days = {"last-fortnight": (14, 0), "a-day-a-month-ago": (30, 30)}[params]
        params = {"from": (today - timedelta(days=days[0])).isoformat(),
                  "to": (today - timedelta(days=days[1])).isoformat()}  # fmt: skip
    table = table_of(manager, params)
    exported = csv_of(manager, params)

    assert [row["key"] for row in table] == [(row["kind"], row["id"]) for row in exported]
    for shown, line in zip(table, exported, strict=True):
        net = int(line["net_minor"])
        assert shown["cells"][6] == f"€{net // 100}.{net % 100:02d}"
        assert shown["cells"][7] == line["status"]
        assert line["for"] in shown["cells"][2]
    expected = {
        "kind": {"booking": {"booking"}, "fee": {"fee"}, "pass": {"pass"},
                 "membership": {"membership"}},
        "status": {"partially_refunded": {"pass"}, "awaiting": set()},
    }  # fmt: skip
    kinds = {row["key"][0] for row in table}
    if params.get("kind") in expected["kind"]:
        assert kinds == expected["kind"][params["kind"]]
    elif params.get("status"):
        assert kinds == expected["status"][params["status"]]
    elif params.get("q"):
        assert kinds == {"pass"}
    elif params.get("to"):
        # Money moved 1, 10, 20 and 30 days ago.
        assert kinds == ({"membership", "pass"} if params["to"] == today.isoformat()
                         else {"booking"})  # fmt: skip
    else:  # no filter, or a bad one left out
        assert kinds == {"booking", "fee", "pass", "membership"}


def test_an_awaiting_fee_is_listed_without_money_and_found_by_its_status(catalogue, customer,
                                                                          manager):  # fmt: skip
    fee = charged_fee(catalogue["service"], customer, status=FeeStatus.AWAITING_CUSTOMER)
    [row] = table_of(manager, {"status": "awaiting"})
    assert row["key"] == ("fee", str(fee.pk))
    assert row["cells"][3:8] == ["€0.00", "€0.00", "€0.00", "€0.00", "Fee awaiting the customer"]


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.OWNER, True), (Role.MANAGER, True), (Role.FRONT_DESK, False), (Role.STAFF, False),
])  # fmt: skip
def test_only_owners_and_managers_open_the_list_and_its_csv(money, tenant_alpha, role, allowed):
    client = member_client(tenant_alpha, make_member(tenant_alpha, role), verified=True)
    for path in ("/payments/", "/payments/export.csv"):
        assert client.get(path).status_code == (200 if allowed else 403), (role, path)


def _queries(client, path: str, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
        if path.endswith(".csv"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/payments/", "/payments/export.csv"])
def test_the_number_of_queries_does_not_grow_with_the_rows(catalogue, customer, manager,
                                                           tenant_alpha, path):  # fmt: skip
    service = catalogue["service"]

    def add_one_of_each():
        paid_booking(service, customer)
        charged_fee(service, customer)
        sold_pass(customer)
        membership_invoice(customer)

    add_one_of_each()
    few = _queries(manager, path)
    in_schema(tenant_alpha)
    for _ in range(8):
        add_one_of_each()
    many = _queries(manager, path)
    assert len(table_of(manager)) == 36
    assert many == few


def test_the_list_pages_and_the_csv_holds_every_page(catalogue, customer, manager, tenant_alpha,
                                                     settings):  # fmt: skip
    from connect_payments.views import money as views

    for _ in range(3):
        sold_pass(customer)
    views.PAYMENTS_PER_PAGE, before = 2, views.PAYMENTS_PER_PAGE
    try:
        first, second = table_of(manager), table_of(manager, {"page": 2})
        page = manager.get("/payments/", {"kind": "pass"}).content.decode()
    finally:
        views.PAYMENTS_PER_PAGE = before
    assert (len(first), len(second)) == (2, 1)
    assert re.search(r"Page 1 of 2 \(3 payments\)", page)
    assert [row["key"] for row in first + second] == [
        (row["kind"], row["id"]) for row in csv_of(manager)
    ]


def test_another_business_never_sees_these_payments(money, tenant_beta):
    beta_owner = tenant_beta.memberships.get(role=Role.OWNER).user
    beta = member_client(tenant_beta, beta_owner, verified=True)
    assert table_of(beta) == []
    assert csv_of(beta) == []
    assert b"pi_rows_" not in beta.get("/payments/").content
