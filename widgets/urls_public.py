"""Platform-host routes of the widget (the loader script `widget.js`)."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("widget.js", public_views.widget_js, name="widget_js"),
]
