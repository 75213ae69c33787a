"""Memberships' domain errors; messages are safe to show to a customer or a team member."""

from scheduling.exceptions import BookingError, CreditUnavailable

__all__ = ["CreditRefused", "CreditUnavailable", "PassNotAvailable"]


class CreditRefused(BookingError):
    """A ledger change that would break its rules (a negative balance, an unlimited grant)."""

    code = "credit_refused"
    http_status = 400
    default_message = "This change to the credits is not possible."


class PassNotAvailable(BookingError):
    """The pass cannot be bought by this customer (not on sale, limit reached, new customers)."""

    code = "pass_not_available"
    http_status = 409
    default_message = "This pass cannot be bought."
