"""Staff API for a business's own tools and integrations, under `/api/v1/staff/`.

Authenticated by an API key of the business (`Authorization: Bearer crn_live_…`, created on
/settings/api-keys/). Keys live in the tenant's schema, so a key only ever opens the host of its
own business: on any other host it is unknown (401). Errors share the public API's shape and
mapping (`scheduling.api.api_exception_handler`).
"""

from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlencode

from django.db import transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling.actors import Actor
from scheduling.api.public import (
    ApiError,
    _bookable_service,
    _check_staff,
    _validated,
    api_exception_handler,
    move_booking,
    session_of,
)
from scheduling.api.serializers import ErrorSerializer
from scheduling.api.staff_serializers import (
    StaffBookingCancelSerializer,
    StaffBookingCreateSerializer,
    StaffBookingPageSerializer,
    StaffBookingQuerySerializer,
    StaffBookingRescheduleSerializer,
    StaffBookingSerializer,
    StaffCancellationSerializer,
)
from scheduling.models import ApiKey, Booking, BookingSource, StaffMember
from scheduling.selectors.integrations import (
    active_api_key,
    booking_by_reference,
    staff_api_bookings,
)
from scheduling.services.bookings import (
    booking_cancel_with_refund,
    booking_confirm,
    booking_hold,
    booking_take_seat,
)
from scheduling.services.customers import customer_upsert
from scheduling.services.integrations import api_key_mark_used

STAFF_TAG = "staff"
SECURITY_SCHEME = "apiKey"


# ---------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiClient:
    """The caller of a staff API request: an integration holding one of the business's keys."""

    key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(label=f"API key {self.key.prefix}… ({self.key.name})"[:150])


class MissingApiKey(drf_exceptions.NotAuthenticated):
    default_detail = "Send an API key of this business as `Authorization: Bearer <key>`."


class InvalidApiKey(drf_exceptions.AuthenticationFailed):
    default_code = "invalid_api_key"
    default_detail = "This API key is not valid here (unknown, revoked or of another business)."


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`; any other scheme is not ours and is left alone."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise InvalidApiKey("Give exactly one key after `Bearer`.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidApiKey()
        key = active_api_key(secret)
        if key is None:
            raise InvalidApiKey()
        api_key_mark_used(key=key)
        return ApiClient(key=key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def api_client(request: Request) -> ApiClient:
    """The caller of a `StaffApiView` request: its only authenticator is `ApiKeyAuthentication`
    and `IsAuthenticated` turns away the rest, so `request.user` is an `ApiClient`."""
    client = request.user
    assert isinstance(client, ApiClient)
    return client


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = SECURITY_SCHEME

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "crn_live_…",
            "description": "An API key of the business, created on /settings/api-keys/.",
        }


def staff_api_exception_handler(exc: Exception, context: dict) -> Response | None:
    response = api_exception_handler(exc, context)
    auth_header = getattr(exc, "auth_header", None)
    if response is not None and auth_header:
        response["WWW-Authenticate"] = auth_header
    return response


class StaffApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self):
        return staff_api_exception_handler

    def permission_denied(self, request: Request, message=None, code=None) -> NoReturn:
        if not request.successful_authenticator:
            raise MissingApiKey()
        super().permission_denied(request, message=message, code=code)


AUTH_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="Missing, unknown or revoked API key"),
}
INPUT_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input or time"),
    **AUTH_ERRORS,
    404: OpenApiResponse(ErrorSerializer, description="Unknown service, staff or booking"),
}


def _staff_booking(reference: str) -> Booking:
    booking = booking_by_reference(reference)
    if booking is None:
        raise ApiError(code="not_found", message="No booking has this reference.",
                       http_status=404)  # fmt: skip
    return booking


def _page_url(request: Request, page: int) -> str:
    params = request.query_params.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{urlencode(list(params.lists()), True)}")


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------
class StaffBookingListView(StaffApiView):
    @extend_schema(
        tags=[STAFF_TAG],
        summary="Bookings of the business",
        operation_id="staff_bookings_list",
        parameters=[StaffBookingQuerySerializer],
        responses={200: StaffBookingPageSerializer, **INPUT_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = _validated(StaffBookingQuerySerializer, request.query_params)
        staff_id = query.get("staff")
        if staff_id is not None and not StaffMember.objects.filter(pk=staff_id).exists():
            raise ApiError(code="not_found", message="No staff member has this id.",
                           http_status=404, field="staff")  # fmt: skip
        bookings = staff_api_bookings(
            start_date=query.get("start"),
            end_date=query.get("end"),
            statuses=query.get("status"),
            staff_id=staff_id,
        )
        page, size = query["page"], query["page_size"]
        count = bookings.count()
        results = list(bookings[(page - 1) * size : page * size])
        payload = {
            "count": count,
            "page": page,
            "page_size": size,
            "next": _page_url(request, page + 1) if page * size < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "results": results,
        }
        return Response(StaffBookingPageSerializer(payload).data)

    @extend_schema(
        tags=[STAFF_TAG],
        summary="Book for a customer (confirmed at once)",
        operation_id="staff_bookings_create",
        description=(
            "Appointments: `service` + `start` (+ `staff`, else a free staff member). Group "
            "services: `service` + `occurrence`. The booking is held and confirmed in one "
            "transaction (source `api`); the same rules as online booking apply (opening hours, "
            "notice, horizon). Payment, if any, is the business's to collect."
        ),
        request=StaffBookingCreateSerializer,
        responses={
            201: StaffBookingSerializer,
            **INPUT_ERRORS,
            409: OpenApiResponse(
                ErrorSerializer,
                description="The time is taken (`slot_taken`) or the session full (`session_full`)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(StaffBookingCreateSerializer, request.data)
        service = _bookable_service(data["service"])
        occurrence = (
            session_of(
                service, data, missing="This is a group service: give the session (`occurrence`)."
            )
            if service.capacity > 1
            else None
        )
        if occurrence is None:
            if "occurrence" in data:
                raise ApiError(code="invalid", field="occurrence", message=(
                    "This service has no group sessions: book it with `start`."
                ))  # fmt: skip
            if "start" not in data:
                raise ApiError(code="missing", field="start", message="This field is required.")
            _check_staff(service, data.get("staff"))
        actor = api_client(request).actor
        # One transaction: a refused time leaves neither a booking nor a customer row behind.
        with transaction.atomic():
            customer = customer_upsert(
                name=data["customer"]["name"],
                email=data["customer"]["email"],
                phone=data["customer"]["phone"],
            )
            if occurrence is not None:
                booking = booking_take_seat(occurrence=occurrence, customer=customer,
                                            source=str(BookingSource.API), notes=data["notes"],
                                            actor=actor)  # fmt: skip
            else:
                booking = booking_hold(service=service, starts_at=data["start"],
                                       customer=customer, staff_id=data.get("staff"),
                                       source=str(BookingSource.API), notes=data["notes"],
                                       actor=actor)  # fmt: skip
            booking = booking_confirm(booking=booking, actor=actor,
                                      reason="Booked through the staff API")  # fmt: skip
        booking = _staff_booking(booking.reference)
        return Response(StaffBookingSerializer(booking).data, status=status.HTTP_201_CREATED)


class StaffBookingDetailView(StaffApiView):
    @extend_schema(
        tags=[STAFF_TAG],
        summary="One booking, by reference",
        operation_id="staff_bookings_retrieve",
        responses={200: StaffBookingSerializer, **AUTH_ERRORS, 404: INPUT_ERRORS[404]},
    )
    def get(self, request: Request, reference: str) -> Response:
        return Response(StaffBookingSerializer(_staff_booking(reference)).data)


class StaffBookingCancelView(StaffApiView):
    @extend_schema(
        tags=[STAFF_TAG],
        summary="Cancel a booking on behalf of the business",
        operation_id="staff_bookings_cancel",
        description=(
            "Cancelled by the business: the cancellation policy refunds in full whatever the "
            "notice, and what was paid online is refunded through Stripe. Cancelling twice "
            "answers the same way; a completed or no-show booking is `409 invalid_transition`."
        ),
        request=StaffBookingCancelSerializer,
        responses={
            200: StaffCancellationSerializer,
            **INPUT_ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="The booking cannot be cancelled"),
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        booking = _staff_booking(reference)
        data = _validated(StaffBookingCancelSerializer, request.data)
        # As the customer cancel: the policy applies to what was really paid, and the refund
        # goes through Stripe (a business cancelling refunds everything still refundable).
        decision = booking_cancel_with_refund(booking=booking, actor=api_client(request).actor,
                                              by_business=True, reason=data["reason"])  # fmt: skip
        payload = {
            "booking": _staff_booking(reference),
            "refund_percent": decision.percent,
            "refund_minor": decision.amount_minor,
            "refund_reason": str(decision.reason),
        }
        return Response(StaffCancellationSerializer(payload).data)


class StaffBookingRescheduleView(StaffApiView):
    @extend_schema(
        tags=[STAFF_TAG],
        summary="Move a booking to another time or session",
        operation_id="staff_bookings_reschedule",
        description=(
            "An appointment moves to `start` (optionally with `staff`) under the same rules as "
            "online booking; a seat in a class moves to another session of the class "
            "(`occurrence`), into any session that has not started. One step: a refused move "
            "leaves the booking as it was. The payment stays with the booking and the customer "
            "gets the \"booking moved\" email."
        ),
        request=StaffBookingRescheduleSerializer,
        responses={
            200: StaffBookingSerializer,
            **INPUT_ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="The time was just taken "
                                 "(`slot_taken`), the session is full (`session_full`) or the "
                                 "booking cannot move (`invalid_transition`)"),
        },
    )  # fmt: skip
    def post(self, request: Request, reference: str) -> Response:
        booking = _staff_booking(reference)
        data = _validated(StaffBookingRescheduleSerializer, request.data)
        move_booking(booking, data, actor=api_client(request).actor)
        return Response(StaffBookingSerializer(_staff_booking(reference)).data)
