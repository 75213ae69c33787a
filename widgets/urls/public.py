"""Platform-host routes of the widget (the loader script `widget.js`)."""

from django.urls import path

from ..views import loader

urlpatterns = [
    path("widget.js", loader.widget_js, name="widget_js"),
]
