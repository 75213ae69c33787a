"""Forms of the staff back office for bookings: calendar and list filters, new booking, move,
cancel. Times are typed in the business's wall-clock time and turned into instants here."""

from __future__ import annotations

import datetime as dt
import re
from datetime import UTC, date, datetime, time, tzinfo

from django import forms
from django.core.exceptions import ValidationError

from scheduling.models import Booking, BookingStatus, Resource, Service, StaffMember
from scheduling.selectors.backoffice import qualified_staff

# Far enough for any diary, near enough that date arithmetic (a week later) never overflows.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2199, 12, 31)
_WALL_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
OTHER_TIME = "other"


class DiaryDateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise ValidationError("Choose a date between 2000 and 2199.")


def local_start(day: date, wall: time, zone: tzinfo) -> datetime:
    """The instant a wall-clock time shows on `day` in the business's zone.

    A time repeated by a fall-back night means its first occurrence, as the slot engine offers
    it; a time skipped by a spring-forward night does not exist and is refused.
    """
    candidate = datetime.combine(day, wall.replace(second=0, microsecond=0), zone)
    if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != candidate.replace(
        tzinfo=None
    ):
        raise ValidationError(
            f"{wall:%H:%M} does not exist on {day:%d/%m/%Y}: the clocks go forward that night."
        )
    return candidate


class CalendarForm(forms.Form):
    view = forms.ChoiceField(
        choices=[("day", "Day"), ("week", "Week")], required=False, widget=forms.HiddenInput
    )
    date = DiaryDateField(required=False)
    staff = forms.ModelChoiceField(
        queryset=StaffMember.objects.all(), required=False, empty_label="All staff"
    )
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.all(), required=False, empty_label="All resources"
    )
    show_cancelled = forms.BooleanField(required=False, label="Show cancelled")

    def __init__(self, *args, sees_all: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not sees_all:
            # A staff member sees their own column only: no way to ask for someone else's.
            del self.fields["staff"]
            del self.fields["resource"]


STATUS_FILTERS = [("", "Any (not expired)"), *BookingStatus.choices]


class BookingFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=150,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Reference, name, email or phone"}),
    )
    date_from = DiaryDateField(required=False, label="From")
    date_to = DiaryDateField(required=False, label="To")
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    staff = forms.ModelChoiceField(
        queryset=StaffMember.objects.all(), required=False, empty_label="All staff"
    )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


class _WhenMixin(forms.Form):
    """A local date plus either one of the listed free times (`slot`) or a typed time."""

    date = DiaryDateField()
    slot = forms.CharField(required=False, widget=forms.HiddenInput)  # radios, in the template
    time = forms.TimeField(
        required=False,
        label="Or type a time",
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
    )

    zone: tzinfo

    def clean_slot(self) -> str:
        value = self.cleaned_data.get("slot", "").strip()
        if value and value != OTHER_TIME and not _WALL_TIME.fullmatch(value):
            raise ValidationError("Pick one of the listed times.")
        return value

    def chosen_time(self) -> dt.time | None:
        slot = self.cleaned_data.get("slot", "")
        wall_time = _WALL_TIME.fullmatch(slot) if slot and slot != OTHER_TIME else None
        if wall_time is not None:  # clean_slot() refused any other listed value
            hours, minutes = wall_time.groups()
            return time(int(hours), int(minutes))
        return self.cleaned_data.get("time")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        day = cleaned.get("date")
        if day is None or "slot" in self.errors or "time" in self.errors:
            return cleaned
        wall = self.chosen_time()
        if wall is None:
            self.add_error("time", "Pick one of the available times or type a time.")
            return cleaned
        try:
            cleaned["starts_at"] = local_start(day, wall, self.zone)
        except ValidationError as error:
            self.add_error("time", error)
        return cleaned


class BookingCreateForm(_WhenMixin):
    """A booking for a customer who phoned or walked in: confirmed at once."""

    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), widget=forms.Select(attrs={"data-lists-times": ""})
    )
    staff = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(),
        required=False,
        empty_label="Anyone available",
        widget=forms.Select(attrs={"data-lists-times": ""}),
    )
    name = forms.CharField(max_length=150, label="Customer name")
    email = forms.EmailField(max_length=254, label="Customer email")
    phone = forms.CharField(
        max_length=32,
        required=False,
        label="Phone (optional)",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    # Offered by the page when the customer has a credit for the service (ports.credits()).
    use_credit = forms.BooleanField(required=False, label="Use a credit of the customer")

    field_order = ["service", "staff", "date", "slot", "time", "name", "email", "phone", "notes",
                   "use_credit"]  # fmt: skip

    def __init__(self, *args, zone: tzinfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        service = self.fields["service"]
        assert isinstance(service, forms.ModelChoiceField)
        service.queryset = Service.objects.filter(is_active=True)
        staff = self.fields["staff"]
        assert isinstance(staff, forms.ModelChoiceField)
        staff.queryset = StaffMember.objects.filter(is_active=True)

    def clean(self) -> dict:
        cleaned = super().clean()
        service: Service | None = cleaned.get("service")
        staff: StaffMember | None = cleaned.get("staff")
        if service is None:
            return cleaned
        if service.capacity > 1:
            self.add_error(
                "service",
                "This is a group class: customers take seats in its sessions, which this page "
                "does not book yet.",
            )
        elif (
            staff is not None and not qualified_staff(service=service).filter(pk=staff.pk).exists()
        ):
            self.add_error("staff", f"{staff} does not offer {service}.")
        return cleaned


class BookingMoveForm(_WhenMixin):
    staff = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"data-lists-times": ""}),
    )

    field_order = ["staff", "date", "slot", "time"]

    def __init__(self, *args, booking: Booking, zone: tzinfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        staff = self.fields["staff"]
        assert isinstance(staff, forms.ModelChoiceField)
        staff.queryset = qualified_staff(service=booking.service)


class BookingCancelForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the booking's history.",
    )
