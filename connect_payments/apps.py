from django.apps import AppConfig


class ConnectPaymentsConfig(AppConfig):
    name = "connect_payments"
    verbose_name = "Payments through Stripe Connect"

    def ready(self) -> None:
        from scheduling import ports

        from . import tasks  # noqa: F401  (registers the tasks the inbox queues by name)
        from .account_section import saved_cards_account_section
        from .booking_port import ConnectPayments
        from .customer_section import saved_cards_customer_section
        from .money_rows import register_payment_rows, spent_by_customer
        from .money_rows.bookings import BookingPaymentRows, FeeChargeRows
        from .services.card_fees import fee_on_booking_transition
        from .webhooks.handlers import register_handlers

        # Scheduling asks for money through its port; Stripe events reach our handlers.
        ports.register_payments(ConnectPayments())
        register_handlers()
        # A no-show or a late cancellation of a booking with a card on file owes its fee.
        ports.register_booking_transition(fee_on_booking_transition)
        # The customer's account page lists their saved cards (and removes them).
        ports.register_account_section(saved_cards_account_section)
        # The payments list: booking payments and fees (memberships adds passes and invoices).
        register_payment_rows(BookingPaymentRows())
        register_payment_rows(FeeChargeRows())
        # The back office's customers: what each spent (those rows, summed), their saved card.
        ports.register_customer_spent(spent_by_customer)
        ports.register_customer_section(saved_cards_customer_section)
