"""Errors of payments. The BookingError ones are mapped to HTTP responses by scheduling.api.

`PaymentProviderUnavailable` (Stripe could not be reached) is the gateway's:
`connect_payments.gateway`.
"""

from __future__ import annotations

from scheduling.exceptions import BookingError


class PaymentsUnavailable(BookingError):
    code = "payments_unavailable"
    http_status = 409
    default_message = (
        "This business cannot take online payments yet, so this service cannot be booked "
        "online. Please contact the business to book it."
    )


class PaymentNotPossible(BookingError):
    code = "payment_not_possible"
    http_status = 409
    default_message = "This booking cannot be paid any more."


class PromoCodeInvalid(BookingError):
    code = "promo_code_invalid"
    http_status = 400
    default_message = "This promo code is not valid."


class RefundRefused(BookingError):
    code = "refund_refused"
    http_status = 400
    default_message = "This refund is not possible."


class InvalidWebhook(Exception):
    """A webhook that fails signature verification or is not a Stripe event."""
