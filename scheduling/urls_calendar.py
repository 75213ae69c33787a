"""Back-office pages of bookings: calendar, booking list and booking actions."""

from django.urls import path

from tenants.roles import Permission
from tenants.views import section_page

urlpatterns = [
    path(
        "calendar/",
        section_page(Permission.VIEW_OWN_CALENDAR, "Calendar", "Your bookings will appear here."),
        name="calendar",
    ),
    path(
        "bookings/",
        section_page(
            Permission.VIEW_ALL_BOOKINGS,
            "Bookings",
            "Every booking of the business will appear here.",
        ),
        name="bookings",
    ),
]
