"""The dashboard's live refresh, fragment and CSV downloads (the page itself is `dashboard`); the
Share page and the setup checklist's two actions."""

from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/live/", views.live, name="dashboard_live"),
    path("dashboard/fragment/", views.fragment, name="dashboard_fragment"),
    path("dashboard/<slug:key>.csv", views.chart_csv, name="dashboard_csv"),
    path("share/", views.share, name="share"),
    path("setup/checklist/", views.checklist_visibility, name="checklist_visibility"),
    path("setup/working-alone/", views.working_alone, name="checklist_working_alone"),
]
