"""Back-office pages of integrations: calendar feed subscriptions and API keys."""

from django.urls import path

from scheduling.views import integrations as views

urlpatterns = [
    path("calendar/subscribe/", views.calendar_subscribe, name="calendar_subscribe"),
    path(
        "calendar/subscribe/<int:staff_id>/reset/",
        views.calendar_feed_reset,
        name="calendar_feed_reset",
    ),
    path("settings/api-keys/", views.api_keys_page, name="api_keys"),
    path(
        "settings/api-keys/<int:key_id>/revoke/", views.api_key_revoke_page, name="api_key_revoke"
    ),
]
