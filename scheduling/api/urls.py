"""Routes of the public booking API, mounted at `/api/v1/` of a business's host."""

from django.urls import path

from scheduling.api import ics, public, staff

app_name = "scheduling_api"

urlpatterns = [
    path("services/", public.ServiceListView.as_view(), name="services"),
    path("availability/", public.AvailabilityView.as_view(), name="availability"),
    path("bookings/", public.BookingCreateView.as_view(), name="booking_create"),
    path("bookings/<str:reference>/", public.BookingDetailView.as_view(), name="booking_detail"),
    path(
        "bookings/<str:reference>/cancel/",
        public.BookingCancelView.as_view(),
        name="booking_cancel",
    ),
    path(
        "bookings/<str:reference>/reschedule/",
        public.BookingRescheduleView.as_view(),
        name="booking_reschedule",
    ),
    path(
        "bookings/<str:reference>/calendar.ics",
        ics.BookingCalendarView.as_view(),
        name="booking_calendar",
    ),
    path("feeds/staff/<str:token>.ics", ics.StaffFeedView.as_view(), name="staff_feed"),
    # Staff API (API key): scheduling.api.staff
    path("staff/bookings/", staff.StaffBookingListView.as_view(), name="staff_bookings"),
    path(
        "staff/bookings/<str:reference>/",
        staff.StaffBookingDetailView.as_view(),
        name="staff_booking_detail",
    ),
    path(
        "staff/bookings/<str:reference>/cancel/",
        staff.StaffBookingCancelView.as_view(),
        name="staff_booking_cancel",
    ),
    path(
        "staff/bookings/<str:reference>/reschedule/",
        staff.StaffBookingRescheduleView.as_view(),
        name="staff_booking_reschedule",
    ),
]
