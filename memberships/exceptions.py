"""Memberships' domain errors; messages are safe to show to a customer or a team member."""

from collections.abc import Callable
from typing import cast

from django.utils.translation import gettext_lazy

from scheduling.exceptions import BookingError, CreditUnavailable, InvalidTransition

# `gettext_lazy` typed as giving a `str` (the exceptions and ports take `str`): a message is
# translated when it is shown (`str(error)`), in the language of the page that shows it.
lazy_text = cast(Callable[[str], str], gettext_lazy)
_ = lazy_text

__all__ = ["CreditCapReached", "CreditRefused", "CreditUnavailable", "PassNotAvailable"]


class CreditRefused(BookingError):
    """A ledger change that would break its rules (a negative balance, an unlimited grant)."""

    code = "credit_refused"
    http_status = 400
    default_message = _("This change to the credits is not possible.")


class PassNotAvailable(BookingError):
    """The pass cannot be bought by this customer (not on sale, limit reached, new customers)."""

    code = "pass_not_available"
    http_status = 409
    default_message = _("This pass cannot be bought.")


class CreditCapReached(InvalidTransition):
    """A credit booking moved into a day or week its grant's cap already fills (the move is
    refused and rolled back; the booking stays where it was)."""

    code = "credit_cap_reached"
    http_status = 409
    default_message = _("Your credits allow no more bookings on that day or week.")
