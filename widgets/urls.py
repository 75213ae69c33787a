"""Tenant-host routes of the widget: hosted booking page, manage page, embed and branding."""

from django.urls import path

from . import views

urlpatterns = [
    path("book/", views.book_page, name="book"),
    path("book/<int:service_id>/", views.book_page, name="book_service"),
    path("manage/<str:reference>/", views.manage_page, name="manage_booking"),
    path("widget/days/", views.DaysView.as_view(), name="widget_days"),
    path("widget/theme.css", views.theme_css, name="widget_theme"),
    path("widget/logo/<str:version>/", views.logo, name="widget_logo"),
    path(
        "widget/bookings/<str:reference>/confirm/",
        views.BookingConfirmView.as_view(),
        name="widget_booking_confirm",
    ),
    path(
        "widget/bookings/<str:reference>/",
        views.BookingPolicyView.as_view(),
        name="widget_booking",
    ),
    path("branding/", views.branding_page, name="branding"),
    path("embed/", views.embed_page, name="embed"),
]
