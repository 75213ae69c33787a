"""Calendar files over HTTP: a booking's `.ics` for its customer, a staff member's secret feed.

Both are reached with a secret (the booking's manage token, the staff member's feed token) and
answer 404 with the API's error shape when it is wrong, exactly like an unknown booking.
"""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from scheduling.api.public import API_TAG, ApiError, PublicApiView, booking_for_token
from scheduling.api.serializers import ErrorSerializer
from scheduling.calendar_files import Business, booking_calendar, business_of, staff_feed_calendar
from scheduling.selectors.integrations import (
    booking_revision,
    staff_feed_bookings,
    staff_member_for_feed_token,
)
from tenants.context import current_tenant

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Unknown booking or feed, wrong token")


def current_business() -> Business:
    return business_of(current_tenant())


class CalendarFileView(PublicApiView):
    """Calendar apps send `Accept: text/calendar`; errors still answer in JSON instead of 406."""

    renderer_classes = [JSONRenderer]
    throttle_scope = "token"  # reached with a manage token or a staff feed token

    def perform_content_negotiation(self, request: Request, force: bool = False):
        return super().perform_content_negotiation(request, force=True)


def ics_response(body: bytes, *, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Secret URLs: no shared cache may keep a copy, and none may outlive a token reset by much.
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response


class BookingCalendarView(CalendarFileView):
    @extend_schema(
        tags=[API_TAG],
        summary="A booking as an iCalendar file (by its customer)",
        operation_id="bookings_calendar_file",
        parameters=[OpenApiParameter("token", str, required=True, description="Manage token")],
        responses={(200, "text/calendar"): OpenApiTypes.BINARY, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str) -> HttpResponse:
        token = request.query_params.get("token")
        booking = booking_for_token(reference, token)
        manage_path = reverse("manage_booking", args=[booking.reference])
        body = booking_calendar(
            booking=booking,
            business=current_business(),
            revision=booking_revision(booking),
            now=timezone.now(),
            manage_url=request.build_absolute_uri(f"{manage_path}?{urlencode({'token': token})}"),
        )
        return ics_response(body, filename=f"{booking.reference}.ics", attachment=True)


class StaffFeedView(CalendarFileView):
    @extend_schema(
        tags=["calendar feeds"],
        summary="A staff member's bookings as a subscribable iCalendar feed",
        operation_id="staff_calendar_feed",
        description=(
            "The URL is a secret shown on the back-office page /calendar/subscribe/; resetting it "
            "there makes the old URL answer 404. Bookings from 30 days back to a year ahead, with "
            "customer names but no contact details."
        ),
        responses={(200, "text/calendar"): OpenApiTypes.BINARY, 404: NOT_FOUND},
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        staff = staff_member_for_feed_token(token)
        if staff is None:
            raise ApiError(code="not_found", message="No calendar feed has this address.",
                           http_status=404)  # fmt: skip
        now = timezone.now()
        body = staff_feed_calendar(
            staff=staff,
            bookings=staff_feed_bookings(staff=staff, now=now),
            business=current_business(),
            now=now,
        )
        return ics_response(body, filename="calendar.ics", attachment=False)
