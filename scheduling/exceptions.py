"""Booking domain errors; `scheduling.api` maps them to HTTP responses in one place."""


class BookingError(Exception):
    """Base class. The message is safe to show to a customer."""

    code = "booking_error"
    http_status = 400

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    default_message = "This booking cannot be made."


class SlotTaken(BookingError):
    code = "slot_taken"
    http_status = 409
    default_message = "This time was just taken. Please pick another time."


class SessionFull(BookingError):
    code = "session_full"
    http_status = 409
    default_message = "This session is full."


class InvalidTransition(BookingError):
    code = "invalid_transition"
    http_status = 409
    default_message = "This booking can no longer be changed that way."


class InvalidCustomer(BookingError):
    code = "invalid_customer"
    default_message = "Please check your contact details."


class CreditUnavailable(BookingError):
    """The customer asked to book with a credit and has none usable for this booking (raised by
    the credits port inside the hold, so the hold is rolled back with it)."""

    code = "credit_unavailable"
    http_status = 409
    default_message = "You have no credit left that covers this booking."
