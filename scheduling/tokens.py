"""The one booking-by-token check, for every page and API that acts on a customer's booking.

The customer's links carry the booking's reference and its secret manage token. An unknown
reference, a missing or non-string token and a wrong token all look the same (None), and the
comparison takes constant time. Each edge turns None into its own answer (a 404 API error, a 404
page).
"""

from __future__ import annotations

import secrets

from scheduling.models import Booking


def booking_by_token(
    reference: object, token: object, *, related: tuple[str, ...] = ("service", "staff", "customer")
) -> Booking | None:
    if not isinstance(reference, str) or not reference or not isinstance(token, str) or not token:
        return None
    booking = Booking.objects.select_related(*related).filter(reference=reference).first()
    if booking is None or not secrets.compare_digest(booking.manage_token.encode(), token.encode()):
        return None
    return booking
