"""Platform-host routes of the widget (the loader script `widget.js`)."""

urlpatterns: list = []
