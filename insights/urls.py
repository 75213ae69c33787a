"""Pages of the landing page's helpers: the Share page, the checklist's two actions."""

from django.urls import path

from . import views

urlpatterns = [
    path("share/", views.share, name="share"),
    path("setup/checklist/", views.checklist_visibility, name="checklist_visibility"),
    path("setup/working-alone/", views.working_alone, name="checklist_working_alone"),
]
