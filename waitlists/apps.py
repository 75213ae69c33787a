from django.apps import AppConfig


class WaitlistsConfig(AppConfig):
    name = "waitlists"
    verbose_name = "Waitlists"

    def ready(self) -> None:
        from scheduling import ports

        from . import tasks  # noqa: F401  (registers the tasks the outbox hands by name)
        from .payment import register_saved_card_charger
        from .saved_cards import ConnectSavedCards
        from .services.hours import places_on_availability_added
        from .services.offers import place_on_booking_transition

        ports.register_booking_transition(place_on_booking_transition)
        ports.register_availability_added(places_on_availability_added)
        register_saved_card_charger(ConnectSavedCards())
