"""The back office's customers: the list (search, sort, figures per customer) and a customer's
page (bookings, and the sections other apps add: credits, memberships, saved card).

Owners, managers and front desk see every customer; staff see the customers of their own
bookings only, with those bookings only (docs/roles.md: `view_own_calendar`). What a customer
spent is shown to roles with `view_money` who signed in with their second factor, as on the
money pages. Every figure of a page comes from a fixed number of queries, whatever its rows.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from common.money import Money, format_money
from scheduling import ports
from scheduling.selectors.availability import staff_for_user
from scheduling.selectors.customers import (
    SORTS,
    back_office_customer,
    back_office_customers,
    customer_bookings,
    customers_in_scope,
)
from scheduling.views import base
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission

CUSTOMERS_PER_PAGE = 50
NO_STAFF_PROFILE = -1  # a staff member without a staff profile has no bookings, so no customers


def _staff_scope(request: MemberRequest) -> int | None:
    """None: every customer; else the member's staff id (only their bookings' customers)."""
    if base.allows(request, Permission.VIEW_ALL_CUSTOMERS):
        return None
    own = staff_for_user(request.user.pk)
    return own.pk if own is not None else NO_STAFF_PROFILE


def _with_money(request: MemberRequest) -> bool:
    return base.allows(request, Permission.VIEW_MONEY) and request.user.is_verified()


def _spent_labels(totals: dict[str, int]) -> str:
    return ", ".join(
        format_money(Money(amount, currency)) for currency, amount in sorted(totals.items())
    )


@member_required(Permission.VIEW_OWN_CALENDAR)
def customer_list(request: MemberRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "last_visit")
    if sort not in SORTS:
        sort = "last_visit"
    staff_id = _staff_scope(request)
    customers = back_office_customers(now=base.now(), search=search, sort=sort, staff_id=staff_id)
    paginator = Paginator(customers, CUSTOMERS_PER_PAGE)
    # Counted without the figures (Paginator.count is a cached property: set it first).
    paginator.count = customers_in_scope(search=search, staff_id=staff_id).count()
    page = paginator.get_page(request.GET.get("page"))
    with_money = _with_money(request)
    spent = ports.customer_spent([c.pk for c in page.object_list]) if with_money else {}
    rows = [
        {"customer": customer, "spent": _spent_labels(spent.get(customer.pk, {}))}
        for customer in page.object_list
    ]
    return render(
        request,
        "scheduling/customers/customer_list.html",
        {
            "page": page,
            "rows": rows,
            "search": search,
            "sort": sort,
            "with_money": with_money,
            "zone": base.zone_of(request),
            "can_share": base.allows(request, Permission.MANAGE_CATALOGUE),
            "can_book": base.allows(request, Permission.MANAGE_BOOKINGS),
        },
    )


@member_required(Permission.VIEW_OWN_CALENDAR)
def customer_detail(request: MemberRequest, pk: int) -> HttpResponse:
    staff_id = _staff_scope(request)
    customer = back_office_customer(pk=pk, now=base.now(), staff_id=staff_id)
    if customer is None:
        raise Http404("No such customer.")
    with_money = _with_money(request)
    spent = ports.customer_spent([customer.pk]).get(customer.pk, {}) if with_money else {}
    role = request.membership.role
    return render(
        request,
        "scheduling/customers/customer_detail.html",
        {
            "customer": customer,
            "bookings": customer_bookings(customer=customer, staff_id=staff_id),
            "sections": ports.customer_sections(customer, role),
            "with_money": with_money,
            "spent": _spent_labels(spent),
            "zone": base.zone_of(request),
            "can_book": base.allows(request, Permission.MANAGE_BOOKINGS),
        },
    )
