"""Routes of the public booking API, mounted at `/api/v1/` of a business's host."""

from django.urls import path

from . import api, api_calendar, staff_api

app_name = "scheduling_api"

urlpatterns = [
    path("services/", api.ServiceListView.as_view(), name="services"),
    path("availability/", api.AvailabilityView.as_view(), name="availability"),
    path("bookings/", api.BookingCreateView.as_view(), name="booking_create"),
    path("bookings/<str:reference>/", api.BookingDetailView.as_view(), name="booking_detail"),
    path(
        "bookings/<str:reference>/cancel/", api.BookingCancelView.as_view(), name="booking_cancel"
    ),
    path(
        "bookings/<str:reference>/reschedule/",
        api.BookingRescheduleView.as_view(),
        name="booking_reschedule",
    ),
    path(
        "bookings/<str:reference>/calendar.ics",
        api_calendar.BookingCalendarView.as_view(),
        name="booking_calendar",
    ),
    path("feeds/staff/<str:token>.ics", api_calendar.StaffFeedView.as_view(), name="staff_feed"),
    # Staff API (API key): scheduling.staff_api
    path("staff/bookings/", staff_api.StaffBookingListView.as_view(), name="staff_bookings"),
    path(
        "staff/bookings/<str:reference>/",
        staff_api.StaffBookingDetailView.as_view(),
        name="staff_booking_detail",
    ),
    path(
        "staff/bookings/<str:reference>/cancel/",
        staff_api.StaffBookingCancelView.as_view(),
        name="staff_booking_cancel",
    ),
    path(
        "staff/bookings/<str:reference>/reschedule/",
        staff_api.StaffBookingRescheduleView.as_view(),
        name="staff_booking_reschedule",
    ),
]
