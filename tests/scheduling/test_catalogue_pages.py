"""Managers' catalogue pages: services, staff and hours, holidays, resources, group sessions and
booking settings, through the real views and forms against PostgreSQL (tenant alpha, EUR,
Europe/Paris)."""

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from scheduling.models import (
    DateOverride,
    GroupSchedule,
    Occurrence,
    Resource,
    SchedulingSettings,
    Service,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from scheduling.selectors.availability import scheduling_calendar
from scheduling.services.bookings import booking_hold, booking_take_seat, scheduling_settings
from scheduling.services.catalogue import group_schedule_create
from tenants.models import Tenant
from tests.factories import make_member, member_client

from .conftest import NOW, PARIS, build_catalogue, paris


@pytest.fixture
def manager_client(alpha_schema):
    return member_client(alpha_schema, make_member(alpha_schema, "manager"))


def service_data(tiers=(("24", "50"), ("48", "100"), ("", "")), **overrides) -> dict:
    """A complete service form submission: 45.50 with a 10.00 deposit and a two-tier policy."""
    data = {
        "name": "Cut and colour",
        "description": "",
        "category": "Hair",
        "duration_minutes": "45",
        "price": "45.50",
        "payment_mode": "online_deposit",
        "deposit_kind": "fixed",
        "deposit_amount": "10",
        "deposit_percent": "",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "10",
        "capacity": "1",
        "minimum_notice_minutes": "120",
        "maximum_advance_days": "60",
        "slot_interval_minutes": "15",
        "resource": "",
        "is_active": "on",
        "display_order": "3",
        "policy-TOTAL_FORMS": str(len(tiers)),
        "policy-INITIAL_FORMS": "0",
        "policy-MIN_NUM_FORMS": "0",
        "policy-MAX_NUM_FORMS": "10",
    }
    for index, (hours, percent) in enumerate(tiers):
        data[f"policy-{index}-hours_before"] = hours
        data[f"policy-{index}-refund_percent"] = percent
    data.update(overrides)
    return data


def hours_data(rows: list[tuple[int, str, str]]) -> dict:
    data = {
        "hours-TOTAL_FORMS": str(len(rows)),
        "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "70",
    }
    for index, (weekday, start, end) in enumerate(rows):
        data[f"hours-{index}-weekday"] = str(weekday)
        data[f"hours-{index}-start"] = start
        data[f"hours-{index}-end"] = end
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- services -----------------------------------------------------------------------------------
def test_manager_creates_a_service_with_a_deposit_and_a_policy(manager_client):
    ada = StaffMember.objects.create(display_name="Ada")
    response = manager_client.post("/services/new/", service_data(staff=[str(ada.pk)]))
    assert response.status_code == 302
    service = Service.objects.get(name="Cut and colour")
    assert service.price_minor == 4550
    assert service.payment_mode == "online_deposit"
    assert (service.deposit_fixed_minor, service.deposit_percent) == (1000, None)
    assert service.cancellation_policy == [
        {"hours_before": 48, "refund_percent": 100},
        {"hours_before": 24, "refund_percent": 50},
    ]
    assert list(service.staff.all()) == [ada]
    assert (service.buffer_after_minutes, service.minimum_notice_minutes) == (10, 120)
    assert (service.maximum_advance_days, service.display_order) == (60, 3)


def test_manager_edits_a_service_price_and_switches_to_a_percentage_deposit(manager_client):
    manager_client.post("/services/new/", service_data())
    service = Service.objects.get()
    page = manager_client.get(f"/services/{service.pk}/")
    assert page.status_code == 200
    assert b'value="45.50"' in page.content and b'value="10.00"' in page.content
    response = manager_client.post(
        f"/services/{service.pk}/",
        service_data(
            tiers=[("", ""), ("48", "100")],
            price="60",
            deposit_kind="percent",
            deposit_amount="",
            deposit_percent="30",
        ),
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.price_minor == 6000
    assert (service.deposit_fixed_minor, service.deposit_percent) == (None, 30)
    assert service.cancellation_policy == [{"hours_before": 48, "refund_percent": 100}]


def test_a_free_service_ignores_leftover_deposit_inputs(manager_client):
    data = service_data(payment_mode="free", price="0", deposit_amount="abc", deposit_percent="150")
    assert manager_client.post("/services/new/", data).status_code == 302
    service = Service.objects.get()
    assert (service.payment_mode, service.price_minor) == ("free", 0)
    assert (service.deposit_fixed_minor, service.deposit_percent) == (None, None)


def test_price_typed_with_a_decimal_comma_is_read_as_decimals(manager_client):
    assert manager_client.post("/services/new/", service_data(price="45,50")).status_code == 302
    assert Service.objects.get().price_minor == 4550


def test_prices_of_a_yen_business_have_no_minor_unit(manager_client, alpha_schema):
    Tenant.objects.filter(pk=alpha_schema.pk).update(currency="JPY")
    refused = manager_client.post("/services/new/", service_data(price="4500.50"))
    assert refused.status_code == 400
    assert "JPY amounts cannot have decimals." in refused.context["form"].errors["price"]
    assert not Service.objects.exists()
    response = manager_client.post(
        "/services/new/", service_data(price="4500", deposit_amount="1000")
    )
    assert response.status_code == 302
    service = Service.objects.get()
    assert (service.price_minor, service.deposit_fixed_minor) == (4500, 1000)
    assert b'value="4500"' in manager_client.get(f"/services/{service.pk}/").content


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"deposit_kind": ""}, "deposit_kind", "Choose how the deposit is computed."),
        ({"deposit_amount": ""}, "deposit_amount", "Enter the deposit amount."),
        ({"deposit_amount": "45.50"}, "deposit_amount", "less than the price"),
        ({"deposit_kind": "percent", "deposit_percent": ""}, "deposit_percent", "percentage"),
        ({"duration_minutes": "0"}, "duration_minutes", "greater than or equal to 5"),
        ({"duration_minutes": "-30"}, "duration_minutes", "greater than or equal to 5"),
        ({"price": "-5"}, "price", "digits and at most one dot"),
        ({"price": "12.345"}, "price", "at most 2 decimals"),
        ({"payment_mode": "free"}, "price", "A free service has a price of 0."),
        ({"payment_mode": "online_full", "price": "0"}, "price", "needs a price"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_invalid_service_is_refused_with_a_form_error_and_nothing_saved(
    manager_client, overrides, field, message
):
    response = manager_client.post("/services/new/", service_data(**overrides))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "tiers, message",
    [
        ([("48", "50"), ("24", "100")], "cannot refund more than"),
        ([("24", "100"), ("24", "50")], "same number of hours"),
        ([("24", "")], "Fill in both"),
        ([("24", "150")], "less than or equal to 100"),
        ([("-1", "10")], "greater than or equal to 0"),
    ],
)
def test_bad_policy_tiers_are_refused_and_nothing_saved(manager_client, tiers, message):
    response = manager_client.post("/services/new/", service_data(tiers=tiers))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Service.objects.exists()


def test_a_service_with_bookings_is_deactivated_not_deleted(manager_client, customer):
    catalogue = build_catalogue()
    booked = catalogue["service"]
    booking_hold(service=booked, starts_at=paris(2030, 6, 4, 10), customer=customer, now=NOW)
    unused = Service.objects.create(name="Unused", duration_minutes=30)
    response = manager_client.post(f"/services/{booked.pk}/delete/", follow=True)
    assert "deactivated instead of deleted" in " ".join(messages_of(response))
    booked.refresh_from_db()
    assert booked.is_active is False
    assert manager_client.post(f"/services/{unused.pk}/delete/").status_code == 302
    assert not Service.objects.filter(pk=unused.pk).exists()
    listing = manager_client.get("/services/")
    assert b"Massage" in listing.content and b"Inactive" in listing.content


# --- staff and hours ----------------------------------------------------------------------------
def test_staff_member_linked_to_a_member_of_this_business_only(
    manager_client, alpha_schema, tenant_beta
):
    colleague = make_member(alpha_schema, "staff", name="Cleo Colleague")
    outsider = make_member(tenant_beta, "staff", name="Otto Outsider")
    service = Service.objects.create(name="Massage", duration_minutes=60)
    base = {
        "display_name": "Cleo",
        "colour": "#aa3366",
        "time_zone": "",
        "is_active": "on",
        "display_order": "1",
        "services": [str(service.pk)],
    }
    refused = manager_client.post("/staff/new/", {**base, "user": str(outsider.pk)})
    assert refused.status_code == 400 and "user" in refused.context["form"].errors
    bad_zone = manager_client.post("/staff/new/", {**base, "time_zone": "Mars/Olympus"})
    assert bad_zone.status_code == 400 and "time_zone" in bad_zone.context["form"].errors
    assert not StaffMember.objects.exists()
    response = manager_client.post(
        "/staff/new/", {**base, "user": str(colleague.pk), "time_zone": "Europe/London"}
    )
    assert response.status_code == 302
    staff = StaffMember.objects.get()
    assert (staff.user_id, staff.time_zone, staff.colour) == (
        colleague.pk,
        "Europe/London",
        "#aa3366",
    )
    assert list(staff.services.all()) == [service]
    # A second profile cannot take the same account.
    again = manager_client.post("/staff/new/", {**base, "user": str(colleague.pk)})
    assert again.status_code == 400
    assert "already linked" in " ".join(again.context["form"].errors["user"])


def test_working_hours_with_two_intervals_a_day_are_saved_as_a_whole(manager_client):
    staff = StaffMember.objects.create(display_name="Ada")
    WorkingHours.objects.create(staff=staff, weekday=5, start=time(9), end=time(12))
    response = manager_client.post(
        f"/staff/{staff.pk}/hours/",
        hours_data(
            [(0, "09:00", "12:00"), (0, "13:00", "18:00"), (1, "10:00", "00:00"), (2, "", "")]
        ),
    )
    assert response.status_code == 302
    assert list(staff.working_hours.values_list("weekday", "start", "end")) == [
        (0, time(9), time(12)),
        (0, time(13), time(18)),
        (1, time(10), time(0)),  # until midnight
    ]
    page = manager_client.get(f"/staff/{staff.pk}/hours/")
    assert page.status_code == 200 and b'value="13:00"' in page.content
    listing = manager_client.get("/staff/").content.decode()
    assert "Mon 09:00–12:00, 13:00–18:00" in listing and "Tue 10:00–24:00" in listing
    assert "Sat" not in listing  # the old Saturday interval went with the rest of the week


def test_a_new_staff_member_is_offered_one_row_per_day_and_empty_rows_save_nothing(
    manager_client,
):
    response = manager_client.post(
        "/staff/new/", {"display_name": "Dana", "colour": "#336699", "display_order": "0"}
    )
    staff = StaffMember.objects.get(display_name="Dana")
    assert response["Location"] == f"/staff/{staff.pk}/hours/"
    formset = manager_client.get(response["Location"]).context["formset"]
    assert [form.initial.get("weekday") for form in formset.forms[:7]] == list(range(7))
    rows = [(day, "", "") for day in range(7)]
    rows[2] = (2, "10:00", "19:00")
    assert manager_client.post(f"/staff/{staff.pk}/hours/", hours_data(rows)).status_code == 302
    assert list(staff.working_hours.values_list("weekday", "start", "end")) == [
        (2, time(10), time(19))
    ]
    assert staff.is_active is False  # the box was left unticked


@pytest.mark.parametrize(
    "rows, message",
    [
        ([(0, "09:00", "12:00"), (0, "11:00", "14:00")], "overlap"),
        ([(0, "09:00", "12:00"), (3, "18:00", "09:00")], "ends before it starts"),
        ([(0, "09:00", "")], "Give a start and an end"),
    ],
)
def test_bad_working_hours_are_refused_and_the_week_is_unchanged(manager_client, rows, message):
    staff = StaffMember.objects.create(display_name="Ada")
    WorkingHours.objects.create(staff=staff, weekday=4, start=time(8), end=time(16))
    response = manager_client.post(f"/staff/{staff.pk}/hours/", hours_data(rows))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(staff.working_hours.values_list("weekday", "start", "end")) == [
        (4, time(8), time(16))
    ]


@pytest.mark.parametrize(
    "typed_start, typed_end, utc_start, utc_end",
    [
        (
            "2030-07-01T09:00",
            "2030-07-01T13:30",
            datetime(2030, 7, 1, 7, tzinfo=UTC),
            datetime(2030, 7, 1, 11, 30, tzinfo=UTC),
        ),  # summer: UTC+2
        (
            "2030-01-14T09:00",
            "2030-01-18T18:00",
            datetime(2030, 1, 14, 8, tzinfo=UTC),
            datetime(2030, 1, 18, 17, tzinfo=UTC),
        ),  # winter: UTC+1
    ],
)
def test_time_off_typed_in_local_time_is_stored_in_utc(
    manager_client, typed_start, typed_end, utc_start, utc_end
):
    staff = StaffMember.objects.create(display_name="Ada")
    response = manager_client.post(
        f"/staff/{staff.pk}/time-off/",
        {"starts_at": typed_start, "ends_at": typed_end, "reason": "Dentist"},
    )
    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert (time_off.starts_at, time_off.ends_at, time_off.reason) == (
        utc_start,
        utc_end,
        "Dentist",
    )
    page = manager_client.get(f"/staff/{staff.pk}/time-off/")
    assert typed_start[-5:] in page.content.decode()  # shown back in local time


@pytest.mark.parametrize(
    "typed_start, typed_end, message",
    [
        ("2030-07-01T13:00", "2030-07-01T09:00", "The end must be after the start."),
        ("2030-07-01T13:00", "2030-07-01T13:00", "The end must be after the start."),
        ("2030-03-31T02:30", "2030-03-31T10:00", "does not exist in Europe/Paris"),
        ("not a date", "2030-03-31T10:00", "Enter a valid date/time."),
    ],
)
def test_bad_time_off_is_refused(manager_client, typed_start, typed_end, message):
    staff = StaffMember.objects.create(display_name="Ada")
    response = manager_client.post(
        f"/staff/{staff.pk}/time-off/", {"starts_at": typed_start, "ends_at": typed_end}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TimeOff.objects.exists()


def test_time_off_over_existing_bookings_is_saved_with_a_warning(manager_client, customer):
    catalogue = build_catalogue()
    ada = catalogue["ada"]
    booking_hold(
        service=catalogue["service"], starts_at=paris(2030, 6, 4, 10), customer=customer,
        staff_id=ada.pk, now=NOW,
    )  # fmt: skip
    response = manager_client.post(
        f"/staff/{ada.pk}/time-off/",
        {"starts_at": "2030-06-04T08:00", "ends_at": "2030-06-04T12:00"},
        follow=True,
    )
    assert "1 booking(s) of Ada fall in this period" in " ".join(messages_of(response))
    assert TimeOff.objects.filter(staff=ada).count() == 1


def test_a_date_that_cannot_be_placed_in_utc_is_refused_not_a_crash(manager_client):
    staff = StaffMember.objects.create(display_name="Ada")
    response = manager_client.post(
        f"/staff/{staff.pk}/time-off/",
        {"starts_at": "0001-01-01T00:00", "ends_at": "0001-01-01T09:00"},
    )
    assert response.status_code == 400
    assert "Enter a date between the years 1 and 9999." in response.content.decode()
    assert not TimeOff.objects.exists()


def test_forms_posted_without_their_row_counts_are_refused_not_a_crash(manager_client):
    staff = StaffMember.objects.create(display_name="Ada")
    assert manager_client.post(f"/staff/{staff.pk}/hours/", {}).status_code == 400
    data = {k: v for k, v in service_data().items() if not k.startswith("policy-")}
    assert manager_client.post("/services/new/", data).status_code == 400
    assert manager_client.post("/holidays/", {}).status_code == 400
    assert not Service.objects.exists() and not DateOverride.objects.exists()


def test_date_overrides_give_special_hours_or_close_a_day(manager_client):
    staff = StaffMember.objects.create(display_name="Ada")
    url = f"/staff/{staff.pk}/dates/"
    day = "2030-06-10"
    assert (
        manager_client.post(url, {"date": day, "start": "10:00", "end": "12:00"}).status_code == 302
    )
    assert (
        manager_client.post(url, {"date": day, "start": "14:00", "end": "16:00"}).status_code == 302
    )
    overlap = manager_client.post(url, {"date": day, "start": "11:00", "end": "15:00"})
    assert overlap.status_code == 400 and "overlap" in overlap.content.decode()
    closed = manager_client.post(url, {"date": day, "start": "", "end": ""})
    assert closed.status_code == 400 and "already has an entry" in closed.content.decode()
    half = manager_client.post(url, {"date": "2030-06-11", "start": "10:00", "end": ""})
    assert half.status_code == 400
    assert manager_client.post(url, {"date": "2030-06-11", "note": "Training"}).status_code == 302
    rows = list(staff.date_overrides.values_list("date", "start", "end"))
    assert rows == [
        (date(2030, 6, 10), time(10), time(12)),
        (date(2030, 6, 10), time(14), time(16)),
        (date(2030, 6, 11), None, None),
    ]
    other = StaffMember.objects.create(display_name="Ben")
    closed_day = staff.date_overrides.get(date=date(2030, 6, 11))
    # Removing goes through the staff member the date belongs to.
    assert (
        manager_client.post(f"/staff/{other.pk}/dates/{closed_day.pk}/delete/").status_code == 404
    )
    assert manager_client.post(f"{url}{closed_day.pk}/delete/").status_code == 302
    assert staff.date_overrides.count() == 2


# --- holidays -----------------------------------------------------------------------------------
def test_holidays_close_the_business_for_everyone(manager_client):
    response = manager_client.post(
        "/holidays/", {"first_day": "2030-12-24", "last_day": "2030-12-26", "note": "Christmas"}
    )
    assert response.status_code == 302
    again = manager_client.post("/holidays/", {"first_day": "2030-12-26", "last_day": "2030-12-27"})
    assert again.status_code == 302
    holidays = DateOverride.objects.filter(staff__isnull=True)
    assert sorted(holidays.values_list("date", flat=True)) == [
        date(2030, 12, day) for day in (24, 25, 26, 27)
    ]
    assert all(holiday.is_closed for holiday in holidays)
    assert date(2030, 12, 25) in scheduling_calendar().holidays
    backwards = manager_client.post(
        "/holidays/", {"first_day": "2030-12-31", "last_day": "2030-12-30"}
    )
    assert backwards.status_code == 400 and "before the first day" in backwards.content.decode()
    page = manager_client.get("/holidays/")
    assert b"Christmas" in page.content
    boxing_day = holidays.get(date=date(2030, 12, 26))
    assert manager_client.post(f"/holidays/{boxing_day.pk}/delete/").status_code == 302
    assert date(2030, 12, 26) not in scheduling_calendar().holidays


# --- resources ----------------------------------------------------------------------------------
def test_resources_are_created_edited_and_deleted_only_when_unused(manager_client):
    for quantity in ("0", "-1", ""):
        refused = manager_client.post("/resources/new/", {"name": "Room", "quantity": quantity})
        assert refused.status_code == 400
    assert not Resource.objects.exists()
    assert (
        manager_client.post(
            "/resources/new/", {"name": "Room", "quantity": "2", "is_active": "on"}
        ).status_code
        == 302
    )
    room = Resource.objects.get()
    assert (room.quantity, room.is_active) == (2, True)
    edited = manager_client.post(f"/resources/{room.pk}/", {"name": "Blue room", "quantity": "3"})
    assert edited.status_code == 302
    room.refresh_from_db()
    assert (room.name, room.quantity, room.is_active) == ("Blue room", 3, False)
    Service.objects.create(name="Sauna", duration_minutes=30, resource=room)
    refused = manager_client.post(f"/resources/{room.pk}/delete/", follow=True)
    assert "Blue room is needed by Sauna" in " ".join(messages_of(refused))
    assert Resource.objects.filter(pk=room.pk).exists()
    spare = Resource.objects.create(name="Spare chair")
    assert manager_client.post(f"/resources/{spare.pk}/delete/").status_code == 302
    assert not Resource.objects.filter(pk=spare.pk).exists()


# --- group sessions -----------------------------------------------------------------------------
@pytest.fixture
def yoga(alpha_schema):
    teacher = StaffMember.objects.create(display_name="Yann")
    service = Service.objects.create(
        name="Yoga",
        duration_minutes=60,
        capacity=8,
        minimum_notice_minutes=0,
        maximum_advance_days=3650,
    )
    service.staff.add(teacher)
    return service, teacher


def test_weekly_class_keeps_18_00_local_across_the_autumn_clock_change(manager_client, yoga):
    service, teacher = yoga
    # Tuesdays from 8 October 2030; Paris leaves summer time on Sunday 27 October 2030.
    response = manager_client.post(
        "/group-sessions/",
        {
            "service": str(service.pk),
            "staff": str(teacher.pk),
            "weekday": "1",
            "start_time": "18:00",
            "first_date": "2030-10-07",
            "weeks": "6",
            "capacity": "",
        },
    )
    assert response.status_code == 302
    schedule = GroupSchedule.objects.get()
    assert (schedule.first_date, schedule.capacity) == (date(2030, 10, 8), 8)
    occurrences = list(Occurrence.objects.filter(schedule=schedule).order_by("starts_at"))
    assert len(occurrences) == 6
    local = [o.starts_at.astimezone(PARIS) for o in occurrences]
    assert [moment.date() for moment in local] == [
        date(2030, 10, 8),
        date(2030, 10, 15),
        date(2030, 10, 22),
        date(2030, 10, 29),
        date(2030, 11, 5),
        date(2030, 11, 12),
    ]
    assert {(moment.hour, moment.minute) for moment in local} == {(18, 0)}
    assert [o.starts_at.astimezone(UTC).hour for o in occurrences] == [16, 16, 16, 17, 17, 17]
    assert all((o.ends_at - o.starts_at).total_seconds() == 3600 for o in occurrences)


def test_weekly_class_keeps_its_local_time_across_the_spring_clock_change(yoga):
    service, teacher = yoga
    result = group_schedule_create(
        service=service,
        staff=teacher,
        weekday=6,
        start_time=time(10),
        first_date=date(2030, 3, 24),
        weeks=2,
        capacity=5,
    )
    assert [o.starts_at for o in result.created] == [
        datetime(2030, 3, 24, 9, tzinfo=UTC),  # UTC+1
        datetime(2030, 3, 31, 8, tzinfo=UTC),  # UTC+2 from that night
    ]
    gap = group_schedule_create(
        service=service,
        staff=teacher,
        weekday=6,
        start_time=time(2, 30),
        first_date=date(2030, 3, 24),
        weeks=2,
        capacity=5,
    )
    assert len(gap.created) == 1
    assert [(item.day, "clocks change" in item.reason) for item in gap.skipped] == [
        (date(2030, 3, 31), True)
    ]


def test_sessions_that_already_exist_are_reported_not_duplicated(manager_client, yoga):
    service, teacher = yoga
    form = {
        "service": str(service.pk),
        "staff": str(teacher.pk),
        "weekday": "1",
        "start_time": "18:00",
        "first_date": "2030-10-08",
        "weeks": "2",
        "capacity": "8",
    }
    assert manager_client.post("/group-sessions/", form).status_code == 302
    response = manager_client.post("/group-sessions/", {**form, "weeks": "3"}, follow=True)
    notes = " ".join(messages_of(response))
    assert "1 session(s) created." in notes
    assert notes.count("a session already exists at this time") == 2
    assert Occurrence.objects.count() == 3
    schedules_before = GroupSchedule.objects.count()
    all_taken = manager_client.post("/group-sessions/", form)
    assert all_taken.status_code == 400
    assert "No session was created" in all_taken.content.decode()
    assert (GroupSchedule.objects.count(), Occurrence.objects.count()) == (schedules_before, 3)


def test_group_sessions_need_a_service_with_a_capacity_above_one(manager_client, yoga):
    _, teacher = yoga
    single = Service.objects.create(name="Private lesson", duration_minutes=60)
    response = manager_client.post(
        "/group-sessions/",
        {
            "service": str(single.pk),
            "staff": str(teacher.pk),
            "weekday": "1",
            "start_time": "18:00",
            "first_date": "2030-10-08",
            "weeks": "2",
        },
    )
    assert response.status_code == 400 and "service" in response.context["form"].errors
    with pytest.raises(ValidationError):
        group_schedule_create(
            service=single,
            staff=teacher,
            weekday=1,
            start_time=time(18),
            first_date=date(2030, 10, 8),
            weeks=2,
            capacity=4,
        )
    assert not Occurrence.objects.exists() and not GroupSchedule.objects.exists()


@pytest.mark.parametrize(
    "first_date, message",
    [(date(2030, 6, 2), "The first date is in the past."), (date(2040, 6, 4), "ten years ahead")],
)
def test_group_schedule_dates_are_bounded(yoga, first_date, message):
    service, teacher = yoga
    with pytest.raises(ValidationError) as raised:
        group_schedule_create(
            service=service, staff=teacher, weekday=1, start_time=time(18),
            first_date=first_date, weeks=2, capacity=4, now=NOW,
        )  # fmt: skip
    assert message in " ".join(raised.value.messages)
    assert not GroupSchedule.objects.exists()


def test_upcoming_sessions_show_seats_and_only_empty_ones_can_be_cancelled(
    manager_client, yoga, customer
):
    service, teacher = yoga
    result = group_schedule_create(
        service=service,
        staff=teacher,
        weekday=1,
        start_time=time(18),
        first_date=date(2030, 10, 8),
        weeks=2,
        capacity=8,
    )
    booked, empty = result.created
    booking_take_seat(occurrence=booked, customer=customer, now=NOW)
    page = manager_client.get("/group-sessions/")
    assert page.status_code == 200
    assert [(row.occurrence, row.seats_taken) for row in page.context["rows"]] == [
        (booked, 1),
        (empty, 0),
    ]
    assert "1 / 8" in page.content.decode() and "Tue 8 Oct 2030 18:00" in page.content.decode()
    refused = manager_client.post(f"/group-sessions/{booked.pk}/cancel/", follow=True)
    assert "have a seat in this session" in " ".join(messages_of(refused))
    booked.refresh_from_db()
    assert booked.is_cancelled is False
    assert manager_client.post(f"/group-sessions/{empty.pk}/cancel/").status_code == 302
    empty.refresh_from_db()
    assert empty.is_cancelled is True


# --- booking settings ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, field",
    [
        ({"hold_minutes": "1", "reference_prefix": ""}, "hold_minutes"),
        ({"hold_minutes": "61", "reference_prefix": ""}, "hold_minutes"),
        ({"hold_minutes": "10", "reference_prefix": "AB-1"}, "reference_prefix"),
        ({"hold_minutes": "10", "reference_prefix": "ABCDE"}, "reference_prefix"),
    ],
)
def test_bad_booking_settings_are_refused(manager_client, data, field):
    response = manager_client.post("/booking-settings/", data)
    assert response.status_code == 400 and field in response.context["form"].errors
    settings_row = scheduling_settings()
    assert (settings_row.hold_minutes, settings_row.reference_prefix) == (10, "")


def test_booking_settings_are_saved(manager_client):
    response = manager_client.post(
        "/booking-settings/",
        {"hold_minutes": "15", "reference_prefix": "zen", "require_phone": "on"},
    )
    assert response.status_code == 302
    row = SchedulingSettings.objects.get()
    assert (row.hold_minutes, row.reference_prefix, row.require_phone) == (15, "ZEN", True)


# --- who may open the pages ---------------------------------------------------------------------
def _catalogue_pages() -> tuple[list[str], list[str]]:
    staff = StaffMember.objects.create(display_name="Ada")
    service = Service.objects.create(name="Massage", duration_minutes=60)
    resource = Resource.objects.create(name="Room")
    override = DateOverride.objects.create(staff=staff, date=date(2030, 6, 10))
    holiday = DateOverride.objects.create(date=date(2030, 12, 25))
    time_off = TimeOff.objects.create(
        staff=staff, starts_at=paris(2030, 6, 11, 9), ends_at=paris(2030, 6, 11, 12)
    )
    occurrence = Occurrence.objects.create(
        service=service,
        staff=staff,
        capacity=4,
        starts_at=paris(2030, 6, 12, 18),
        ends_at=paris(2030, 6, 12, 19),
    )
    pages = [
        "/services/",
        "/services/new/",
        f"/services/{service.pk}/",
        "/staff/",
        "/staff/new/",
        f"/staff/{staff.pk}/",
        f"/staff/{staff.pk}/hours/",
        f"/staff/{staff.pk}/dates/",
        f"/staff/{staff.pk}/time-off/",
        "/holidays/",
        "/resources/",
        "/resources/new/",
        f"/resources/{resource.pk}/",
        "/group-sessions/",
        "/booking-settings/",
    ]
    actions = [
        f"/services/{service.pk}/delete/",
        f"/staff/{staff.pk}/dates/{override.pk}/delete/",
        f"/staff/{staff.pk}/time-off/{time_off.pk}/delete/",
        f"/holidays/{holiday.pk}/delete/",
        f"/resources/{resource.pk}/delete/",
        f"/group-sessions/{occurrence.pk}/cancel/",
    ]
    return pages, actions


@pytest.mark.parametrize("role", ["front_desk", "staff"])
def test_front_desk_and_staff_get_403_on_every_catalogue_page(alpha_schema, role):
    pages, actions = _catalogue_pages()
    client = member_client(alpha_schema, make_member(alpha_schema, role), verified=True)
    for path in pages:
        assert client.get(path).status_code == 403, path
        assert client.post(path, {}).status_code == 403, path
    for path in actions:
        assert client.post(path).status_code == 403, path
    # Nothing was deleted or cancelled behind the refusals.
    assert (Service.objects.count(), Resource.objects.count(), TimeOff.objects.count()) == (1, 1, 1)
    assert DateOverride.objects.count() == 2
    assert Occurrence.objects.filter(is_cancelled=False).count() == 1


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_managers_and_owners_open_every_catalogue_page(alpha_schema, role):
    pages, _ = _catalogue_pages()
    client = member_client(alpha_schema, make_member(alpha_schema, role))
    for path in pages:
        assert client.get(path).status_code == 200, path


def test_dashboard_lists_catalogue_sections_for_managers_only(alpha_schema):
    manager = member_client(alpha_schema, make_member(alpha_schema, "manager")).get("/")
    for label in (
        b"Services",
        b"Staff and hours",
        b"Resources",
        b"Group sessions",
        b"Booking settings",
    ):
        assert label in manager.content
    staff = member_client(alpha_schema, make_member(alpha_schema, "staff")).get("/")
    assert b"/services/" not in staff.content and b"/booking-settings/" not in staff.content


def test_pages_of_a_missing_row_are_404(manager_client):
    assert manager_client.get("/services/999999/").status_code == 404
    assert manager_client.get("/staff/999999/hours/").status_code == 404
    assert manager_client.post("/resources/999999/delete/").status_code == 404
