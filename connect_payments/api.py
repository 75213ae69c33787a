"""Customer endpoint of payments on a business's host: (re)start the payment of a held booking.

`POST /api/v1/bookings/<reference>/payment/` with `{"token": <manage token>}` returns the same
`payment` object as the hold; it creates the PaymentIntent if a Stripe failure prevented it, with
the same idempotency key, so retries never create a second one.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from scheduling.api.public import ERRORS, ApiError, PublicApiView, booking_for_token
from scheduling.api.serializers import (
    BookingTokenSerializer,
    ErrorSerializer,
    HoldPaymentSerializer,
)

from .gateway import PaymentProviderUnavailable
from .selectors import payment_for_new_booking
from .services.booking_payments import booking_payment_retry


class BookingPaymentView(PublicApiView):
    throttle_scope = "token"

    @extend_schema(
        tags=["booking"],
        summary="Start (or retry) the online payment of a held booking",
        request=BookingTokenSerializer,
        responses={
            200: HoldPaymentSerializer,
            404: ERRORS[404],
            409: OpenApiResponse(ErrorSerializer, description="The booking is no longer held"),
            502: OpenApiResponse(ErrorSerializer, description="Stripe is unavailable"),
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        token = request.data.get("token") if hasattr(request.data, "get") else None
        booking = booking_for_token(reference, token, related=("service", "customer"))
        try:
            payment = booking_payment_retry(booking=booking)
        except PaymentProviderUnavailable as error:
            raise ApiError(
                code=PaymentProviderUnavailable.code, message=str(error), http_status=502
            ) from error
        return Response(payment_for_new_booking(payment))
