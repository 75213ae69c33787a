"""Forms of the catalogue pages: they parse what a manager types; the services hold the rules.

Amounts are typed in major units of the business's currency ("45.50") and become minor units
here, through common.money. Dates and times are the business's wall-clock time.
"""

import zoneinfo
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from django.forms import formset_factory
from django.utils import timezone

from common.money import InvalidAmount, currency_exponent, parse_major_units
from scheduling.cancellation_policy import CancellationPolicy, InvalidPolicy
from scheduling.models import PaymentMode, Resource, Service, StaffMember
from scheduling.selectors.catalogue import group_services, linkable_users
from scheduling.services.catalogue import WEEKDAY_NAMES, ServiceSpec, StaffSpec
from tenants.models import User

WEEKDAY_CHOICES = list(enumerate(WEEKDAY_NAMES))
DEPOSIT_FIELDS = ("deposit_kind", "deposit_amount", "deposit_percent")
DEPOSIT_KINDS = [("", "—"), ("fixed", "A fixed amount"), ("percent", "A percentage of the price")]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def major_units(amount_minor: int, currency: str) -> str:
    """4550 EUR → "45.50": the form's initial value, in the format the parser reads back."""
    exponent = currency_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


def _parse_amount(text: str, currency: str) -> int:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")  # "45,50": the decimal comma of most of Europe
    try:
        return parse_major_units(text=text, currency=currency)
    except InvalidAmount as error:
        raise ValidationError(str(error))


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names, or above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = name if name in form.fields else None
        if target is None and name != NON_FIELD_ERRORS:
            label = name.replace("_", " ").capitalize()
            errors = [ValidationError(f"{label}: {message}") for e in errors for message in e]
        form.add_error(target, errors)


# --- services --------------------------------------------------------------------------------
class ServiceForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    category = forms.CharField(max_length=80, required=False, help_text="Groups services.")
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=5, max_value=1440)
    price = forms.CharField(max_length=24, initial="0")
    payment_mode = forms.ChoiceField(choices=PaymentMode.choices, widget=forms.RadioSelect)
    deposit_kind = forms.ChoiceField(label="Deposit", choices=DEPOSIT_KINDS, required=False)
    deposit_amount = forms.CharField(label="Deposit amount", max_length=24, required=False)
    deposit_percent = forms.IntegerField(
        label="Deposit (% of the price)", min_value=1, max_value=99, required=False
    )
    buffer_before_minutes = forms.IntegerField(
        label="Buffer before (minutes)", min_value=0, max_value=1440, initial=0
    )
    buffer_after_minutes = forms.IntegerField(
        label="Buffer after (minutes)", min_value=0, max_value=1440, initial=0
    )
    capacity = forms.IntegerField(
        min_value=1, max_value=1000, initial=1, help_text="More than 1: a group class."
    )
    minimum_notice_minutes = forms.IntegerField(
        label="Minimum notice (minutes)", min_value=0, max_value=525600, initial=60
    )
    maximum_advance_days = forms.IntegerField(
        label="Bookable up to (days ahead)", min_value=1, max_value=3650, initial=90
    )
    slot_interval_minutes = forms.IntegerField(
        label="Start times every (minutes)", min_value=5, max_value=1440, initial=15
    )
    staff = forms.ModelMultipleChoiceField(
        label="Staff who offer it",
        queryset=StaffMember.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    resource = forms.ModelChoiceField(
        label="Needs a resource",
        queryset=Resource.objects.none(),
        required=False,
        empty_label="No resource",
    )
    is_active = forms.BooleanField(label="Bookable", required=False, initial=True)
    display_order = forms.IntegerField(min_value=0, max_value=100000, initial=0)

    def __init__(self, *args, currency: str, service: Service | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["price"].label = f"Price ({currency})"
        self.fields["deposit_amount"].label = f"Deposit amount ({currency})"
        # Inactive staff and resources stay selectable on the service that already uses them.
        offering = service.staff.values("pk") if service else []
        staff = self.fields["staff"]
        assert isinstance(staff, forms.ModelMultipleChoiceField)
        staff.queryset = StaffMember.objects.filter(Q(is_active=True) | Q(pk__in=offering))
        current = service.resource_id if service else None
        resource = self.fields["resource"]
        assert isinstance(resource, forms.ModelChoiceField)
        resource.queryset = Resource.objects.filter(Q(is_active=True) | Q(pk=current))

    @classmethod
    def initial_for(cls, service: Service, currency: str) -> dict:
        return {
            "name": service.name,
            "description": service.description,
            "category": service.category,
            "duration_minutes": service.duration_minutes,
            "price": major_units(service.price_minor, currency),
            "payment_mode": service.payment_mode,
            "deposit_kind": "fixed"
            if service.deposit_fixed_minor is not None
            else "percent"
            if service.deposit_percent is not None
            else "",
            "deposit_amount": major_units(service.deposit_fixed_minor, currency)
            if service.deposit_fixed_minor is not None
            else "",
            "deposit_percent": service.deposit_percent,
            "buffer_before_minutes": service.buffer_before_minutes,
            "buffer_after_minutes": service.buffer_after_minutes,
            "capacity": service.capacity,
            "minimum_notice_minutes": service.minimum_notice_minutes,
            "maximum_advance_days": service.maximum_advance_days,
            "slot_interval_minutes": service.slot_interval_minutes,
            "staff": list(service.staff.values_list("pk", flat=True)),
            "resource": service.resource_id,
            "is_active": service.is_active,
            "display_order": service.display_order,
        }

    def clean_price(self) -> int:
        return _parse_amount(self.cleaned_data["price"], self.currency)

    def clean_deposit_amount(self) -> int | None:
        text = self.cleaned_data["deposit_amount"].strip()
        return _parse_amount(text, self.currency) if text else None

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("payment_mode") != PaymentMode.ONLINE_DEPOSIT:
            # Deposit inputs are hidden and ignored outside deposit mode: a leftover value there
            # must not block the form with an error the manager cannot see. (Inside clean(),
            # `errors` is the ErrorDict full_clean() is filling.)
            for name in DEPOSIT_FIELDS:
                self.errors.pop(name, None)
            return data
        kind = data.get("deposit_kind")
        if not kind:
            self.add_error("deposit_kind", "Choose how the deposit is computed.")
        elif kind == "fixed" and data.get("deposit_amount") is None:
            if "deposit_amount" not in self.errors:
                self.add_error("deposit_amount", "Enter the deposit amount.")
        elif kind == "percent" and data.get("deposit_percent") is None:
            if "deposit_percent" not in self.errors:
                self.add_error("deposit_percent", "Enter the deposit percentage.")
        return data

    def to_spec(self, *, policy: list[dict[str, int]]) -> ServiceSpec:
        data = self.cleaned_data
        deposit_mode = data["payment_mode"] == PaymentMode.ONLINE_DEPOSIT
        kind = data.get("deposit_kind") if deposit_mode else ""
        return ServiceSpec(
            name=data["name"],
            description=data["description"],
            category=data["category"].strip(),
            duration_minutes=data["duration_minutes"],
            price_minor=data["price"],
            payment_mode=data["payment_mode"],
            deposit_fixed_minor=data["deposit_amount"] if kind == "fixed" else None,
            deposit_percent=data["deposit_percent"] if kind == "percent" else None,
            buffer_before_minutes=data["buffer_before_minutes"],
            buffer_after_minutes=data["buffer_after_minutes"],
            capacity=data["capacity"],
            minimum_notice_minutes=data["minimum_notice_minutes"],
            maximum_advance_days=data["maximum_advance_days"],
            slot_interval_minutes=data["slot_interval_minutes"],
            staff_ids=tuple(member.pk for member in data["staff"]),
            resource_id=data["resource"].pk if data["resource"] else None,
            cancellation_policy=policy,
            is_active=data["is_active"],
            display_order=data["display_order"],
        )


class PolicyTierForm(forms.Form):
    hours_before = forms.IntegerField(
        label="Hours before", min_value=0, max_value=8760, required=False
    )
    refund_percent = forms.IntegerField(
        label="Refund %", min_value=0, max_value=100, required=False
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        hours, percent = data.get("hours_before"), data.get("refund_percent")
        if (hours is None) != (percent is None) and not self.errors:
            raise ValidationError("Fill in both the hours and the refund, or leave both empty.")
        return data


class BasePolicyFormSet(forms.BaseFormSet):
    """Refund tiers; empty rows are ignored. `policy` is the validated JSON snapshot."""

    def clean(self) -> None:
        if any(self.errors):
            return
        pairs = [
            (form.cleaned_data["hours_before"], form.cleaned_data["refund_percent"])
            for form in self.forms
            if form.cleaned_data.get("hours_before") is not None
        ]
        try:
            self.policy = CancellationPolicy.from_pairs(pairs).to_json()
        except InvalidPolicy as error:
            raise ValidationError(str(error))


# django-stubs types formset_factory() as returning BaseFormSet, not the subclass of `formset`
# that it builds.
PolicyFormSet: type[BasePolicyFormSet] = formset_factory(  # type: ignore[assignment]
    PolicyTierForm, formset=BasePolicyFormSet, extra=2, max_num=10, validate_max=True
)


# --- staff -----------------------------------------------------------------------------------
def _time_zone_choices(business_zone: str) -> list[tuple[str, str]]:
    zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [("", f"The business's ({business_zone})")] + [(zone, zone) for zone in zones]


class UserChoiceField(forms.ModelChoiceField):
    """A team member's account, shown with its email so two people of one name differ."""

    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name} ({obj.email})"


class StaffForm(forms.Form):
    display_name = forms.CharField(max_length=120)
    user = UserChoiceField(
        label="Team member's account",
        queryset=StaffMember.objects.none(),
        required=False,
        empty_label="Not linked",
        help_text="Lets this person sign in and see their own calendar.",
    )
    services = forms.ModelMultipleChoiceField(
        label="Services offered",
        queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    colour = forms.CharField(
        max_length=7,
        initial="#2f5d50",
        widget=forms.TextInput(attrs={"type": "color"}),
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Choose a colour such as #2f5d50.")],
    )
    time_zone = forms.ChoiceField(required=False)
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    display_order = forms.IntegerField(min_value=0, max_value=100000, initial=0)

    def __init__(self, *args, tenant_id: int, business_zone: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user = self.fields["user"]
        assert isinstance(user, forms.ModelChoiceField)
        user.queryset = linkable_users(tenant_id=tenant_id)
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = Service.objects.order_by("display_order", "name")
        time_zone = self.fields["time_zone"]
        assert isinstance(time_zone, forms.ChoiceField)
        time_zone.choices = _time_zone_choices(business_zone)

    @classmethod
    def initial_for(cls, staff: StaffMember) -> dict:
        return {
            "display_name": staff.display_name,
            "user": staff.user_id,
            "services": list(staff.services.values_list("pk", flat=True)),
            "colour": staff.colour,
            "time_zone": staff.time_zone,
            "is_active": staff.is_active,
            "display_order": staff.display_order,
        }

    def to_spec(self) -> StaffSpec:
        data = self.cleaned_data
        return StaffSpec(
            display_name=data["display_name"],
            user_id=data["user"].pk if data["user"] else None,
            service_ids=tuple(service.pk for service in data["services"]),
            colour=data["colour"].lower(),
            time_zone=data["time_zone"],
            is_active=data["is_active"],
            display_order=data["display_order"],
        )


class WorkingIntervalForm(forms.Form):
    # Short day names keep a row (day, from, to) on one line of a phone.
    weekday = forms.TypedChoiceField(
        choices=[(day, name[:3]) for day, name in WEEKDAY_CHOICES], coerce=int
    )
    start = forms.TimeField(widget=TimeInput(), required=False)
    end = forms.TimeField(widget=TimeInput(), required=False, help_text="00:00 = midnight")

    def clean(self) -> dict:
        data = super().clean() or {}
        if (data.get("start") is None) != (data.get("end") is None) and not self.errors:
            raise ValidationError("Give a start and an end, or leave both empty.")
        return data


class BaseWorkingHoursFormSet(forms.BaseFormSet):
    def intervals(self) -> list[tuple[int, time, time]]:
        # WorkingIntervalForm.clean() refuses a start without an end.
        return [
            (form.cleaned_data["weekday"], form.cleaned_data["start"], form.cleaned_data["end"])
            for form in self.forms
            if form.cleaned_data.get("start") is not None
        ]


WorkingHoursFormSet: type[BaseWorkingHoursFormSet] = formset_factory(  # type: ignore[assignment]
    WorkingIntervalForm, formset=BaseWorkingHoursFormSet, extra=3, max_num=70, validate_max=True
)  # (same stub gap as PolicyFormSet)


class DateOverrideForm(forms.Form):
    date = forms.DateField(widget=DateInput())
    start = forms.TimeField(widget=TimeInput(), required=False)
    end = forms.TimeField(widget=TimeInput(), required=False)
    note = forms.CharField(max_length=200, required=False)


class HolidayForm(forms.Form):
    first_day = forms.DateField(label="From", widget=DateInput())
    last_day = forms.DateField(
        label="To (included)", widget=DateInput(), required=False, help_text="Empty: one day."
    )
    note = forms.CharField(max_length=200, required=False, help_text="For example: Christmas.")


def _in_zone(value: datetime, zone: ZoneInfo) -> datetime:
    """A wall time typed by a manager, in the business's zone, as an aware instant."""
    # Django made it aware in the current time zone; take the wall time back out of it.
    wall = timezone.make_naive(value) if timezone.is_aware(value) else value
    aware = wall.replace(tzinfo=zone)
    try:
        round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise ValidationError("Enter a date between the years 1 and 9999.")
    if round_trip != wall:
        raise ValidationError(
            f"{wall:%d %b %Y %H:%M} does not exist in {zone.key}: the clocks change that night."
        )
    return aware  # a repeated wall time (clocks going back) means its first occurrence


class TimeOffForm(forms.Form):
    starts_at = forms.DateTimeField(label="From", widget=DateTimeInput())
    ends_at = forms.DateTimeField(label="Until", widget=DateTimeInput())
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, zone: ZoneInfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_starts_at(self) -> datetime:
        return _in_zone(self.cleaned_data["starts_at"], self.zone)

    def clean_ends_at(self) -> datetime:
        return _in_zone(self.cleaned_data["ends_at"], self.zone)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The end must be after the start.")
        return data


# --- resources, group sessions, settings ----------------------------------------------------
class ResourceForm(forms.Form):
    name = forms.CharField(max_length=120)
    quantity = forms.IntegerField(
        min_value=1, max_value=10000, initial=1, help_text="How many can be used at once."
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)


class GroupScheduleForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), help_text="Services with a capacity above 1."
    )
    staff = forms.ModelChoiceField(label="Teacher", queryset=StaffMember.objects.none())
    weekday = forms.TypedChoiceField(label="Every", choices=WEEKDAY_CHOICES, coerce=int)
    start_time = forms.TimeField(label="At", widget=TimeInput())
    first_date = forms.DateField(label="Starting from", widget=DateInput())
    weeks = forms.IntegerField(label="For (weeks)", min_value=1, max_value=104, initial=10)
    capacity = forms.IntegerField(
        min_value=1, max_value=1000, required=False, help_text="Empty: the service's capacity."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        service = self.fields["service"]
        assert isinstance(service, forms.ModelChoiceField)
        service.queryset = group_services()
        staff = self.fields["staff"]
        assert isinstance(staff, forms.ModelChoiceField)
        staff.queryset = StaffMember.objects.filter(is_active=True)


class SchedulingSettingsForm(forms.Form):
    hold_minutes = forms.IntegerField(
        label="Hold a slot while the customer pays (minutes)", min_value=2, max_value=60
    )
    reference_prefix = forms.CharField(
        label="Booking reference prefix",
        max_length=4,
        required=False,
        validators=[RegexValidator(r"^[A-Za-z0-9]*$", "Letters and digits only.")],
        help_text="Up to 4 letters or digits (ZEN → ZEN-7K2Q). Empty: taken from your address.",
    )
    require_phone = forms.BooleanField(label="Ask customers for a phone number", required=False)
