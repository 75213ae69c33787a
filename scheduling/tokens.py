"""The one booking-by-token check, for every page and API that acts on a customer's booking.

The customer's links carry the booking's reference and its secret manage token (derived from a
per-booking random value and SECRET_KEY, never stored: common/link_tokens.py). An unknown
reference, a missing or non-string token and a wrong token all look the same (None), and the
comparison takes constant time. Each edge turns None into its own answer (a 404 API error, a 404
page).
"""

from __future__ import annotations

from common.link_tokens import legacy_matches, link_token_matches
from scheduling.models import MANAGE_TOKEN_PURPOSE, Booking


def booking_by_token(
    reference: object, token: object, *, related: tuple[str, ...] = ("service", "staff", "customer")
) -> Booking | None:
    if not isinstance(reference, str) or not reference or not isinstance(token, str) or not token:
        return None
    booking = Booking.objects.select_related(*related).filter(reference=reference).first()
    if booking is None:
        return None
    if link_token_matches(token, MANAGE_TOKEN_PURPOSE, booking.reference, booking.manage_secret):
        return booking
    # A link sent before tokens were derived (its hash was kept by migration 0005).
    return booking if legacy_matches(token, booking.manage_token_legacy_hash) else None
