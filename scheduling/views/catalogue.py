"""Managers' catalogue pages: services, staff and their hours, holidays, resources, group
sessions and booking settings. Thin views: forms parse, `scheduling.services` decides and writes.

Every page needs Permission.MANAGE_CATALOGUE (owners and managers). An invalid submission
re-renders the form with its errors and status 400; nothing is written.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.money import Money, format_money
from scheduling.cancellation_policy import CancellationPolicy, describe
from scheduling.forms.card_fees import BusinessCardFeesForm, ServiceCardFeesForm
from scheduling.forms.catalogue import (
    DateOverrideForm,
    GroupScheduleForm,
    HolidayForm,
    PolicyFormSet,
    ResourceForm,
    SchedulingSettingsForm,
    ServiceForm,
    StaffForm,
    TimeOffForm,
    WorkingHoursFormSet,
    add_service_errors,
)
from scheduling.models import (
    ACTIVE_STATUSES,
    Booking,
    DateOverride,
    Occurrence,
    PaymentMode,
    Resource,
    Service,
    StaffMember,
    TimeOff,
)
from scheduling.selectors.catalogue import (
    bookings_during,
    holidays_from,
    resources_for_catalogue,
    services_for_catalogue,
    staff_for_catalogue,
    staff_overrides_from,
    upcoming_occurrences,
    weekly_hours_summary,
)
from scheduling.services import catalogue as catalogue_services
from scheduling.services.card_fee_settings import (
    business_card_fees_update,
    service_card_fees_update,
)
from tenants.access import member_required
from tenants.forms import TimeZoneForm
from tenants.http import MemberRequest, TenantRequest
from tenants.roles import Permission
from tenants.services import tenant_time_zone_change
from tenants.time_zones import all_time_zones, country_zones

manager_required = member_required(Permission.MANAGE_CATALOGUE)
TEMPLATES = "scheduling/catalogue/"


def _render(request: MemberRequest, template: str, context: dict, *, invalid: bool = False):
    return render(request, TEMPLATES + template, context, status=400 if invalid else 200)


def _posted(request: MemberRequest):
    """The submitted data, or None on GET (an empty POST still binds the form and shows why)."""
    return request.POST if request.method == "POST" else None


def _zone(request: TenantRequest) -> ZoneInfo:
    return ZoneInfo(request.tenant.time_zone or "UTC")


# --- services -----------------------------------------------------------------------------
def _price_label(service: Service, currency: str) -> str:
    if service.payment_mode == PaymentMode.FREE:
        return "Free"
    price = format_money(Money(service.price_minor, currency))
    if service.payment_mode == PaymentMode.ONLINE_DEPOSIT:
        if service.deposit_fixed_minor is not None:
            deposit = format_money(Money(service.deposit_fixed_minor, currency))
        else:
            deposit = f"{service.deposit_percent}%"
        return f"{price} · deposit {deposit}"
    if service.payment_mode == PaymentMode.PAY_AT_VENUE:
        return f"{price} · at the venue"
    return price


@manager_required
def service_list(request: MemberRequest) -> HttpResponse:
    currency = request.tenant.currency
    rows = [(service, _price_label(service, currency)) for service in services_for_catalogue()]
    return _render(request, "service_list.html", {"rows": rows})


@manager_required
def service_create(request: MemberRequest) -> HttpResponse:
    return _service_form(request, service=None)


@manager_required
def service_edit(request: MemberRequest, pk: int) -> HttpResponse:
    return _service_form(request, service=get_object_or_404(Service, pk=pk))


def _service_form(request: MemberRequest, *, service: Service | None) -> HttpResponse:
    currency = request.tenant.currency
    if request.method == "POST":
        form = ServiceForm(request.POST, currency=currency, service=service)
        policy_formset = PolicyFormSet(request.POST, prefix="policy")
        fees_form = ServiceCardFeesForm(request.POST, currency=currency, prefix="fees")
        if form.is_valid() and policy_formset.is_valid() and fees_form.is_valid():
            spec = form.to_spec(policy=policy_formset.policy)
            try:
                with transaction.atomic():  # the service and its fees, or neither
                    if service is None:
                        service = catalogue_services.service_create(spec=spec)
                        done = f"{service.name} was added."
                    else:
                        catalogue_services.service_update(service=service, spec=spec)
                        done = f"{service.name} was saved."
                    try:
                        service_card_fees_update(
                            service=service,
                            card_on_file=fees_form.cleaned_data["card_on_file"],
                            fees=fees_form.fees(),
                        )
                    except ValidationError as error:
                        add_service_errors(fees_form, error)
                        raise
                messages.success(request, done)
                return redirect("catalogue_services")
            except ValidationError as error:
                if not fees_form.errors:
                    add_service_errors(form, error)
                if (
                    service is not None
                    and service.pk
                    and not Service.objects.filter(pk=service.pk).exists()
                ):
                    service = None  # the creation was rolled back with the fees
        invalid = True
    else:
        initial = ServiceForm.initial_for(service, currency) if service else None
        form = ServiceForm(initial=initial, currency=currency, service=service)
        fees_form = ServiceCardFeesForm(
            initial={
                "card_on_file": service.card_on_file,
                **ServiceCardFeesForm.initial_fees(service, currency),
            }
            if service
            else None,
            currency=currency,
            prefix="fees",
        )
        tiers = service.cancellation_policy if service else []
        policy_formset = PolicyFormSet(initial=tiers, prefix="policy")
        invalid = False
    policy_text = ""
    if service is not None and service.cancellation_policy:
        policy_text = describe(CancellationPolicy.from_json(service.cancellation_policy))
    return _render(
        request,
        "service_form.html",
        {
            "form": form,
            "fees_form": fees_form,
            "policy_formset": policy_formset,
            "service": service,
            "policy_text": policy_text,
        },
        invalid=invalid,
    )


@manager_required
@require_POST
def service_delete(request: MemberRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    if catalogue_services.service_delete_or_deactivate(service=service):
        messages.success(request, f"{service.name} was deleted.")
    else:
        messages.success(
            request,
            f"{service.name} has bookings or sessions, so it was deactivated instead of deleted: "
            "customers can no longer book it and its history is kept.",
        )
    return redirect("catalogue_services")


# --- staff ----------------------------------------------------------------------------------
@manager_required
def staff_list(request: MemberRequest) -> HttpResponse:
    hours = weekly_hours_summary()
    rows = [(member, hours.get(member.pk, [])) for member in staff_for_catalogue()]
    return _render(request, "staff_list.html", {"rows": rows})


@manager_required
def staff_create(request: MemberRequest) -> HttpResponse:
    return _staff_form(request, staff=None)


@manager_required
def staff_edit(request: MemberRequest, pk: int) -> HttpResponse:
    return _staff_form(request, staff=get_object_or_404(StaffMember, pk=pk))


def _staff_form(request: MemberRequest, *, staff: StaffMember | None) -> HttpResponse:
    options = {"tenant_id": request.tenant.pk, "business_zone": request.tenant.time_zone}
    invalid = False
    if request.method == "POST":
        form = StaffForm(request.POST, **options)
        if form.is_valid():
            try:
                if staff is None:
                    staff = catalogue_services.staff_create(
                        spec=form.to_spec(), tenant_id=request.tenant.pk
                    )
                    messages.success(request, f"{staff.display_name} was added: set their hours.")
                    return redirect("catalogue_staff_hours", pk=staff.pk)
                catalogue_services.staff_update(
                    staff=staff, spec=form.to_spec(), tenant_id=request.tenant.pk
                )
                messages.success(request, f"{staff.display_name} was saved.")
                return redirect("catalogue_staff")
            except ValidationError as error:
                add_service_errors(form, error)
        invalid = True
    else:
        form = StaffForm(initial=StaffForm.initial_for(staff) if staff else None, **options)
    return _render(request, "staff_form.html", {"form": form, "staff": staff}, invalid=invalid)


@manager_required
def staff_hours(request: MemberRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffMember, pk=pk)
    problems: list[str] = []
    if request.method == "POST":
        formset = WorkingHoursFormSet(request.POST, prefix="hours")
        if formset.is_valid():
            try:
                catalogue_services.working_hours_replace(staff=staff, intervals=formset.intervals())
                messages.success(request, f"Working hours of {staff.display_name} were saved.")
                return redirect("catalogue_staff_hours", pk=staff.pk)
            except ValidationError as error:
                problems = error.messages
    else:
        initial = [
            {"weekday": row.weekday, "start": row.start, "end": row.end}
            for row in staff.working_hours.order_by("weekday", "start")
        ]
        # A new staff member starts with one row per day of the week, times to fill in.
        initial = initial or [{"weekday": day} for day in range(7)]
        formset = WorkingHoursFormSet(initial=initial, prefix="hours")
    return _render(
        request,
        "staff_hours.html",
        {"staff": staff, "formset": formset, "problems": problems},
        invalid=request.method == "POST",
    )


@manager_required
def staff_overrides(request: MemberRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffMember, pk=pk)
    form = DateOverrideForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            catalogue_services.date_override_create(
                staff=staff, day=data["date"], start=data["start"], end=data["end"],
                note=data["note"],
            )  # fmt: skip
            messages.success(request, f"{data['date']:%d %b %Y} was saved.")
            return redirect("catalogue_staff_overrides", pk=staff.pk)
        except ValidationError as error:
            add_service_errors(form, error)
    today = timezone.now().astimezone(_zone(request)).date()
    return _render(
        request,
        "staff_overrides.html",
        {"staff": staff, "form": form, "overrides": staff_overrides_from(
            staff=staff, day=today)},
        invalid=request.method == "POST",
    )  # fmt: skip


@manager_required
@require_POST
def staff_override_delete(request: MemberRequest, pk: int, override_pk: int) -> HttpResponse:
    override = get_object_or_404(DateOverride, pk=override_pk, staff_id=pk)
    catalogue_services.date_override_delete(override=override)
    messages.success(request, f"{override.date:%d %b %Y} was removed.")
    return redirect("catalogue_staff_overrides", pk=pk)


@manager_required
def staff_time_off(request: MemberRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffMember, pk=pk)
    zone = _zone(request)
    form = TimeOffForm(_posted(request), zone=zone)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            catalogue_services.time_off_create(
                staff=staff, starts_at=data["starts_at"], ends_at=data["ends_at"],
                reason=data["reason"],
            )  # fmt: skip
            messages.success(request, f"Time off of {staff.display_name} was saved.")
            clashing = bookings_during(staff=staff, start=data["starts_at"], end=data["ends_at"])
            if clashing:
                messages.warning(
                    request,
                    f"{clashing} booking(s) of {staff.display_name} fall in this period: move "
                    "or cancel them from the calendar.",
                )
            return redirect("catalogue_staff_time_off", pk=staff.pk)
        except ValidationError as error:
            add_service_errors(form, error)
    upcoming = staff.time_off.filter(ends_at__gt=timezone.now() - timedelta(days=30))
    return _render(
        request,
        "staff_time_off.html",
        {"staff": staff, "form": form, "time_off": upcoming, "zone": zone.key},
        invalid=request.method == "POST",
    )


@manager_required
@require_POST
def staff_time_off_delete(request: MemberRequest, pk: int, time_off_pk: int) -> HttpResponse:
    time_off = get_object_or_404(TimeOff, pk=time_off_pk, staff_id=pk)
    catalogue_services.time_off_delete(time_off=time_off)
    messages.success(request, "The time off was removed.")
    return redirect("catalogue_staff_time_off", pk=pk)


# --- holidays -------------------------------------------------------------------------------
@manager_required
def holiday_list(request: MemberRequest) -> HttpResponse:
    form = HolidayForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = catalogue_services.holidays_create(
                first_day=data["first_day"], last_day=data["last_day"] or data["first_day"],
                note=data["note"],
            )  # fmt: skip
            if created:
                messages.success(request, f"{len(created)} closed day(s) added.")
            else:
                messages.info(request, "These days were already closed.")
            return redirect("catalogue_holidays")
        except ValidationError as error:
            add_service_errors(form, error)
    today = timezone.now().astimezone(_zone(request)).date()
    return _render(
        request,
        "holidays.html",
        {"form": form, "holidays": holidays_from(day=today)},
        invalid=request.method == "POST",
    )


@manager_required
@require_POST
def holiday_delete(request: MemberRequest, pk: int) -> HttpResponse:
    holiday = get_object_or_404(DateOverride, pk=pk, staff__isnull=True)
    catalogue_services.date_override_delete(override=holiday)
    messages.success(request, f"{holiday.date:%d %b %Y} is a working day again.")
    return redirect("catalogue_holidays")


# --- resources ------------------------------------------------------------------------------
@manager_required
def resource_list(request: MemberRequest) -> HttpResponse:
    return _render(request, "resource_list.html", {"resources": resources_for_catalogue()})


@manager_required
def resource_create(request: MemberRequest) -> HttpResponse:
    return _resource_form(request, resource=None)


@manager_required
def resource_edit(request: MemberRequest, pk: int) -> HttpResponse:
    return _resource_form(request, resource=get_object_or_404(Resource, pk=pk))


def _resource_form(request: MemberRequest, *, resource: Resource | None) -> HttpResponse:
    initial = (
        {"name": resource.name, "quantity": resource.quantity, "is_active": resource.is_active}
        if resource
        else None
    )
    form = ResourceForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if resource is None:
                resource = catalogue_services.resource_create(**data)
            else:
                catalogue_services.resource_update(resource=resource, **data)
            messages.success(request, f"{resource.name} was saved.")
            return redirect("catalogue_resources")
        except ValidationError as error:
            add_service_errors(form, error)
    return _render(
        request,
        "resource_form.html",
        {"form": form, "resource": resource},
        invalid=request.method == "POST",
    )


@manager_required
@require_POST
def resource_delete(request: MemberRequest, pk: int) -> HttpResponse:
    resource = get_object_or_404(Resource, pk=pk)
    try:
        catalogue_services.resource_delete(resource=resource)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("catalogue_resource_edit", pk=resource.pk)
    messages.success(request, f"{resource.name} was deleted.")
    return redirect("catalogue_resources")


# --- group sessions -------------------------------------------------------------------------
@manager_required
def group_sessions(request: MemberRequest) -> HttpResponse:
    form = GroupScheduleForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = catalogue_services.group_schedule_create(
                service=data["service"],
                staff=data["staff"],
                weekday=data["weekday"],
                start_time=data["start_time"],
                first_date=data["first_date"],
                weeks=data["weeks"],
                capacity=data["capacity"] or data["service"].capacity,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{len(result.created)} session(s) created.")
            for skipped in result.skipped:
                messages.warning(
                    request, f"Not created on {skipped.day:%d %b %Y}: {skipped.reason}."
                )
            return redirect("catalogue_group_sessions")
    return _render(
        request,
        "group_sessions.html",
        {
            "form": form,
            "rows": upcoming_occurrences(now=timezone.now()),
            "zone": _zone(request).key,
        },
        invalid=request.method == "POST",
    )


@manager_required
@require_POST
def occurrence_cancel(request: MemberRequest, pk: int) -> HttpResponse:
    occurrence = get_object_or_404(Occurrence, pk=pk)
    try:
        catalogue_services.occurrence_cancel(occurrence=occurrence)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The session was cancelled.")
    return redirect("catalogue_group_sessions")


@manager_required
@require_POST
def occurrence_capacity(request: MemberRequest, pk: int) -> HttpResponse:
    occurrence = get_object_or_404(Occurrence, pk=pk)
    try:
        capacity = int(request.POST.get("capacity", ""))
    except ValueError:
        messages.error(request, _("Give the number of seats."))
        return redirect("catalogue_group_sessions")
    try:
        catalogue_services.occurrence_capacity_set(occurrence=occurrence, capacity=capacity)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The session has %(seats)d seats.") % {"seats": capacity})
    return redirect("catalogue_group_sessions")


# --- booking settings -----------------------------------------------------------------------
@manager_required
def booking_settings(request: MemberRequest) -> HttpResponse:
    current = catalogue_services.scheduling_settings()
    initial = {
        "hold_minutes": current.hold_minutes,
        "reference_prefix": current.reference_prefix,
        "require_phone": current.require_phone,
    }
    form = SchedulingSettingsForm(_posted(request), initial=initial)
    currency = request.tenant.currency
    fees_form = BusinessCardFeesForm(
        _posted(request),
        initial={
            "card_on_file_required": current.card_on_file_required,
            **BusinessCardFeesForm.initial_fees(current, currency),
        },
        currency=currency,
        prefix="fees",
    )
    if request.method == "POST" and form.is_valid() and fees_form.is_valid():
        try:
            with transaction.atomic():
                catalogue_services.scheduling_settings_update(**form.cleaned_data)
                try:
                    business_card_fees_update(
                        required=fees_form.cleaned_data["card_on_file_required"],
                        fees=fees_form.fees(),
                    )
                except ValidationError as error:
                    add_service_errors(fees_form, error)
                    raise
            messages.success(request, "Booking settings were saved.")
            return redirect("catalogue_booking_settings")
        except ValidationError as error:
            if not fees_form.errors:
                add_service_errors(form, error)
    return _render(
        request,
        "booking_settings.html",
        {"form": form, "fees_form": fees_form},
        invalid=request.method == "POST",
    )


@manager_required
def business_time_zone(request: MemberRequest) -> HttpResponse:
    """Change the business's time zone, saying first what it does to the bookings to come."""
    tenant = request.tenant
    now = timezone.now()
    upcoming = Booking.objects.filter(status__in=ACTIVE_STATUSES, starts_at__gte=now)
    next_booking = upcoming.order_by("starts_at").first()
    form = TimeZoneForm(_posted(request), initial={"time_zone": tenant.time_zone},
                        country=tenant.country, current=tenant.time_zone,
                        upcoming=upcoming.count())  # fmt: skip
    if request.method == "POST" and form.is_valid():
        zone = form.cleaned_data["time_zone"]
        if tenant_time_zone_change(tenant=tenant, time_zone=zone, actor=request.user,
                                   ip_address=request.META.get("REMOTE_ADDR")):  # fmt: skip
            messages.success(request, f"The business's time zone is now {zone}.")
        return redirect("catalogue_time_zone")
    proposed = form.data.get("time_zone") if form.is_bound else ""
    example = None
    if next_booking is not None and proposed in all_time_zones() and proposed != tenant.time_zone:
        example = {
            "before": next_booking.starts_at.astimezone(ZoneInfo(tenant.time_zone)),
            "after": next_booking.starts_at.astimezone(ZoneInfo(proposed)),
            "zone": proposed,
        }
    return _render(
        request, "time_zone.html",
        {"form": form, "current": tenant.time_zone, "upcoming": form.upcoming,
         "example": example, "time_zones": all_time_zones(),
         "suggested": country_zones(tenant.country)},
        invalid=request.method == "POST",
    )  # fmt: skip
