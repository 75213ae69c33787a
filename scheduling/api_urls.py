"""Routes of the public booking API, mounted at `/api/v1/` of a business's host."""

from django.urls import path

from . import api

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
]
