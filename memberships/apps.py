from django.apps import AppConfig


class MembershipsConfig(AppConfig):
    name = "memberships"
    verbose_name = "Passes, memberships and credits"

    def ready(self) -> None:
        from scheduling import ports

        from .booking_port import MembershipCredits, credit_on_booking_transition

        # Scheduling asks for credits through its port and tells us every booking transition.
        ports.register_credits(MembershipCredits())
        ports.register_booking_transition(credit_on_booking_transition)

        from .webhooks import register_handlers as register_membership_webhooks

        # Members' subscriptions and invoices (the event types platform billing also handles).
        register_membership_webhooks()
