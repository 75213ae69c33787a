"""Back-office pages of bookings: calendar, booking list and booking actions."""

from django.urls import path

from scheduling.views import calendar as views

urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("bookings/", views.booking_list, name="bookings"),
    path("bookings/new/", views.booking_new, name="booking_new"),
    path("bookings/<str:reference>/", views.booking_detail, name="booking_detail"),
    path(
        "bookings/<str:reference>/confirm/",
        views.booking_transition,
        {"action": "confirm"},
        name="booking_confirm",
    ),
    path(
        "bookings/<str:reference>/complete/",
        views.booking_transition,
        {"action": "complete"},
        name="booking_complete",
    ),
    path(
        "bookings/<str:reference>/no-show/",
        views.booking_transition,
        {"action": "no_show"},
        name="booking_no_show",
    ),
    path("bookings/<str:reference>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<str:reference>/move/", views.booking_move, name="booking_move"),
]
