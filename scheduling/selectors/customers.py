"""Reads of the back office's customers pages: the list (search, sort, per-customer figures in
one query) and one customer's bookings, limited to a staff member's own bookings when given."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.db.models.expressions import OrderBy

from scheduling.models import Booking, BookingStatus, Customer

# A visit is a booking that took place (or should have: a no-show is counted apart).
VISITED = (BookingStatus.COMPLETED, BookingStatus.CONFIRMED)
UPCOMING = (BookingStatus.HELD, BookingStatus.CONFIRMED)
COUNTED = (
    BookingStatus.HELD,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
)
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "last_visit": (F("last_visit").desc(nulls_last=True), "name", "pk"),
    "next_booking": (F("next_booking").asc(nulls_last=True), "name", "pk"),
    "bookings": ("-booking_count", "name", "pk"),
    "name": ("name", "pk"),
}


def customers_in_scope(*, search: str = "", staff_id: int | None = None) -> QuerySet[Customer]:
    """The customers a list shows, without figures: what its pages count (counting the
    annotated list would join and group every booking once more)."""
    customers = Customer.objects.all()
    if staff_id is not None:
        customers = customers.filter(
            pk__in=Booking.objects.filter(staff_id=staff_id).values("customer_id")
        )
    search = search.strip()
    if search:
        customers = customers.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(phone__icontains=search)
        )
    return customers


def back_office_customers(
    *, now: datetime, search: str = "", sort: str = "last_visit", staff_id: int | None = None
) -> QuerySet[Customer]:
    """Customers with their number of bookings, last visit, next booking and no-shows, one query
    for a page; `staff_id`: only customers of that staff member's bookings, counted on them."""
    mine = Q() if staff_id is None else Q(bookings__staff_id=staff_id)
    customers = customers_in_scope(search=search, staff_id=staff_id).annotate(
        booking_count=Count("bookings", filter=mine & Q(bookings__status__in=COUNTED)),
        no_shows=Count("bookings", filter=mine & Q(bookings__status=BookingStatus.NO_SHOW)),
        last_visit=Max(
            "bookings__starts_at",
            filter=mine & Q(bookings__status__in=VISITED, bookings__starts_at__lte=now),
        ),
        next_booking=Min(
            "bookings__starts_at",
            filter=mine & Q(bookings__status__in=UPCOMING, bookings__starts_at__gt=now),
        ),
    )
    return customers.order_by(*SORTS.get(sort, SORTS["last_visit"]))


def back_office_customer(*, pk: int, now: datetime, staff_id: int | None = None) -> Customer | None:
    """One customer with the list's figures (None: unknown, or not one of `staff_id`'s)."""
    return back_office_customers(now=now, staff_id=staff_id).filter(pk=pk).first()


def customer_bookings(
    *, customer: Customer, staff_id: int | None = None, limit: int = 100
) -> list[Booking]:
    """The customer's bookings, latest first (expired holds left out)."""
    bookings = (
        Booking.objects.filter(customer=customer)
        .exclude(status=BookingStatus.EXPIRED)
        .select_related("service", "staff")
        .order_by("-starts_at", "-pk")
    )
    if staff_id is not None:
        bookings = bookings.filter(staff_id=staff_id)
    return list(bookings[:limit])
