"""Back-office pages of bookings: calendar, booking list and booking actions."""

from django.urls import path

from scheduling.views import bookings, calendar

urlpatterns = [
    path("calendar/", calendar.calendar, name="calendar"),
    path("bookings/", bookings.booking_list, name="bookings"),
    path("bookings/new/", bookings.booking_new, name="booking_new"),
    path("bookings/<str:reference>/", bookings.booking_detail, name="booking_detail"),
    path(
        "bookings/<str:reference>/confirm/",
        bookings.booking_transition,
        {"action": "confirm"},
        name="booking_confirm",
    ),
    path(
        "bookings/<str:reference>/complete/",
        bookings.booking_transition,
        {"action": "complete"},
        name="booking_complete",
    ),
    path(
        "bookings/<str:reference>/no-show/",
        bookings.booking_transition,
        {"action": "no_show"},
        name="booking_no_show",
    ),
    path("bookings/<str:reference>/cancel/", bookings.booking_cancel, name="booking_cancel"),
    path("bookings/<str:reference>/move/", bookings.booking_move, name="booking_move"),
]
