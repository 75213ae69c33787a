"""The dashboard's live refresh, fragment and CSV downloads (the page itself is `dashboard`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/live/", views.live, name="dashboard_live"),
    path("dashboard/fragment/", views.fragment, name="dashboard_fragment"),
    path("dashboard/<slug:key>.csv", views.chart_csv, name="dashboard_csv"),
]
