"""Shapes of the public booking API (`scheduling.api`): validated inputs and documented outputs."""

from datetime import UTC, datetime
from functools import cache
from typing import Any, cast
from zoneinfo import available_timezones

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling import ports
from scheduling.models import Booking, Service
from tenants.context import current_tenant_or_none

# Widest availability query, in days (inclusive of both ends): about a quarter.
MAX_AVAILABILITY_DAYS = 93
# Keeps date arithmetic (windows of a day or two around a date) far from datetime's limits.
EARLIEST_YEAR, LATEST_YEAR = 2000, 9000
ID_MAX = 2**63 - 1  # BigAutoField


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_year(year: int) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise serializers.ValidationError(
            f"Use a year between {EARLIEST_YEAR} and {LATEST_YEAR}.", code="invalid"
        )


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """An ISO 8601 date-time that must carry its UTC offset (`2030-06-04T10:00:00+02:00`).

    A naive time would be read in some default zone and silently book the wrong hour."""

    default_error_messages = {
        "invalid": (
            "Give an ISO 8601 date-time with its UTC offset, e.g. 2030-06-04T10:00:00+02:00."
        ),
    }

    def to_internal_value(self, data: object) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except ValueError:  # well formed but impossible, e.g. month 13
            value = None
        if value is None or value.tzinfo is None or value.utcoffset() is None:
            self.fail("invalid")
        _check_year(value.year)
        return value.astimezone(UTC)

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class BoundedDateField(serializers.DateField):
    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        _check_year(result.year)
        return result


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False, allow_null=True)


class ErrorSerializer(serializers.Serializer):
    """Every error of the API: `{"error": {"code", "message", "field"?}}`."""

    error = ErrorDetailSerializer()


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------
class StaffSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class ServiceSerializer(serializers.ModelSerializer):
    currency = serializers.SerializerMethodField()
    staff = serializers.SerializerMethodField()
    online_payment_available = serializers.SerializerMethodField(
        help_text="False when the service is paid online and the business cannot take online "
        "payments yet: holding it answers 409 `payments_unavailable`."
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "category",
            "duration_minutes",
            "price_minor",
            "currency",
            "payment_mode",
            "deposit_fixed_minor",
            "deposit_percent",
            "capacity",
            "staff",
            "online_payment_available",
        ]

    def get_currency(self, service: Service) -> str:
        tenant = current_tenant_or_none()
        return (tenant.currency if tenant is not None else "") or "EUR"

    def get_online_payment_available(self, service: Service) -> bool:
        # One check per response (the context is shared by every row of a list).
        # DRF keeps the context as the dict the view passed (typed as a read-only Mapping).
        context = cast(dict[str, Any], self.context)
        check = context.get("online_payment_available")
        if check is None:
            check = context["online_payment_available"] = ports.payments().online_payment_check()
        return check(service)

    @extend_schema_field(StaffSummarySerializer(many=True))
    def get_staff(self, service: Service) -> list[dict]:
        # `active_staff` is prefetched by the view; inactive members are not bookable.
        active = service.active_staff  # type: ignore[attr-defined]  # Prefetch(to_attr=...)
        return [{"id": m.pk, "display_name": m.display_name} for m in active]


# ---------------------------------------------------------------------------
# Availability
# ---------------------------------------------------------------------------
class AvailabilityQuerySerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    start = BoundedDateField(input_formats=["iso-8601"])
    end = BoundedDateField(input_formats=["iso-8601"])
    staff = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    tz = serializers.CharField(required=False, max_length=64)

    def validate_tz(self, value: str) -> str:
        if value not in known_time_zones():
            raise serializers.ValidationError("Unknown time zone: use an IANA name such as "
                                              "Europe/Paris.")  # fmt: skip
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end date is before the start date."})
        if (attrs["end"] - attrs["start"]).days + 1 > MAX_AVAILABILITY_DAYS:
            raise serializers.ValidationError(
                {"end": f"Ask for at most {MAX_AVAILABILITY_DAYS} days at a time."}
            )
        return attrs


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(default_timezone=UTC, help_text="UTC")
    end = serializers.DateTimeField(default_timezone=UTC, help_text="UTC")
    local_start = serializers.CharField(help_text="ISO 8601 in the requested time zone")
    staff_id = serializers.IntegerField()
    # Group services only (capacity > 1): the session to book and its free seats at listing time.
    occurrence_id = serializers.IntegerField(
        required=False, help_text="Group services only: the session id to book"
    )
    seats_left = serializers.IntegerField(
        required=False, help_text="Group services only: free seats (full sessions are omitted)"
    )


class AvailabilitySerializer(serializers.Serializer):
    service = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    time_zone = serializers.CharField(help_text="Zone of `local_start`")
    tenant_time_zone = serializers.CharField(help_text="Zone of the business; dates are in it")
    slots = SlotSerializer(many=True)


# ---------------------------------------------------------------------------
# Bookings
# ---------------------------------------------------------------------------
class CustomerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


@extend_schema_field(OpenApiTypes.STR)
class PromoCodeInputField(serializers.Field):
    """Passed through as sent: the payments code validates it before the hold and answers
    400 `promo_code_invalid` with the reason (a wrong type included)."""

    def to_internal_value(self, data: object) -> object:
        return data

    def to_representation(self, value: object) -> object:
        return value


class BookingCreateSerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    start = AwareDateTimeField(
        required=False,
        help_text="Required for appointments; optional for a session (must then match it)",
    )
    occurrence = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False,
        help_text="Group services only: the session (`occurrence_id` of availability)",
    )  # fmt: skip
    staff = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False,
                                     allow_null=True)  # fmt: skip
    customer = CustomerInputSerializer()
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    promo_code = PromoCodeInputField(
        required=False,
        allow_null=True,
        help_text="Optional discount code (case-insensitive), for services paid online",
    )
    # DRF's metaclass moves declared fields off the class: this does not shadow Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["api", "page", "widget"],
        required=False,
        default="api",
        help_text="Where the customer booked, shown to the business: `page` (its hosted booking "
        "page), `widget` (the widget on a website, see `embedded_on`), else `api`",
    )
    embedded_on = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="With `source: widget`: the website's origin (`https://www.example.com`); "
        "kept only when the business allows that website to embed its booking page",
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("embedded_on") and attrs.get("source") != "widget":
            raise serializers.ValidationError(
                {"embedded_on": "Only a booking made through the widget has a website "
                 "(`source`: `widget`)."}
            )  # fmt: skip
        return attrs


class BookingTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=64)


class BookingCancelSerializer(BookingTokenSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class BookingRescheduleSerializer(BookingTokenSerializer):
    start = AwareDateTimeField(required=False, help_text="Appointments: the new start time")
    occurrence = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False,
        help_text="Seats in a group session: the session to move to (`occurrence_id`)",
    )  # fmt: skip
    staff = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False,
                                     allow_null=True)  # fmt: skip


class BookingSerializer(serializers.ModelSerializer):
    """A booking as its customer sees it (the manage token is only returned on creation)."""

    service = serializers.CharField(source="service.name")
    staff = serializers.CharField(source="staff.display_name")
    starts_at = serializers.DateTimeField(default_timezone=UTC)
    ends_at = serializers.DateTimeField(default_timezone=UTC)
    hold_expires_at = serializers.DateTimeField(default_timezone=UTC, allow_null=True)

    class Meta:
        model = Booking
        fields = [
            "reference",
            "status",
            "service",
            "staff",
            "starts_at",
            "ends_at",
            "hold_expires_at",
            "price_minor",
            "currency",
        ]


class BookingCreatedSerializer(BookingSerializer):
    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "manage_token"]


class CancellationSerializer(serializers.Serializer):
    booking = BookingSerializer()
    refund_percent = serializers.IntegerField()
    refund_minor = serializers.IntegerField(help_text="Amount to refund, in minor units")
    refund_reason = serializers.CharField()


# ---------------------------------------------------------------------------
# Payments (the `payment` objects added by the views; see docs/payments.md)
# ---------------------------------------------------------------------------
class HoldPaymentSerializer(serializers.Serializer):
    """What the widget needs to pay a hold; null for pay-at-venue and free services. The
    platform fee is never shown to customers."""

    # The metaclass pops declared fields off the class: this does not shadow `Field.required`.
    required = serializers.BooleanField()  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=["full", "deposit"])
    amount_minor = serializers.IntegerField(help_text="Charged online, after the discount")
    currency = serializers.CharField()
    balance_due_minor = serializers.IntegerField(help_text="To pay at the venue (deposits)")
    discount_minor = serializers.IntegerField(
        help_text="Discount of the promo code (0 without one)"
    )
    promo_code = serializers.CharField(allow_null=True)
    client_secret = serializers.CharField(
        allow_null=True, help_text="Null while the payment provider is unavailable"
    )
    publishable_key = serializers.CharField()
    stripe_js_url = serializers.CharField()
    status = serializers.CharField(help_text="PaymentIntent status, or `unavailable`")
    message = serializers.CharField(allow_null=True)


class BookingPaymentStatusSerializer(serializers.Serializer):
    """The payment of a booking as its customer sees it (the return path after paying)."""

    status = serializers.CharField(help_text="PaymentIntent status, or `unavailable`")
    amount_minor = serializers.IntegerField()
    paid_minor = serializers.IntegerField()
    refunded_minor = serializers.IntegerField()
    discount_minor = serializers.IntegerField()
    balance_due_minor = serializers.IntegerField()
    currency = serializers.CharField()
    last_error = serializers.CharField(allow_null=True, help_text="The card's decline message")


class BookingHeldSerializer(BookingCreatedSerializer):
    """The 201 of a hold: the booking, its manage token and its `payment` (added by the view
    once the hold has committed)."""

    payment = HoldPaymentSerializer(allow_null=True, read_only=True)

    class Meta(BookingCreatedSerializer.Meta):
        fields = [*BookingCreatedSerializer.Meta.fields, "payment"]


class BookingWithPaymentSerializer(BookingSerializer):
    """A booking for its customer, with its `payment` (null when nothing is paid online)."""

    payment = BookingPaymentStatusSerializer(allow_null=True, read_only=True)

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "payment"]
