"""JSON helpers of the customer pages (the rest is the public API, /api/v1/, in scheduling)."""

from calendar import monthrange
from datetime import date

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from scheduling.api.public import ApiError, PublicApiView
from scheduling.api.serializers import known_time_zones
from scheduling.cancellation_policy import (
    CancellationPolicy,
    InvalidPolicy,
    refund_for_cancellation,
)
from scheduling.models import ACTIVE_STATUSES, Service, StaffMember
from scheduling.selectors.availability import tenant_time_zone
from scheduling.tokens import booking_by_token
from tenants.context import current_tenant

from .card_checkout import late_fee_text_now
from .page_context import (
    policy_text,
    positive_int,
    widget_language,
)
from .selectors import branding_get, days_with_availability
from .services import booking_confirm_without_payment


# ---------------------------------------------------------------------------
# JSON helpers of the customer pages (the rest is the public API, /api/v1/)
# ---------------------------------------------------------------------------
class DaysView(PublicApiView):
    """Days of a month with at least one free time, in the customer's zone."""

    throttle_scope = "browse"  # counted with the API's services and availability

    @extend_schema(exclude=True)  # the widget's own helper, not the public API
    def get(self, request: Request) -> Response:
        params = request.query_params
        service_id = positive_int(params.get("service"))
        service = (
            Service.objects.filter(pk=service_id, is_active=True).first() if service_id else None
        )
        if service is None:
            raise ApiError(code="not_found", message="This service does not exist.",
                           http_status=404, field="service")  # fmt: skip
        staff_id = positive_int(params.get("staff"))
        if staff_id is not None and not service.staff.filter(pk=staff_id, is_active=True).exists():
            raise ApiError(code="not_found", message="This staff member does not offer this "
                           "service.", http_status=404, field="staff")  # fmt: skip
        zone = params.get("tz") or tenant_time_zone()
        if zone not in known_time_zones():
            raise ApiError(code="invalid", message="Unknown time zone.", field="tz")
        try:
            year, month = (int(part) for part in params.get("month", "").split("-"))
            first_day = date(year, month, 1)
        except ValueError:
            raise ApiError(code="invalid", message="Give the month as YYYY-MM.", field="month")
        if not 2000 <= year <= 9000:
            raise ApiError(code="invalid", message="Use a year between 2000 and 9000.",
                           field="month")  # fmt: skip
        last_day = date(year, month, monthrange(year, month)[1])
        # The manage page moving a seat leaves its own session out.
        days = days_with_availability(service=service, first_day=first_day, last_day=last_day,
                                      zone=zone, staff_id=staff_id,
                                      exclude_occurrence_id=positive_int(
                                          params.get("exclude_occurrence")))  # fmt: skip
        latest = timezone.now().date().toordinal() + service.maximum_advance_days + 1
        return Response(
            {
                "service": service.pk,
                "month": f"{year:04d}-{month:02d}",
                "time_zone": zone,
                "days": [day.isoformat() for day in days],
                "has_later_months": last_day.toordinal() < latest,
            }
        )


class BookingConfirmView(PublicApiView):
    """Confirm a held booking that needs no online payment (free or pay at the venue)."""

    throttle_scope = "token"  # counted with the API's endpoints reached by manage token

    @extend_schema(exclude=True)  # the widget's own helper, not the public API
    def post(self, request: Request, reference: str) -> Response:
        token = request.data.get("token") if hasattr(request.data, "get") else None
        booking = booking_by_token(reference, token)
        if booking is None:
            raise ApiError(code="not_found", http_status=404,
                           message="No booking matches this reference and token.")  # fmt: skip
        booking = booking_confirm_without_payment(booking=booking)
        return Response({"reference": booking.reference, "status": booking.status})


class BookingPolicyView(PublicApiView):
    """What the manage page needs besides the public booking: ids, policy, refund now."""

    throttle_scope = "token"

    @extend_schema(exclude=True)  # the widget's own helper, not the public API
    def get(self, request: Request, reference: str) -> Response:
        booking = booking_by_token(reference, request.query_params.get("token"))
        if booking is None:
            raise ApiError(code="not_found", http_status=404,
                           message="No booking matches this reference and token.")  # fmt: skip
        language = widget_language(request, branding_get())
        try:
            policy = CancellationPolicy.from_json(booking.policy_snapshot)
            percent = refund_for_cancellation(
                policy=policy, paid_minor=0, starts_at=booking.starts_at,
                cancelled_at=timezone.now(),
            ).percent  # fmt: skip
        except (InvalidPolicy, ValueError):
            percent = 0
        changeable = booking.status in ACTIVE_STATUSES and booking.starts_at > timezone.now()
        return Response(
            {
                "reference": booking.reference,
                "service_id": booking.service_id,
                "staff_id": booking.staff_id,
                "staff_count": StaffMember.objects.filter(
                    services=booking.service_id, is_active=True
                ).count(),  # fmt: skip
                "customer_email": booking.customer.email,
                "payment_mode": booking.payment_mode,
                "policy_text": policy_text(booking.policy_snapshot, language),
                "refund_percent_now": percent,
                "changeable": changeable,
                # A suspended business takes no new times: cancelling stays open, moving does not
                # (tenants.middleware.OPEN_WHILE_SUSPENDED refuses it).
                "reschedulable": changeable and not current_tenant().is_suspended,
                # A seat moves to another session of its class (`occurrence` in reschedule).
                "occurrence_id": booking.occurrence_id,
                # Cards on file: what cancelling now would cost (widgets/card_checkout.py).
                "late_fee_text_now": late_fee_text_now(booking, language),
            }
        )
