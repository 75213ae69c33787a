"""Shapes of the staff API (`scheduling.staff_api`): what integrations send and receive."""

from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling.api.serializers import (
    ID_MAX,
    AwareDateTimeField,
    BoundedDateField,
    CustomerInputSerializer,
)
from scheduling.models import Booking, BookingStatus

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


class StaffBookingQuerySerializer(serializers.Serializer):
    start = BoundedDateField(
        input_formats=["iso-8601"], required=False,
        help_text="First date (YYYY-MM-DD) of the bookings' start, in the business's zone",
    )  # fmt: skip
    end = BoundedDateField(
        input_formats=["iso-8601"], required=False, help_text="Last date (inclusive)"
    )
    status = serializers.CharField(
        required=False, max_length=200,
        help_text="One status or several separated by commas: "
        + ", ".join(BookingStatus.values),
    )  # fmt: skip
    staff = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    page = serializers.IntegerField(min_value=1, max_value=10**6, required=False, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, required=False, default=DEFAULT_PAGE_SIZE
    )

    def validate_status(self, value: str) -> list[str]:
        statuses = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in statuses if part not in BookingStatus.values]
        if unknown or not statuses:
            raise serializers.ValidationError(
                f"Unknown status {', '.join(unknown) or '(empty)'}: use "
                + ", ".join(BookingStatus.values)
                + "."
            )
        return statuses

    def validate(self, attrs: dict) -> dict:
        if "start" in attrs and "end" in attrs and attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end date is before the start date."})
        return attrs


class StaffBookingCreateSerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    start = AwareDateTimeField(required=False, help_text="Required for appointments")
    staff = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, allow_null=True,
        help_text="Appointments: this staff member (default: a free one)",
    )  # fmt: skip
    occurrence = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False,
        help_text="Group services only: the session to take a seat in",
    )  # fmt: skip
    customer = CustomerInputSerializer()
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class StaffBookingRescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField(required=False, help_text="Appointments: the new start time")
    staff = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, allow_null=True,
        help_text="Appointments: this staff member (default: a free one)",
    )  # fmt: skip
    occurrence = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False,
        help_text="Seats in a group session: the session to move to",
    )  # fmt: skip


class StaffBookingCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StaffCustomerSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()


class StaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StaffBookingSerializer(serializers.ModelSerializer):
    """A booking as the business sees it, contact details included."""

    service = serializers.SerializerMethodField()
    staff = serializers.SerializerMethodField()
    customer = StaffCustomerSerializer()
    starts_at = serializers.DateTimeField(default_timezone=UTC)
    ends_at = serializers.DateTimeField(default_timezone=UTC)
    hold_expires_at = serializers.DateTimeField(default_timezone=UTC, allow_null=True)
    created_at = serializers.DateTimeField(default_timezone=UTC)
    occurrence = serializers.IntegerField(source="occurrence_id", allow_null=True)

    class Meta:
        model = Booking
        fields = [
            "reference",
            "status",
            "service",
            "staff",
            "customer",
            "starts_at",
            "ends_at",
            "hold_expires_at",
            "occurrence",
            "price_minor",
            "currency",
            "payment_mode",
            "source",
            "notes",
            "created_at",
        ]

    @extend_schema_field(StaffRefSerializer)
    def get_service(self, booking: Booking) -> dict:
        return {"id": booking.service_id, "name": booking.service.name}

    @extend_schema_field(StaffRefSerializer)
    def get_staff(self, booking: Booking) -> dict:
        return {"id": booking.staff_id, "name": booking.staff.display_name}


class StaffBookingPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Bookings matching the filters, all pages")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StaffBookingSerializer(many=True)


class StaffCancellationSerializer(serializers.Serializer):
    booking = StaffBookingSerializer()
    refund_percent = serializers.IntegerField()
    refund_minor = serializers.IntegerField(help_text="Amount to refund, in minor units")
    refund_reason = serializers.CharField()
