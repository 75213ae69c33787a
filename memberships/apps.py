from django.apps import AppConfig


class MembershipsConfig(AppConfig):
    name = "memberships"
    verbose_name = "Passes, memberships and credits"

    def ready(self) -> None:
        from scheduling import ports

        from . import tasks  # noqa: F401  (registers the tasks the outbox queues by name)
        from .account_section import credits_account_section
        from .back_office import register_back_office
        from .booking_port import MembershipCredits, credit_on_booking_transition
        from .pricing import MembershipPricing
        from .selectors.memberships import memberships_account_section
        from .webhooks import memberships as membership_webhooks
        from .webhooks import passes as pass_webhooks

        # Scheduling asks for credits through its port and tells us every booking transition;
        # the customer's account page shows our section; pass payments' Stripe events.
        ports.register_credits(MembershipCredits())
        ports.register_pricing(MembershipPricing())  # member prices on services not covered
        ports.register_booking_transition(credit_on_booking_transition)
        ports.register_account_section(credits_account_section)
        ports.register_account_section(memberships_account_section)
        pass_webhooks.register_handlers()
        # Members' subscriptions and invoices (the event types platform billing also handles).
        membership_webhooks.register_handlers()
        # Passes and invoices on the payments list; credits and memberships on the customer page.
        register_back_office()
