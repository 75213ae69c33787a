"""Public booking API of a business's host: services, availability, holds, self-service changes.

No authentication: a booking is reached with its reference plus its secret manage token. Domain
errors (`BookingError`, `SlotError`) and input errors become HTTP responses in one place,
`api_exception_handler`, always shaped `{"error": {"code", "message", "field"?}}`.
"""

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from scheduling import ports, slots
from scheduling.actors import CUSTOMER, Actor
from scheduling.api.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    BookingCancelSerializer,
    BookingCreatedSerializer,
    BookingCreateSerializer,
    BookingHeldSerializer,
    BookingRescheduleSerializer,
    BookingSerializer,
    BookingWithPaymentSerializer,
    CancellationSerializer,
    ErrorSerializer,
    ServiceSerializer,
)
from scheduling.api.throttling import THROTTLED_MESSAGE, PublicApiThrottle, RateLimited
from scheduling.exceptions import BookingError
from scheduling.models import Booking, Customer, Occurrence, Service, StaffMember
from scheduling.selectors.availability import available_slots, bookable_sessions, tenant_time_zone
from scheduling.services.bookings import (
    booking_cancel_with_refund,
    booking_hold,
    booking_move_seat,
    booking_reschedule,
    booking_take_seat,
)
from scheduling.services.customer_sign_in import signed_in_customer
from scheduling.services.customers import customer_upsert
from scheduling.tokens import booking_by_token

logger = logging.getLogger(__name__)

API_TAG = "booking"


class ApiError(Exception):
    """An input problem found by a view (unknown id, unusable request), already user-facing."""

    def __init__(self, *, code: str, message: str, http_status: int = 400,
                 field: str | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.field = field


def error_response(*, code: str, message: str, http_status: int,
                   field: str | None = None) -> Response:  # fmt: skip
    body: dict = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return Response({"error": body}, status=http_status)


def _first_validation_error(detail: object, path: str = "") -> tuple[str | None, str, str]:
    """(field path, message, code) of the first error in a DRF error tree."""
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        name = "" if key in ("non_field_errors", "detail") else str(key)
        return _first_validation_error(value, ".".join(part for part in (path, name) if part))
    if isinstance(detail, list) and detail:
        return _first_validation_error(detail[0], path)
    code = getattr(detail, "code", None) or "invalid"
    return path or None, str(detail), code


# Customer-facing error texts, by code, that are answered in the request's language (chosen by
# LocaleMiddleware from Accept-Language; French in locale/fr). The services raise them in English
# (slots.py stays free of Django), and several codes carry more than one text (each promo code
# reason, each unknown thing), so a text is translated only when it is one of its code's known
# texts; anything else is answered as raised, in English.
API_ERROR_MESSAGES: dict[str, tuple[str, ...]] = {
    "slot_taken": (
        gettext_noop("This time was just taken. Please pick another time."),
        gettext_noop("No room is free at this time. Please pick another time."),
        gettext_noop("This time is no longer available."),
        gettext_noop("This staff member does not offer this service."),
        gettext_noop("This service is not available for booking."),
    ),
    "session_full": (
        gettext_noop("This session is full."),
        gettext_noop("This session was cancelled."),
    ),
    "session_cancelled": (gettext_noop("This session was cancelled."),),
    "slot_in_past": (
        gettext_noop("This time is in the past."),
        gettext_noop("This session has already started."),
    ),
    "slot_too_soon": (gettext_noop("This time is too soon to be booked online."),),
    "slot_too_far_ahead": (gettext_noop("This time is too far ahead to be booked yet."),),
    "outside_working_hours": (gettext_noop("This time is outside opening hours."),),
    "slot_not_on_grid": (gettext_noop("This start time is not one of the offered times."),),
    "invalid_transition": (
        gettext_noop("This booking can no longer be changed that way."),
        gettext_noop("Only an active appointment can be moved."),
        gettext_noop("This booking can no longer be moved."),
        gettext_noop("Only an active seat in a session can be moved to another one."),
        gettext_noop("A seat can only move to another session of the same class."),
        gettext_noop("The booking is already in this session."),
    ),
    "invalid_customer": (
        gettext_noop("Please check your contact details."),
        gettext_noop("A name and a valid email address are required."),
        gettext_noop("This phone number is not valid."),
    ),
    "payments_unavailable": (
        gettext_noop(
            "This business cannot take online payments yet, so this service cannot be booked "
            "online. Please contact the business to book it."
        ),
    ),
    "payment_not_possible": (
        gettext_noop("This booking cannot be paid any more."),
        gettext_noop("This booking is no longer waiting for payment."),
        gettext_noop("This booking is already paid."),
        gettext_noop("This booking has nothing to pay online."),
    ),
    "promo_code_invalid": (
        gettext_noop("This promo code is not valid."),
        gettext_noop("Promo codes apply to services paid online."),
        gettext_noop("This promo code does not exist."),
        gettext_noop("This promo code is not valid yet."),
        gettext_noop("This promo code has expired."),
        gettext_noop("This promo code does not apply to this service."),
        gettext_noop("This promo code has been used up."),
        gettext_noop("You have already used this promo code."),
        gettext_noop("This promo code cannot be used for this service."),
    ),
    "hold_expired": (gettext_noop("The time reserved for you ran out. Please pick a time again."),),
    "payment_required": (gettext_noop("This booking is confirmed once it is paid."),),
    "missing": (
        gettext_noop("This field is required."),
        gettext_noop(
            "This is a seat in a group session: choose the session to move to "
            "(`occurrence_id` from availability)."
        ),
    ),
    "not_found": (
        gettext_noop("Not found."),
        gettext_noop("This service does not exist."),
        gettext_noop("This staff member does not offer this service."),
        gettext_noop("This session does not exist."),
        gettext_noop("No booking matches this reference and token."),
    ),
    # Rate limits of the public endpoints (scheduling/throttling.py); the wait is in Retry-After.
    "throttled": (THROTTLED_MESSAGE,),
}


def api_error_message(code: str, message: str) -> str:
    """`message` in the active language when it is one of `code`'s known texts, else unchanged."""
    return gettext(message) if message in API_ERROR_MESSAGES.get(code, ()) else message


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """The one mapping from errors to HTTP responses for the views of this module."""
    if isinstance(exc, ApiError):
        response = error_response(code=exc.code, message=exc.message,
                                  http_status=exc.http_status, field=exc.field)  # fmt: skip
    elif isinstance(exc, slots.SlotUnavailable):
        response = error_response(code="slot_taken", message=str(exc), http_status=409)
    elif isinstance(exc, slots.SlotError):
        response = error_response(code=exc.code, message=str(exc), http_status=400)
    elif isinstance(exc, BookingError):
        response = error_response(code=exc.code, message=str(exc), http_status=exc.http_status)
    elif isinstance(exc, drf_exceptions.ValidationError):
        field, message, code = _first_validation_error(exc.detail)
        if code in ("required", "null", "blank"):
            code = "missing"
        elif code != "invalid":
            code = "invalid"
        response = error_response(code=code, message=message, http_status=400, field=field)
    elif isinstance(exc, Http404 | drf_exceptions.NotFound):
        response = error_response(code="not_found", message="Not found.", http_status=404)
    elif isinstance(exc, drf_exceptions.APIException):
        response = error_response(code=exc.default_code, message=str(exc.detail),
                                  http_status=exc.status_code)  # fmt: skip
        if retry_after := getattr(exc, "wait", None):
            response["Retry-After"] = str(int(retry_after))
    else:
        return None  # a bug: let it surface as a 500 and reach the error reporting
    error = response.data["error"]
    error["message"] = api_error_message(error["code"], error["message"])
    set_rollback()
    return response


class PublicApiView(APIView):
    """Base of the customer endpoints: anonymous, errors through `api_exception_handler`.

    Rate limited per business and client address; each view names its scope (`hold`, `token`,
    `browse`; scheduling/throttling.py), `browse` unless it says otherwise.
    """

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [PublicApiThrottle]
    throttle_scope = "browse"

    def get_exception_handler(self):
        return api_exception_handler

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise RateLimited(wait)


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input or time"),
    404: OpenApiResponse(ErrorSerializer, description="Unknown service, staff or booking"),
}


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _bookable_service(service_id: int) -> Service:
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise ApiError(code="not_found", message="This service does not exist.", http_status=404,
                       field="service")  # fmt: skip
    return service


def _check_staff(service: Service, staff_id: int | None) -> None:
    if staff_id is None:
        return
    if not service.staff.filter(pk=staff_id, is_active=True).exists():
        raise ApiError(code="not_found", message="This staff member does not offer this service.",
                       http_status=404, field="staff")  # fmt: skip


def booking_for_token(
    reference: str, token: object, *, related: tuple[str, ...] = ("service", "staff", "customer")
) -> Booking:
    """The booking if the token matches (scheduling.tokens); else the API's one 404, the same for
    an unknown reference and a wrong token."""
    booking = booking_by_token(reference, token, related=related)
    if booking is None:
        raise ApiError(code="not_found", message="No booking matches this reference and token.",
                       http_status=404)  # fmt: skip
    return booking


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------
class ServiceListView(PublicApiView):
    @extend_schema(tags=[API_TAG], summary="Bookable services",
                   responses=ServiceSerializer(many=True))  # fmt: skip
    def get(self, request: Request) -> Response:
        services = Service.objects.filter(is_active=True).prefetch_related(
            Prefetch(
                "staff",
                queryset=StaffMember.objects.filter(is_active=True),
                to_attr="active_staff",
            )
        )
        return Response(ServiceSerializer(services, many=True).data)


class AvailabilityView(PublicApiView):
    @extend_schema(
        tags=[API_TAG],
        summary="Free start times of a service",
        parameters=[
            OpenApiParameter("service", int, required=True),
            OpenApiParameter(
                "start",
                OpenApiTypes.DATE,
                required=True,
                description="First date (YYYY-MM-DD), in the business's zone",
            ),
            OpenApiParameter(
                "end",
                OpenApiTypes.DATE,
                required=True,
                description="Last date (YYYY-MM-DD), inclusive; at most 93 days",
            ),
            OpenApiParameter("staff", int, description="Only this staff member"),
            OpenApiParameter(
                "tz", str, description="IANA zone of `local_start` (default: the business's)"
            ),
        ],  # fmt: skip
        responses={200: AvailabilitySerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = _validated(AvailabilityQuerySerializer, request.query_params)
        service = _bookable_service(query["service"])
        staff_id = query.get("staff")
        _check_staff(service, staff_id)
        business_zone = tenant_time_zone()
        zone = query.get("tz") or business_zone
        if service.capacity > 1:
            found_slots = _session_slots(service=service, start_date=query["start"],
                                         end_date=query["end"], staff_id=staff_id,
                                         zone=zone, business_zone=business_zone)  # fmt: skip
        else:
            found = available_slots(service=service, start_date=query["start"],
                                    end_date=query["end"], now=timezone.now(),
                                    staff_id=staff_id)  # fmt: skip
            customer_zone = ZoneInfo(zone)
            found_slots = [
                {
                    "start": _utc_iso(slot.start_utc),
                    "end": _utc_iso(slot.end_utc),
                    "local_start": slot.start_utc.astimezone(customer_zone).isoformat(),
                    "staff_id": slot.staff_id,
                }
                for slot in found
            ]
        # Written out as AvailabilitySerializer would (tests compare both): serialising a
        # month of slots field by field took longer than computing them.
        return Response(
            {
                "service": service.pk,
                "start": query["start"].isoformat(),
                "end": query["end"].isoformat(),
                "time_zone": zone,
                "tenant_time_zone": business_zone,
                "slots": found_slots,
            }
        )


def _utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as DRF's DateTimeField renders it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _session_slots(*, service: Service, start_date: date, end_date: date, staff_id: int | None,
                   zone: str, business_zone: str) -> list[dict]:  # fmt: skip
    """Sessions of a group service starting on those local dates; full ones are left out."""
    business = ZoneInfo(business_zone)
    sessions = bookable_sessions(
        service=service,
        start=datetime.combine(start_date, time(0), business),
        end=datetime.combine(end_date + timedelta(days=1), time(0), business),
        now=timezone.now(),
    )
    staff_of: dict[int | str, int] = dict(  # keyed as the engine's (opaque) occurrence ids
        Occurrence.objects.filter(pk__in=[s.occurrence_id for s in sessions]).values_list(
            "pk", "staff_id"
        )
    )
    return [
        {
            "start": _utc_iso(session.start_utc),
            "end": _utc_iso(session.end_utc),
            "local_start": session.start_utc.astimezone(ZoneInfo(zone)).isoformat(),
            "staff_id": staff_of[session.occurrence_id],
            "occurrence_id": session.occurrence_id,
            "seats_left": session.seats_left,
        }
        for session in sessions
        if staff_id is None or staff_of[session.occurrence_id] == staff_id
    ]


class BookingCreateView(PublicApiView):
    throttle_scope = "hold"  # each hold blocks a time for 10 minutes

    @extend_schema(
        tags=[API_TAG],
        summary="Hold a time (or a seat in a group session) for a customer",
        description=(
            "Appointments: `service` + `start` (+ optional `staff`). Group services "
            "(capacity > 1): `service` + `occurrence` (the `occurrence_id` of availability)."
        ),
        request=BookingCreateSerializer,
        responses={
            201: BookingHeldSerializer,
            **ERRORS,
            409: OpenApiResponse(
                ErrorSerializer, description="The time was just taken (`slot_taken`), the "
                "session is full (`session_full`), or the service is paid online and the "
                "business cannot take payments yet (`payments_unavailable`)"
            ),
        },
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = _validated(BookingCreateSerializer, request.data)
        service = _bookable_service(data["service"])
        # `promo_code` (optional) is read here, not by the serializer: it is a payments input.
        # (`_validated` refused anything but an object, so `request.data` is a dict here.)
        promo_code = request.data.get("promo_code") if isinstance(request.data, dict) else None
        promo = ports.payments().check_before_hold(
            service=service,
            promo_code=promo_code,
            customer_email=data["customer"]["email"],
        )
        # A member price needs the customer's signed-in account session (the /my/ one-time
        # link): the typed email must be that account's, never merely a member's address.
        signed_in = signed_in_customer(request._request)
        if service.capacity > 1:
            booking = _hold_session_seat(
                service=service, data=data, signed_in=signed_in, language=customer_language(request)
            )
        else:
            if "occurrence" in data:
                raise ApiError(code="invalid", field="occurrence", message=(
                    "This service has no group sessions: book it with `start`."
                ))  # fmt: skip
            if "start" not in data:
                raise ApiError(code="missing", field="start", message="This field is required.")
            staff_id = data.get("staff")
            _check_staff(service, staff_id)
            # One transaction: a refused time leaves no customer row behind either.
            with transaction.atomic():
                customer = customer_upsert(
                    name=data["customer"]["name"],
                    email=data["customer"]["email"],
                    phone=data["customer"]["phone"],
                )
                source, embedded_on = _source_of(data)
                member = _is_signed_in(signed_in, customer)
                booking = booking_hold(service=service, starts_at=data["start"],
                                       customer=customer, staff_id=staff_id, source=source,
                                       embedded_on=embedded_on, notes=data["notes"],
                                       actor=CUSTOMER, member_pricing=member,
                                       language=customer_language(request))  # fmt: skip
        booking = Booking.objects.select_related("service", "staff").get(pk=booking.pk)
        body = BookingCreatedSerializer(booking).data
        # After the hold's transaction: the PaymentIntent is created outside it (null when
        # nothing is paid online; see docs/payments.md for the shape).
        body["payment"] = ports.payments().after_hold(booking=booking, promo=promo)
        return Response(body, status=status.HTTP_201_CREATED)


def _source_of(data: dict) -> tuple[str, str]:
    """`source` and, for the widget, the website it was on when the business allows that site
    (otherwise the booking is still made, labelled "Widget": a label never refuses a customer)."""
    if data["source"] != "widget":
        return data["source"], ""
    claimed = data["embedded_on"]
    site = ports.branding().allowed_embedding_origin(claimed) if claimed else ""
    return "widget", site


def session_of(service: Service, data: dict, *, missing: str) -> Occurrence:
    """The bookable session a request names (`occurrence`), for the public and staff APIs."""
    if "occurrence" not in data:
        raise ApiError(code="missing", field="occurrence", message=missing)
    occurrence = (
        Occurrence.objects.select_related("service", "staff")
        .filter(pk=data["occurrence"], service=service)
        .first()
    )
    if occurrence is None:
        raise ApiError(code="not_found", message="This session does not exist.", http_status=404,
                       field="occurrence")  # fmt: skip
    if occurrence.is_cancelled:
        raise ApiError(code="session_cancelled", field="occurrence",
                       message="This session was cancelled.")  # fmt: skip
    return occurrence


def customer_language(request: Request) -> str:
    """The language the customer books in: the request's (LocaleMiddleware reads the widget's
    and booking page's Accept-Language), one of settings.LANGUAGES; empty (the business's
    language) when the client names none."""
    if not request.headers.get("Accept-Language"):
        return ""
    language = (translation.get_language() or "").split("-", 1)[0].lower()
    return language if language in dict(settings.LANGUAGES) else ""


def _is_signed_in(signed_in: Customer | None, customer: Customer) -> bool:
    return signed_in is not None and signed_in.pk == customer.pk


def _hold_session_seat(
    *, service: Service, data: dict, signed_in: Customer | None, language: str
) -> Booking:
    """A seat in one session of a group service; the seat count is checked under a row lock."""
    occurrence = session_of(service, data, missing=(
        "This is a group service: choose one of its sessions (`occurrence_id` from availability)."
    ))  # fmt: skip
    now = timezone.now()
    if occurrence.starts_at <= now:
        raise slots.SlotInPast("This session has already started.")
    if occurrence.starts_at > now + timedelta(days=service.maximum_advance_days):
        raise slots.SlotTooFarAhead()
    # `start` and `staff` are optional for a session; when sent they must describe it, so a
    # client with a stale listing never books a different time than it showed.
    if "start" in data and data["start"] != occurrence.starts_at:
        raise ApiError(code="invalid", field="start",
                       message="This is not the start time of the chosen session.")  # fmt: skip
    if data.get("staff") is not None and data["staff"] != occurrence.staff_id:
        raise ApiError(code="invalid", field="staff",
                       message="This staff member does not lead the chosen session.")  # fmt: skip
    with transaction.atomic():
        customer = customer_upsert(
            name=data["customer"]["name"],
            email=data["customer"]["email"],
            phone=data["customer"]["phone"],
        )
        source, embedded_on = _source_of(data)
        return booking_take_seat(occurrence=occurrence, customer=customer, source=source,
                                 embedded_on=embedded_on, notes=data["notes"], now=now,
                                 actor=CUSTOMER,
                                 member_pricing=_is_signed_in(signed_in, customer),
                                 language=language)  # fmt: skip


class BookingDetailView(PublicApiView):
    throttle_scope = "token"

    @extend_schema(
        tags=[API_TAG],
        summary="A booking, for its customer",
        parameters=[OpenApiParameter("token", str, required=True, description="Manage token")],
        responses={200: BookingWithPaymentSerializer, 404: ERRORS[404]},
    )
    def get(self, request: Request, reference: str) -> Response:
        booking = booking_for_token(reference, request.query_params.get("token"))
        # The return path after paying: a held booking's PaymentIntent is re-read and the
        # booking confirmed if it succeeded (the webhook may have done it already).
        payment = ports.payments().on_status(booking=booking)
        booking.refresh_from_db()
        body = BookingSerializer(booking).data
        body["payment"] = payment
        return Response(body)


class BookingCancelView(PublicApiView):
    throttle_scope = "token"

    @extend_schema(
        tags=[API_TAG],
        summary="Cancel a booking (by its customer)",
        request=BookingCancelSerializer,
        responses={
            200: CancellationSerializer,
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="The booking cannot be cancelled"),
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        booking = booking_for_token(reference, _token_of(request))
        data = _validated(BookingCancelSerializer, request.data)
        # The policy applies to what was really paid; the refund goes through Stripe.
        decision = booking_cancel_with_refund(booking=booking, actor=CUSTOMER, by_business=False,
                                              reason=data["reason"])  # fmt: skip
        booking.refresh_from_db()
        payload = {
            "booking": booking,
            "refund_percent": decision.percent,
            "refund_minor": decision.amount_minor,
            "refund_reason": str(decision.reason),
        }
        return Response(CancellationSerializer(payload).data)


class BookingRescheduleView(PublicApiView):
    throttle_scope = "token"

    @extend_schema(
        tags=[API_TAG],
        summary="Move a booking to another time or session (by its customer)",
        description=(
            "An appointment moves to another `start` (optionally with another `staff`); a seat "
            "in a group session moves to another session of the same class (`occurrence`). "
            "The payment stays with the booking."
        ),
        request=BookingRescheduleSerializer,
        responses={
            200: BookingSerializer,
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="The time was just taken "
                                 "(`slot_taken`) or the session is full (`session_full`)"),
        },
    )  # fmt: skip
    def post(self, request: Request, reference: str) -> Response:
        booking = booking_for_token(reference, _token_of(request))
        data = _validated(BookingRescheduleSerializer, request.data)
        booking = move_booking(booking, data, actor=CUSTOMER)
        booking = Booking.objects.select_related("service", "staff").get(pk=booking.pk)
        return Response(BookingSerializer(booking).data)


def move_booking(booking: Booking, data: dict, *, actor: Actor) -> Booking:
    """A reschedule request of the public or staff API: an appointment moves to `start` (and
    optionally `staff`), a seat in a class to another session (`occurrence`)."""
    if booking.occurrence_id is not None:
        occurrence = session_of(booking.service, data, missing=(
            "This is a seat in a group session: choose the session to move to "
            "(`occurrence_id` from availability)."
        ))  # fmt: skip
        return booking_move_seat(booking=booking, occurrence=occurrence, actor=actor)
    if "start" not in data:
        raise ApiError(code="missing", field="start", message="This field is required.")
    staff_id = data.get("staff")
    _check_staff(booking.service, staff_id)
    return booking_reschedule(booking=booking, new_start=data["start"], actor=actor,
                              staff_id=staff_id)  # fmt: skip


def _token_of(request: Request) -> str | None:
    """The token of a POST body; checked before the rest so strangers learn nothing."""
    token = request.data.get("token") if hasattr(request.data, "get") else None
    return token if isinstance(token, str) else None
