"""Tenant-host routes of the widget: hosted booking page, manage page, embed and branding."""

from django.urls import path

from .. import api
from ..views import branding, pages, waitlist

urlpatterns = [
    path("book/", pages.book_page, name="book"),
    path("book/<int:service_id>/", pages.book_page, name="book_service"),
    path("book/waitlist/<int:service_id>/", waitlist.join_page, name="waitlist_join"),
    path("book/waitlist/offer/<int:offer_id>/", waitlist.offer_page, name="waitlist_offer"),
    path("book/waitlist/leave/<int:entry_id>/", waitlist.leave_page, name="waitlist_leave"),
    path("manage/<str:reference>/", pages.manage_page, name="manage_booking"),
    path("widget/days/", api.DaysView.as_view(), name="widget_days"),
    path("widget/theme.css", pages.theme_css, name="widget_theme"),
    path("widget/logo/<str:version>/", pages.logo, name="widget_logo"),
    path(
        "widget/bookings/<str:reference>/confirm/",
        api.BookingConfirmView.as_view(),
        name="widget_booking_confirm",
    ),
    path(
        "widget/bookings/<str:reference>/",
        api.BookingPolicyView.as_view(),
        name="widget_booking",
    ),
    path("branding/", branding.branding_page, name="branding"),
    path("embed/", branding.embed_page, name="embed"),
]
