"""Back-office pages of the catalogue: services, staff, resources, hours, group sessions."""

from django.urls import path

from scheduling.views import catalogue as views

urlpatterns = [
    path("services/", views.service_list, name="catalogue_services"),
    path("services/new/", views.service_create, name="catalogue_service_create"),
    path("services/<int:pk>/", views.service_edit, name="catalogue_service_edit"),
    path("services/<int:pk>/delete/", views.service_delete, name="catalogue_service_delete"),
    path("staff/", views.staff_list, name="catalogue_staff"),
    path("staff/new/", views.staff_create, name="catalogue_staff_create"),
    path("staff/<int:pk>/", views.staff_edit, name="catalogue_staff_edit"),
    path("staff/<int:pk>/hours/", views.staff_hours, name="catalogue_staff_hours"),
    path("staff/<int:pk>/dates/", views.staff_overrides, name="catalogue_staff_overrides"),
    path(
        "staff/<int:pk>/dates/<int:override_pk>/delete/",
        views.staff_override_delete,
        name="catalogue_staff_override_delete",
    ),
    path("staff/<int:pk>/time-off/", views.staff_time_off, name="catalogue_staff_time_off"),
    path(
        "staff/<int:pk>/time-off/<int:time_off_pk>/delete/",
        views.staff_time_off_delete,
        name="catalogue_staff_time_off_delete",
    ),
    path("holidays/", views.holiday_list, name="catalogue_holidays"),
    path("holidays/<int:pk>/delete/", views.holiday_delete, name="catalogue_holiday_delete"),
    path("resources/", views.resource_list, name="catalogue_resources"),
    path("resources/new/", views.resource_create, name="catalogue_resource_create"),
    path("resources/<int:pk>/", views.resource_edit, name="catalogue_resource_edit"),
    path("resources/<int:pk>/delete/", views.resource_delete, name="catalogue_resource_delete"),
    path("group-sessions/", views.group_sessions, name="catalogue_group_sessions"),
    path(
        "group-sessions/<int:pk>/cancel/",
        views.occurrence_cancel,
        name="catalogue_occurrence_cancel",
    ),
    path(
        "group-sessions/<int:pk>/capacity/",
        views.occurrence_capacity,
        name="catalogue_occurrence_capacity",
    ),
    path("booking-settings/", views.booking_settings, name="catalogue_booking_settings"),
    path("booking-settings/time-zone/", views.business_time_zone, name="catalogue_time_zone"),
]
