"""Back-office waitlist pages on a business's host (the customer's pages are the widget's)."""

from django.urls import path

from . import views

urlpatterns = [
    path("waitlists/", views.waitlist_page, name="waitlists"),
    path("waitlists/settings/", views.settings_page, name="waitlist_settings"),
    path("waitlists/<int:pk>/move/", views.entry_move_view, name="waitlist_entry_move"),
    path("waitlists/<int:pk>/remove/", views.entry_remove_view, name="waitlist_entry_remove"),
    path("waitlists/<int:pk>/offer/", views.offer_by_hand_view, name="waitlist_offer_by_hand"),
]
