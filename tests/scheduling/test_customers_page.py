"""The back office's Customers page: every customer of the business with their number of
bookings, last visit, next booking, no-shows and (for money roles with their second factor)
total spent; search by name, email or phone; sorted by last visit; a page per customer with
their bookings, credits, memberships and saved card (brand and last four only). Staff see the
customers of their own bookings only; another business's customers never show; the number of
queries does not grow with the customers or their bookings."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connect_payments.models import CardCustomer, SavedCard
from memberships.models import CreditSourceKind
from memberships.services.credits import credit_grant
from scheduling.models import Booking, BookingStatus, StaffMember
from scheduling.services.customers import customer_upsert
from tenants.roles import Role
from tests.connect_payments.conftest import TEN_AM, hold_now
from tests.connect_payments.money_support import membership_invoice, paid_booking, sold_pass
from tests.factories import make_member, member_client

NOW = timezone.now()


def _booking(service, customer, *, weeks: int, status: str, staff=None) -> Booking:
    """A booking `weeks` from now (negative: in the past) at 10:00 on a Tuesday, in `status`."""
    booking = hold_now(service, customer, starts_at=TEN_AM + timedelta(weeks=100 + weeks),
                       staff_id=staff.pk if staff else None)  # fmt: skip
    starts_at = TEN_AM.replace(year=NOW.year + 1) + timedelta(weeks=weeks)
    if weeks < 0:
        starts_at = NOW - timedelta(weeks=-weeks)
    ends_at = starts_at + timedelta(hours=1)
    Booking.objects.filter(pk=booking.pk).update(
        status=status, starts_at=starts_at, ends_at=ends_at,
        occupied=DateTimeTZRange(starts_at, ends_at, "[)"),
    )  # fmt: skip
    booking.refresh_from_db()
    return booking


def _client(tenant, role: str, *, verified: bool = True, user=None):
    return member_client(tenant, user or make_member(tenant, role), verified=verified)


def rows_of(client, params=None) -> list[str]:
    """The customers' ids, in the order of the table."""
    response = client.get("/customers/", params or {})
    assert response.status_code == 200
    return re.findall(r'<tr data-customer="(\d+)">', response.content.decode())


@pytest.fixture
def people(catalogue, customer):
    """Chloé: a visit 2 weeks ago (completed), a no-show 1 week ago, one booking ahead, a
    cancelled one; Dan: a visit 5 weeks ago; Eve: nothing but a pass."""
    service, ada, ben = catalogue["service"], catalogue["ada"], catalogue["ben"]
    dan = customer_upsert(name="Dan Durand", email="dan@example.test", phone="+33611223344")
    eve = customer_upsert(name="Eve Évrard", email="eve@example.test")
    _booking(service, customer, weeks=-2, status=BookingStatus.COMPLETED, staff=ada)
    _booking(service, customer, weeks=-1, status=BookingStatus.NO_SHOW, staff=ada)
    ahead = _booking(service, customer, weeks=3, status=BookingStatus.CONFIRMED, staff=ben)
    _booking(service, customer, weeks=4, status=BookingStatus.CANCELLED, staff=ben)
    _booking(service, dan, weeks=-5, status=BookingStatus.COMPLETED, staff=ben)
    return {"chloe": customer, "dan": dan, "eve": eve, "ahead": ahead, "ada": ada, "ben": ben,
            "service": service}  # fmt: skip


def test_the_list_shows_each_customer_with_their_figures_newest_visit_first(people, tenant_alpha):
    client = _client(tenant_alpha, Role.FRONT_DESK)
    chloe, dan, eve = people["chloe"], people["dan"], people["eve"]

    assert rows_of(client) == [str(chloe.pk), str(dan.pk), str(eve.pk)]  # last visit, then none
    page = client.get("/customers/").content.decode()
    row = page[page.index(f'<tr data-customer="{chloe.pk}">') :].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", " ", cell).split()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]  # fmt: skip
    assert cells[1][-1] == "4"  # bookings (the cancelled one counted)
    zone = ZoneInfo(tenant_alpha.time_zone)  # the business's
    assert " ".join(cells[2]).endswith((NOW - timedelta(weeks=2)).astimezone(zone)
                                       .strftime("%-d %b %Y"))  # fmt: skip
    assert " ".join(cells[3]).endswith(people["ahead"].starts_at.astimezone(zone)
                                       .strftime("%a %-d %b %Y, %H:%M"))  # fmt: skip
    assert cells[4][-1] == "1"  # no-shows
    assert f'href="/customers/{chloe.pk}/"' in row
    assert "Total spent" not in page  # front desk never sees money


@pytest.mark.parametrize(("query", "expected"), [
    ("chlo", ["chloe"]), ("DAN@EXAMPLE", ["dan"]), ("+336112233", ["dan"]), ("évrard", ["eve"]),
    ("nobody", []),
])  # fmt: skip
def test_search_by_name_email_or_phone(people, tenant_alpha, query, expected):
    client = _client(tenant_alpha, Role.MANAGER)
    assert rows_of(client, {"q": query}) == [str(people[name].pk) for name in expected]


def test_other_sorts_and_a_bad_sort_falls_back_to_last_visit(people, tenant_alpha):
    client = _client(tenant_alpha, Role.OWNER)
    ids = {name: str(people[name].pk) for name in ("chloe", "dan", "eve")}
    assert rows_of(client, {"sort": "name"}) == [ids["chloe"], ids["dan"], ids["eve"]]
    assert rows_of(client, {"sort": "bookings"}) == [ids["chloe"], ids["dan"], ids["eve"]]
    assert rows_of(client, {"sort": "next_booking"})[0] == ids["chloe"]
    assert rows_of(client, {"sort": "'; drop"}) == rows_of(client)


def test_money_roles_with_their_second_factor_see_what_each_customer_spent(people, tenant_alpha):
    paid_booking(people["service"], people["chloe"])  # 45.00
    sold_pass(people["chloe"], paid_minor=9000, refunded=3000)  # 90.00 − 30.00
    membership_invoice(people["eve"], amount_minor=6000)
    for role in (Role.OWNER, Role.MANAGER):
        page = _client(tenant_alpha, role).get("/customers/").content.decode()
        assert "Total spent" in page
        chloe = page[page.index(f'<tr data-customer="{people["chloe"].pk}">') :].split("</tr>")[0]
        eve = page[page.index(f'<tr data-customer="{people["eve"].pk}">') :].split("</tr>")[0]
        assert "€105.00" in chloe and "€60.00" in eve
        detail = _client(tenant_alpha, role).get(f"/customers/{people['chloe'].pk}/")
        assert "€105.00" in detail.content.decode()
    # Without the second factor, a manager sees no money here either.
    unverified = _client(tenant_alpha, Role.MANAGER, verified=False)
    assert "€105.00" not in unverified.get("/customers/").content.decode()
    for role in (Role.FRONT_DESK, Role.STAFF):
        client = _client(tenant_alpha, role)
        assert "€105.00" not in client.get("/customers/").content.decode()


def test_the_customer_page_shows_bookings_credits_memberships_and_the_card_only_by_its_last4(
    people, tenant_alpha
):
    chloe = people["chloe"]
    credit_grant(customer=chloe, source_kind=CreditSourceKind.ADJUSTMENT, source_id="t",
                 credits=5, expires_at=NOW + timedelta(days=30), service_ids=[],
                 idempotency_key="customers-page-credits")  # fmt: skip
    membership_invoice(chloe)
    owner = CardCustomer.objects.create(customer=chloe, stripe_customer_id="cus_page_1")
    SavedCard.objects.create(owner=owner, payment_method_id="pm_secret_page_1", brand="visa",
                             last4="4242", exp_month=12, exp_year=2031)  # fmt: skip

    page = _client(tenant_alpha, Role.FRONT_DESK).get(f"/customers/{chloe.pk}/")

    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("<tr data-reference=") == 4
    assert people["ahead"].reference in text
    assert "5 credits left" in text and f'href="/credits/{chloe.pk}/"' in text
    assert "Unlimited #" in text and "Active" in text  # the membership
    assert "Visa •••• 4242" in text
    assert "pm_secret_page_1" not in text and "cus_page_1" not in text
    assert "€" not in text  # front desk: no amounts at all


def test_staff_see_only_the_customers_of_their_own_bookings(people, tenant_alpha):
    user = make_member(tenant_alpha, Role.STAFF)
    StaffMember.objects.filter(pk=people["ada"].pk).update(user=user)
    staff = _client(tenant_alpha, Role.STAFF, user=user)

    assert rows_of(staff) == [str(people["chloe"].pk)]  # Ada saw Chloé; Dan and Eve are not hers
    page = staff.get(f"/customers/{people['chloe'].pk}/").content.decode()
    assert page.count("<tr data-reference=") == 2  # only Ada's two bookings of Chloé
    assert people["ahead"].reference not in page  # Ben's
    assert staff.get(f"/customers/{people['dan'].pk}/").status_code == 404
    assert staff.get(f"/customers/{people['eve'].pk}/").status_code == 404
    # A staff member without a staff profile has no bookings, hence no customers.
    lone = _client(tenant_alpha, Role.STAFF)
    assert rows_of(lone) == []


@pytest.mark.parametrize("role", list(Role))
def test_every_role_opens_the_list(people, tenant_alpha, role):
    assert _client(tenant_alpha, role).get("/customers/").status_code == 200


def test_customers_of_one_business_never_show_in_another(people, tenant_alpha, tenant_beta):
    beta_owner = tenant_beta.memberships.get(role=Role.OWNER).user
    beta = member_client(tenant_beta, beta_owner, verified=True)
    page = beta.get("/customers/").content.decode()
    assert "Chloé Client" not in page and "chloe@example.test" not in page
    for name in ("chloe", "dan", "eve"):
        response = beta.get(f"/customers/{people[name].pk}/")
        assert response.status_code == 404 or people[name].email not in response.content.decode()
    # Signed in on beta's host with alpha's membership only: 404.
    alpha_manager = make_member(tenant_alpha, Role.MANAGER)
    assert member_client(tenant_beta, alpha_manager, verified=True).get(
        "/customers/").status_code == 404  # fmt: skip


def test_an_empty_list_says_what_it_will_show_and_links_to_the_action_that_fills_it(
    catalogue, tenant_alpha
):
    owner = _client(tenant_alpha, Role.OWNER).get("/customers/").content.decode()
    assert 'id="empty-customers"' in owner and 'href="/share/"' in owner
    desk = _client(tenant_alpha, Role.FRONT_DESK).get("/customers/").content.decode()
    assert 'id="empty-customers"' in desk and 'href="/bookings/new/"' in desk
    searched = _client(tenant_alpha, Role.OWNER).get("/customers/", {"q": "zzz"})
    assert "No customer matches" in searched.content.decode()


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_customers_or_bookings(catalogue, tenant_alpha):
    service = catalogue["service"]
    owner = _client(tenant_alpha, Role.OWNER)

    def add_customers(start: int, count: int):
        made = []
        for n in range(start, start + count):
            customer = customer_upsert(name=f"Customer {n}", email=f"c{n}@example.test")
            _booking(service, customer, weeks=-(n + 1), status=BookingStatus.COMPLETED)
            paid_booking(service, customer)
            sold_pass(customer)
            made.append(customer)
        return made

    [first] = add_customers(0, 1)
    few = (_queries(owner, "/customers/"), _queries(owner, f"/customers/{first.pk}/"))
    connection.set_tenant(tenant_alpha)
    add_customers(1, 12)
    for _ in range(6):
        _booking(service, first, weeks=-(60 + _), status=BookingStatus.NO_SHOW)
    many = (_queries(owner, "/customers/"), _queries(owner, f"/customers/{first.pk}/"))
    assert len(rows_of(owner)) == 13
    assert many == few


def test_the_list_is_paginated_and_counts_the_customers_of_the_search(people, tenant_alpha,
                                                                      monkeypatch):  # fmt: skip
    from scheduling.views import customers as views

    monkeypatch.setattr(views, "CUSTOMERS_PER_PAGE", 2)
    client = _client(tenant_alpha, Role.OWNER)
    first, second = rows_of(client), rows_of(client, {"page": 2})
    assert (len(first), len(second)) == (2, 1)
    assert first + second == [str(people[name].pk) for name in ("chloe", "dan", "eve")]
    assert "Page 1 of 2 (3 customers)" in client.get("/customers/").content.decode()
    # A staff member's list holds their own customers, sorted on their own bookings: Ben saw Dan
    # 5 weeks ago and has only Chloé's booking ahead (and her cancelled one), no visit of hers.
    user = make_member(tenant_alpha, Role.STAFF)
    StaffMember.objects.filter(pk=people["ben"].pk).update(user=user)
    assert rows_of(_client(tenant_alpha, Role.STAFF, user=user)) == [
        str(people["dan"].pk), str(people["chloe"].pk)
    ]  # fmt: skip
