"""Slot engine: hours, overrides, buffers, notice, resources, "any staff", DST and validation."""

import bisect
import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.slots import (
    GroupOccurrence,
    OutsideWorkingHours,
    ResourcePool,
    ServiceRules,
    Slot,
    SlotError,
    SlotInPast,
    SlotNotOnGrid,
    SlotQuery,
    SlotTooFarAhead,
    SlotTooSoon,
    SlotUnavailable,
    StaffSchedule,
    TenantCalendar,
    TimeSpan,
    available_slots,
    bookable_occurrences,
    slots_by_local_date,
    validate_requested_start,
)

PARIS = "Europe/Paris"
NEW_YORK = "America/New_York"
LORD_HOWE = "Australia/Lord_Howe"
# A Tuesday in June, far from any DST change, and a `now` well before it.
TUESDAY = date(2025, 6, 10)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
WEEKDAYS_9_TO_5 = {weekday: [(time(9), time(17))] for weekday in range(5)}
EVERY_DAY_MIDNIGHT_TO_6 = {weekday: [(time(0), time(6))] for weekday in range(7)}
HOUR = ServiceRules(duration_minutes=60, slot_interval_minutes=60)
HALF_HOUR = ServiceRules(duration_minutes=30, slot_interval_minutes=30)


def t(text: str) -> time:
    return time.fromisoformat(text)


def hours(*pairs: str) -> list[tuple[time, time]]:
    """hours("09:00-12:00", "13:00-18:00")"""
    return [(t(pair.split("-")[0]), t(pair.split("-")[1])) for pair in pairs]


def local(day: date, clock: str, zone: str = PARIS, *, fold: int = 0) -> datetime:
    return datetime.combine(day, t(clock), ZoneInfo(zone)).replace(fold=fold)


def span(day: date, start: str, end: str, zone: str = PARIS) -> TimeSpan:
    return TimeSpan(local(day, start, zone), local(day, end, zone))


def staff(staff_id: int = 1, weekly=None, **fields) -> StaffSchedule:
    return StaffSchedule(
        staff_id=staff_id,
        weekly_hours=WEEKDAYS_9_TO_5 if weekly is None else weekly,
        **fields,
    )


def slots(
    *members: StaffSchedule,
    service: ServiceRules = HOUR,
    zone: str = PARIS,
    first: date = TUESDAY,
    last: date | None = None,
    now: datetime = LONG_AGO,
    staff_id=None,
    holidays=(),
    resource=None,
) -> list[Slot]:
    return available_slots(
        calendar=TenantCalendar(zone, frozenset(holidays)),
        service=service,
        staff=list(members) or [staff()],
        query=SlotQuery(start_date=first, end_date=last or first, now=now, staff_id=staff_id),
        resource=resource,
    )


def clocks(found: list[Slot], zone: str = PARIS) -> list[str]:
    return [slot.in_zone(zone).strftime("%H:%M") for slot in found]


def assignments(found: list[Slot], zone: str = PARIS) -> dict[str, object]:
    return {slot.in_zone(zone).strftime("%H:%M"): slot.staff_id for slot in found}


def validate(*members: StaffSchedule, start: datetime, service=HOUR, zone=PARIS, **extra):
    extra.setdefault("now", LONG_AGO)
    return validate_requested_start(
        calendar=TenantCalendar(zone, frozenset(extra.pop("holidays", ()))),
        service=service,
        staff=list(members) or [staff()],
        start=start,
        **extra,
    )


# ------------------------------------------------------------------ working hours


def test_a_day_with_several_intervals_offers_slots_in_each_interval_only():
    member = staff(weekly={1: hours("09:00-12:00", "13:00-18:00")})
    assert clocks(slots(member)) == "09:00 10:00 11:00 13:00 14:00 15:00 16:00 17:00".split()


def test_the_appointment_must_end_within_the_working_interval():
    member = staff(weekly={1: hours("09:00-10:30")})
    service = ServiceRules(duration_minutes=60, slot_interval_minutes=30)
    assert clocks(slots(member, service=service)) == ["09:00", "09:30"]


def test_an_appointment_cannot_straddle_two_touching_intervals():
    member = staff(weekly={1: hours("09:00-10:00", "10:00-11:00")})
    service = ServiceRules(duration_minutes=60, slot_interval_minutes=30)
    assert clocks(slots(member, service=service)) == ["09:00", "10:00"]


def test_the_grid_is_anchored_at_the_start_of_each_working_interval():
    member = staff(weekly={1: hours("09:15-11:00", "13:10-14:00")})
    service = ServiceRules(duration_minutes=30, slot_interval_minutes=30)
    assert clocks(slots(member, service=service)) == ["09:15", "09:45", "10:15", "13:10"]


def test_working_until_midnight_is_written_with_a_midnight_end():
    member = staff(weekly={1: hours("22:00-00:00")})
    found = slots(member)
    assert clocks(found) == ["22:00", "23:00"]
    assert found[-1].end_utc == local(TUESDAY + timedelta(days=1), "00:00")


def test_a_closed_weekday_offers_nothing():
    saturday = date(2025, 6, 14)
    assert slots(staff(), first=saturday) == []


def test_a_date_override_without_intervals_closes_that_day():
    member = staff(date_overrides={TUESDAY: []})
    assert slots(member) == []
    assert slots(member, first=TUESDAY + timedelta(days=1)) != []


def test_a_date_override_replaces_the_weekly_hours_with_special_hours():
    saturday = date(2025, 6, 14)
    member = staff(date_overrides={saturday: hours("10:00-12:00"), TUESDAY: hours("18:00-20:00")})
    assert clocks(slots(member, first=saturday)) == ["10:00", "11:00"]
    assert clocks(slots(member)) == ["18:00", "19:00"]


def test_a_tenant_holiday_closes_everyone_even_with_special_hours():
    member = staff(date_overrides={TUESDAY: hours("10:00-12:00")})
    other = staff(2)
    assert slots(member, other, holidays={TUESDAY}) == []


def test_time_off_removes_the_slots_it_overlaps():
    member = staff(time_off=[span(TUESDAY, "11:30", "14:00")])
    assert clocks(slots(member)) == ["09:00", "10:00", "14:00", "15:00", "16:00"]


def test_time_off_over_several_days_closes_them():
    away = TimeSpan(local(TUESDAY, "00:00"), local(TUESDAY + timedelta(days=2), "00:00"))
    found = slots(staff(time_off=[away]), last=TUESDAY + timedelta(days=2))
    assert {slot.in_zone(PARIS).date() for slot in found} == {TUESDAY + timedelta(days=2)}


def test_an_existing_booking_removes_the_slots_it_overlaps():
    member = staff(busy=[span(TUESDAY, "10:30", "11:15")])
    assert clocks(slots(member)) == ["09:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


# ------------------------------------------------------------------ buffers


BUFFERED = ServiceRules(
    duration_minutes=60, slot_interval_minutes=15, buffer_before_minutes=15, buffer_after_minutes=15
)


def test_a_slot_whose_buffer_after_reaches_a_booking_is_refused():
    member = staff(weekly={1: hours("08:00-10:00")}, busy=[span(TUESDAY, "10:00", "11:00")])
    # 08:45 would occupy 08:30-10:00 (ends as the booking starts): accepted.
    # 09:00 fits the hours but its buffer after (10:00-10:15) overlaps the booking.
    assert clocks(slots(member, service=BUFFERED)) == ["08:00", "08:15", "08:30", "08:45"]


def test_a_slot_whose_buffer_before_reaches_a_booking_is_refused():
    member = staff(weekly={1: hours("11:00-13:00")}, busy=[span(TUESDAY, "10:00", "11:00")])
    # 11:00 would occupy 10:45-12:15: its buffer before overlaps. 11:15 starts its buffer at 11:00.
    assert clocks(slots(member, service=BUFFERED)) == ["11:15", "11:30", "11:45", "12:00"]


def test_buffers_may_extend_beyond_working_hours():
    member = staff(weekly={1: hours("09:00-10:00")})
    assert clocks(slots(member, service=BUFFERED)) == ["09:00"]


def test_buffers_beyond_working_hours_still_cannot_overlap_a_booking():
    member = staff(weekly={1: hours("09:00-10:00")}, busy=[span(TUESDAY, "08:30", "08:50")])
    assert slots(member, service=BUFFERED) == []
    member = staff(weekly={1: hours("09:00-10:00")}, busy=[span(TUESDAY, "08:30", "08:45")])
    assert clocks(slots(member, service=BUFFERED)) == ["09:00"]


def test_slots_end_exactly_where_a_booking_starts_and_start_where_one_ends():
    member = staff(busy=[span(TUESDAY, "10:00", "11:00")])
    assert clocks(slots(member))[:3] == ["09:00", "11:00", "12:00"]


# ------------------------------------------------------------------ notice and horizon


def test_minimum_notice_hides_slots_starting_too_soon():
    service = ServiceRules(duration_minutes=30, slot_interval_minutes=30, minimum_notice_minutes=60)
    now = local(TUESDAY, "09:10")
    assert clocks(slots(staff(), service=service, now=now))[:2] == ["10:30", "11:00"]


def test_a_slot_exactly_at_the_minimum_notice_is_offered():
    service = ServiceRules(duration_minutes=30, slot_interval_minutes=30, minimum_notice_minutes=60)
    now = local(TUESDAY, "09:00")
    assert clocks(slots(staff(), service=service, now=now))[0] == "10:00"


def test_slots_in_the_past_are_never_offered():
    now = local(TUESDAY, "12:00:01")
    assert clocks(slots(staff(), now=now))[0] == "13:00"


def test_maximum_advance_hides_slots_beyond_the_horizon_inclusive():
    service = ServiceRules(duration_minutes=60, slot_interval_minutes=60, maximum_advance_days=1)
    now = local(TUESDAY, "10:00")
    found = slots(staff(), service=service, now=now, last=TUESDAY + timedelta(days=5))
    tomorrow = [s for s in found if s.in_zone(PARIS).date() == TUESDAY + timedelta(days=1)]
    assert clocks(tomorrow) == ["09:00", "10:00"]
    assert max(s.start_utc for s in found) == now + timedelta(days=1)


# ------------------------------------------------------------------ resources


def test_a_resource_with_one_unit_in_use_blocks_the_slot_for_every_staff_member():
    room = ResourcePool("room", quantity=1, occupied=[span(TUESDAY, "10:00", "11:00")])
    assert "10:00" not in clocks(slots(staff(1), staff(2), resource=room))
    assert "11:00" in clocks(slots(staff(1), staff(2), resource=room))


def test_a_resource_with_two_units_allows_one_more_booking():
    room = ResourcePool("room", quantity=2, occupied=[span(TUESDAY, "10:00", "11:00")])
    assert "10:00" in clocks(slots(resource=room))
    full = ResourcePool(
        "room",
        quantity=2,
        occupied=[span(TUESDAY, "10:00", "11:00"), span(TUESDAY, "10:30", "12:00")],
    )
    # Both units are in use only from 10:30 to 11:00: 11:00 is free again.
    assert clocks(slots(resource=full)) == "09:00 11:00 12:00 13:00 14:00 15:00 16:00".split()


def test_two_units_used_one_after_the_other_leave_one_unit_free_in_between():
    service = ServiceRules(duration_minutes=60, slot_interval_minutes=30)
    room = ResourcePool(
        "room",
        quantity=2,
        occupied=[span(TUESDAY, "10:00", "11:00"), span(TUESDAY, "11:00", "12:00")],
    )
    assert "10:30" in clocks(slots(service=service, resource=room))


def test_a_resource_counts_bookings_that_overlap_the_buffers_too():
    room = ResourcePool("room", quantity=1, occupied=[span(TUESDAY, "10:00", "10:10")])
    member = staff(weekly={1: hours("08:00-12:00")})
    assert "09:00" not in clocks(slots(member, service=BUFFERED, resource=room))


# ------------------------------------------------------------------ any staff


def test_any_staff_gives_each_start_to_the_least_booked_staff_member_that_day():
    busy_bee = staff(1, busy=[span(TUESDAY, "09:00", "10:00"), span(TUESDAY, "16:00", "17:00")])
    quiet = staff(2, busy=[span(TUESDAY, "12:00", "13:00")])
    assert assignments(slots(busy_bee, quiet)) == {
        "09:00": 2,
        "10:00": 2,  # both free: the quiet one has fewer bookings today
        "11:00": 2,
        "12:00": 1,  # the quiet one is busy
        "13:00": 2,
        "14:00": 2,
        "15:00": 2,
        "16:00": 2,
    }


def test_any_staff_breaks_ties_by_the_smallest_staff_id():
    found = slots(staff(7), staff(3), staff(5))
    assert {slot.staff_id for slot in found} == {3}


def test_any_staff_uses_the_given_booking_counts_when_provided():
    counts_say_three_is_busy = {TUESDAY: 4}
    found = slots(staff(3, bookings_count_by_date=counts_say_three_is_busy), staff(5))
    assert {slot.staff_id for slot in found} == {5}


def test_booking_counts_are_per_day():
    member = staff(3, bookings_count_by_date={TUESDAY: 4})
    found = slots(member, staff(5), last=TUESDAY + timedelta(days=1))
    by_day = {s.in_zone(PARIS).date(): s.staff_id for s in found}
    assert by_day == {TUESDAY: 5, TUESDAY + timedelta(days=1): 3}


def test_any_staff_offers_each_start_time_once():
    found = slots(staff(1), staff(2), staff(3))
    starts = [slot.start_utc for slot in found]
    assert len(starts) == len(set(starts)) == 8
    assert starts == sorted(starts)


def test_any_staff_combines_the_hours_of_all_staff():
    morning = staff(1, weekly={1: hours("09:00-12:00")})
    afternoon = staff(2, weekly={1: hours("14:00-16:00")})
    found = slots(morning, afternoon)
    assert [(c, s.staff_id) for c, s in zip(clocks(found), found, strict=True)] == [
        ("09:00", 1),
        ("10:00", 1),
        ("11:00", 1),
        ("14:00", 2),
        ("15:00", 2),
    ]


def test_a_staff_filter_returns_only_that_staff_members_slots():
    morning = staff(1, weekly={1: hours("09:00-12:00")})
    afternoon = staff(2, weekly={1: hours("14:00-16:00")})
    found = slots(morning, afternoon, staff_id=2)
    assert clocks(found) == ["14:00", "15:00"]
    assert {slot.staff_id for slot in found} == {2}
    assert slots(morning, afternoon, staff_id=99) == []


def test_string_staff_ids_work_and_sort_as_strings():
    found = slots(staff("b"), staff("a"))
    assert {slot.staff_id for slot in found} == {"a"}


# ------------------------------------------------------------------ DST: Paris


PARIS_SPRING_FORWARD = date(2025, 3, 30)  # 02:00 -> 03:00
PARIS_FALL_BACK = date(2025, 10, 26)  # 03:00 -> 02:00


def test_no_slot_in_the_spring_forward_gap_in_paris():
    found = slots(
        staff(weekly=EVERY_DAY_MIDNIGHT_TO_6), service=HALF_HOUR, first=PARIS_SPRING_FORWARD
    )
    assert clocks(found) == "00:00 00:30 01:00 01:30 03:00 03:30 04:00 04:30 05:00 05:30".split()
    assert found[3].start_utc == datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    assert found[4].start_utc == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


def test_an_appointment_across_the_spring_forward_gap_lasts_its_real_duration():
    found = slots(staff(weekly=EVERY_DAY_MIDNIGHT_TO_6), first=PARIS_SPRING_FORWARD)
    at_one = next(s for s in found if clocks([s]) == ["01:00"])
    assert at_one.end_utc - at_one.start_utc == timedelta(minutes=60)
    assert at_one.end_utc.astimezone(ZoneInfo(PARIS)).strftime("%H:%M") == "03:00"


def test_hours_that_start_inside_the_gap_start_when_the_clock_jumps_but_keep_their_grid():
    member = staff(weekly={6: hours("02:30-05:00")})
    service = ServiceRules(duration_minutes=45, slot_interval_minutes=45)
    # Grid from 02:30 wall time: 02:30 does not exist, then 03:15 and 04:00.
    assert clocks(slots(member, service=service, first=PARIS_SPRING_FORWARD)) == ["03:15", "04:00"]


def test_hours_that_end_inside_the_gap_end_when_the_clock_jumps():
    member = staff(weekly={6: hours("00:00-02:30")})
    found = slots(member, service=HALF_HOUR, first=PARIS_SPRING_FORWARD)
    assert clocks(found) == ["00:00", "00:30", "01:00", "01:30"]
    assert found[-1].end_utc == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


def test_each_repeated_wall_time_gives_one_slot_at_its_first_occurrence_in_paris():
    found = slots(staff(weekly=EVERY_DAY_MIDNIGHT_TO_6), service=HALF_HOUR, first=PARIS_FALL_BACK)
    assert (
        clocks(found)
        == "00:00 00:30 01:00 01:30 02:00 02:30 03:00 03:30 04:00 04:30 05:00 05:30".split()
    )
    two_o_clock = found[4]
    assert two_o_clock.start_utc == datetime(2025, 10, 26, 0, 0, tzinfo=UTC)
    assert two_o_clock.in_zone(PARIS).fold == 0
    # The second 02:00 (01:00 UTC) and the second 02:30 are not offered.
    assert datetime(2025, 10, 26, 1, 0, tzinfo=UTC) not in {s.start_utc for s in found}


def test_an_appointment_on_the_fall_back_night_ends_after_its_real_duration():
    service = ServiceRules(duration_minutes=60, slot_interval_minutes=30)
    found = slots(staff(weekly=EVERY_DAY_MIDNIGHT_TO_6), service=service, first=PARIS_FALL_BACK)
    at_two_thirty = next(s for s in found if clocks([s]) == ["02:30"])
    end = at_two_thirty.end_utc.astimezone(ZoneInfo(PARIS))
    assert (end.strftime("%H:%M"), end.fold) == ("02:30", 1)  # the second 02:30
    assert at_two_thirty.end_utc - at_two_thirty.start_utc == timedelta(minutes=60)


def test_hours_ending_in_the_repeated_hour_end_at_its_first_occurrence():
    member = staff(weekly={6: hours("00:00-02:30")})
    found = slots(member, service=HALF_HOUR, first=PARIS_FALL_BACK)
    assert clocks(found)[-1] == "02:00"
    assert found[-1].end_utc == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


# ------------------------------------------------------------------ DST: New York


def test_no_slot_in_the_spring_forward_gap_in_new_york():
    found = slots(
        staff(weekly=EVERY_DAY_MIDNIGHT_TO_6),
        service=HALF_HOUR,
        zone=NEW_YORK,
        first=date(2025, 3, 9),
    )
    assert (
        clocks(found, NEW_YORK)
        == "00:00 00:30 01:00 01:30 03:00 03:30 04:00 04:30 05:00 05:30".split()
    )


def test_the_repeated_hour_in_new_york_gives_one_slot_per_wall_time():
    found = slots(
        staff(weekly=EVERY_DAY_MIDNIGHT_TO_6),
        service=HALF_HOUR,
        zone=NEW_YORK,
        first=date(2025, 11, 2),
    )
    assert (
        clocks(found, NEW_YORK)
        == "00:00 00:30 01:00 01:30 02:00 02:30 03:00 03:30 04:00 04:30 05:00 05:30".split()
    )
    assert found[2].start_utc == datetime(2025, 11, 2, 5, 0, tzinfo=UTC)  # EDT, the first 01:00
    assert found[4].start_utc == datetime(2025, 11, 2, 7, 0, tzinfo=UTC)  # 02:00 EST


# ------------------------------------------------------------------ DST: Lord Howe (30 min)


def test_lord_howe_skips_the_half_hour_gap_in_october():
    quarter = ServiceRules(duration_minutes=15, slot_interval_minutes=15)
    member = staff(weekly={6: hours("01:30-03:00")})
    found = slots(member, service=quarter, zone=LORD_HOWE, first=date(2025, 10, 5))
    assert clocks(found, LORD_HOWE) == ["01:30", "01:45", "02:30", "02:45"]
    assert found[2].start_utc - found[1].start_utc == timedelta(minutes=15)


def test_lord_howe_gives_one_slot_per_wall_time_in_the_repeated_half_hour_in_april():
    quarter = ServiceRules(duration_minutes=15, slot_interval_minutes=15)
    member = staff(weekly={6: hours("01:00-02:30")})
    found = slots(member, service=quarter, zone=LORD_HOWE, first=date(2025, 4, 6))
    assert clocks(found, LORD_HOWE) == ["01:00", "01:15", "01:30", "01:45", "02:00", "02:15"]
    # 01:45 (first occurrence, +11:00) to 02:00 (+10:30) is 45 real minutes.
    assert found[4].start_utc - found[3].start_utc == timedelta(minutes=45)
    assert found[3].start_utc == datetime(2025, 4, 5, 14, 45, tzinfo=UTC)


def test_lord_howe_appointment_across_the_gap_lasts_its_real_duration():
    member = staff(weekly={6: hours("01:00-04:00")})
    found = slots(member, zone=LORD_HOWE, first=date(2025, 10, 5))
    assert clocks(found, LORD_HOWE) == ["01:00", "03:00"]  # 02:00 does not exist
    first_end = found[0].end_utc.astimezone(ZoneInfo(LORD_HOWE))
    assert first_end.strftime("%H:%M") == "02:30"


# ------------------------------------------------------------------ customer zone


def test_customer_in_another_zone_sees_the_same_instants_on_their_clock():
    member = staff(weekly={1: hours("05:00-07:00")})
    found = slots(member, service=HALF_HOUR)
    assert clocks(found, NEW_YORK) == ["23:00", "23:30", "00:00", "00:30"]
    assert found[0].in_zone(ZoneInfo(NEW_YORK)) == local(TUESDAY, "05:00")


def test_grouping_by_local_date_follows_the_customers_zone():
    member = staff(weekly={1: hours("05:00-07:00")})
    found = slots(member, service=HALF_HOUR)
    for_paris = slots_by_local_date(found, time_zone=PARIS)
    for_new_york = slots_by_local_date(found, time_zone=NEW_YORK)
    assert list(for_paris) == [TUESDAY]
    assert {day: clocks(day_slots, NEW_YORK) for day, day_slots in for_new_york.items()} == {
        TUESDAY - timedelta(days=1): ["23:00", "23:30"],
        TUESDAY: ["00:00", "00:30"],
    }


def test_grouping_by_local_date_keeps_dates_and_slots_in_order():
    found = slots(staff(), last=TUESDAY + timedelta(days=2))
    grouped = slots_by_local_date(reversed(found), time_zone=PARIS)
    assert list(grouped) == [TUESDAY + timedelta(days=n) for n in range(3)]
    assert [slot for day_slots in grouped.values() for slot in day_slots] == found


# ------------------------------------------------------------------ group sessions


def occurrence(occurrence_id, day, clock, capacity=10, taken=0):
    start = local(day, clock)
    return GroupOccurrence(occurrence_id, start, start + timedelta(hours=1), capacity, taken)


def test_group_occurrences_with_seats_left_are_bookable_with_their_seat_count():
    found = bookable_occurrences(
        occurrences=[
            occurrence(2, TUESDAY, "18:00", capacity=12, taken=11),
            occurrence(1, TUESDAY, "09:00", capacity=12, taken=4),
            occurrence(3, TUESDAY, "12:00", capacity=12, taken=12),
            occurrence(4, TUESDAY, "13:00", capacity=12, taken=13),  # overbooked by the owner
        ],
        now=LONG_AGO,
    )
    assert [(item.occurrence_id, item.seats_left) for item in found] == [(1, 8), (2, 1)]
    assert found[0].start_utc.tzinfo is UTC


def test_group_occurrences_respect_notice_and_horizon():
    now = local(TUESDAY, "08:00")
    found = bookable_occurrences(
        occurrences=[
            occurrence(1, TUESDAY, "08:30"),
            occurrence(2, TUESDAY, "09:00"),
            occurrence(3, TUESDAY + timedelta(days=7), "08:00"),
            occurrence(4, TUESDAY + timedelta(days=7), "08:01"),
        ],
        now=now,
        minimum_notice_minutes=60,
        maximum_advance_days=7,
    )
    assert [item.occurrence_id for item in found] == [2, 3]


def test_group_horizon_is_measured_in_real_time_across_dst():
    now = local(date(2025, 3, 29), "10:00")  # Paris springs forward the next night
    found = bookable_occurrences(
        occurrences=[occurrence(1, date(2025, 3, 30), "10:00")], now=now, maximum_advance_days=1
    )
    assert [item.occurrence_id for item in found] == [1]  # 23 real hours ahead
    found = bookable_occurrences(
        occurrences=[occurrence(1, date(2025, 3, 30), "10:30")],
        now=now,
        maximum_advance_days=1,
    )
    assert [item.occurrence_id for item in found] == [1]  # 23.5 h: still within one day


def test_group_services_are_refused_by_the_appointment_engine():
    with pytest.raises(ValueError):
        slots(service=ServiceRules(duration_minutes=60, slot_interval_minutes=60, capacity=8))


# ------------------------------------------------------------------ validate_requested_start


def test_a_free_start_on_the_grid_validates_and_returns_its_staff_member():
    assert validate(staff(4), start=local(TUESDAY, "10:00")) == 4


def test_validation_assigns_the_same_staff_member_as_the_listing():
    busy_bee = staff(1, busy=[span(TUESDAY, "09:00", "10:00")])
    assert validate(busy_bee, staff(2), start=local(TUESDAY, "11:00")) == 2
    assert validate(busy_bee, staff(2), start=local(TUESDAY, "11:00"), staff_id=1) == 1


def test_a_start_in_the_past_is_refused():
    with pytest.raises(SlotInPast):
        validate(start=local(TUESDAY, "10:00"), now=local(TUESDAY, "10:00:01"))


def test_a_start_inside_the_minimum_notice_is_refused():
    service = ServiceRules(
        duration_minutes=60, slot_interval_minutes=60, minimum_notice_minutes=120
    )
    with pytest.raises(SlotTooSoon):
        validate(start=local(TUESDAY, "11:00"), now=local(TUESDAY, "09:01"), service=service)
    assert (
        validate(start=local(TUESDAY, "11:00"), now=local(TUESDAY, "09:00"), service=service) == 1
    )


def test_a_start_beyond_the_horizon_is_refused():
    service = ServiceRules(duration_minutes=60, slot_interval_minutes=60, maximum_advance_days=30)
    with pytest.raises(SlotTooFarAhead):
        validate(
            start=local(TUESDAY, "10:00"),
            now=local(TUESDAY, "09:59") - timedelta(days=30),
            service=service,
        )


def test_a_start_off_the_grid_is_refused():
    with pytest.raises(SlotNotOnGrid):
        validate(start=local(TUESDAY, "10:10"))
    with pytest.raises(SlotNotOnGrid):
        validate(start=local(TUESDAY, "10:00") + timedelta(seconds=1))


def test_a_start_outside_working_hours_is_refused():
    with pytest.raises(OutsideWorkingHours):
        validate(start=local(TUESDAY, "08:00"))
    with pytest.raises(OutsideWorkingHours):
        validate(start=local(date(2025, 6, 14), "10:00"))  # Saturday
    with pytest.raises(OutsideWorkingHours):
        validate(start=local(TUESDAY, "10:00"), holidays={TUESDAY})


def test_a_start_whose_appointment_would_overrun_closing_time_is_refused():
    service = ServiceRules(duration_minutes=60, slot_interval_minutes=30)
    with pytest.raises(OutsideWorkingHours):
        validate(start=local(TUESDAY, "16:30"), service=service)


def test_a_taken_start_is_refused_as_unavailable():
    member = staff(busy=[span(TUESDAY, "10:30", "11:00")])
    with pytest.raises(SlotUnavailable):
        validate(member, start=local(TUESDAY, "10:00"))


def test_a_staff_member_who_does_not_offer_the_service_is_refused():
    with pytest.raises(SlotUnavailable):
        validate(staff(1), start=local(TUESDAY, "10:00"), staff_id=2)


def test_the_second_occurrence_of_a_repeated_wall_time_is_not_on_the_grid():
    second_two_o_clock = datetime(2025, 10, 26, 1, 0, tzinfo=UTC)  # 02:00 CET, fold=1
    member = staff(weekly=EVERY_DAY_MIDNIGHT_TO_6)
    with pytest.raises(SlotNotOnGrid):
        validate(member, start=second_two_o_clock, service=HALF_HOUR)
    assert validate(member, start=datetime(2025, 10, 26, 0, 0, tzinfo=UTC), service=HALF_HOUR) == 1


def test_slot_errors_carry_a_code_and_a_message_safe_for_customers():
    with pytest.raises(SlotError) as caught:
        validate(start=local(TUESDAY, "10:10"))
    assert caught.value.code == "slot_not_on_grid"
    assert str(caught.value) == "This start time is not one of the offered times."
    assert isinstance(caught.value, ValueError)


# ------------------------------------------------------------------ input validation


def test_naive_datetimes_are_refused_everywhere():
    with pytest.raises(ValueError):
        TimeSpan(datetime(2025, 6, 10, 9), datetime(2025, 6, 10, 10, tzinfo=UTC))
    with pytest.raises(ValueError):
        SlotQuery(start_date=TUESDAY, end_date=TUESDAY, now=datetime(2025, 6, 10))
    with pytest.raises(ValueError):
        validate(start=datetime(2025, 6, 10, 10))


def test_a_time_span_must_end_after_it_starts_even_on_a_fall_back_night():
    zone = ZoneInfo(PARIS)
    first_two_thirty = datetime(2025, 10, 26, 2, 30, tzinfo=zone)
    second_two_ten = datetime(2025, 10, 26, 2, 10, tzinfo=zone, fold=1)
    assert TimeSpan(first_two_thirty, second_two_ten)  # 40 real minutes, though 02:10 < 02:30
    with pytest.raises(ValueError):
        TimeSpan(local(TUESDAY, "10:00"), local(TUESDAY, "10:00"))


@pytest.mark.parametrize(
    "weekly",
    [
        {1: hours("09:00-12:00", "11:00-13:00")},  # overlapping
        {1: hours("12:00-09:00")},
        {7: hours("09:00-12:00")},
        {1: [(time(9, 0, 30), time(12))]},
    ],
)
def test_invalid_working_hours_are_refused(weekly):
    with pytest.raises(ValueError):
        staff(weekly=weekly)


def test_staff_ids_of_mixed_types_are_refused():
    with pytest.raises(ValueError):
        slots(staff(1), staff("2"))


def test_a_query_of_more_than_a_year_is_refused():
    with pytest.raises(ValueError):
        SlotQuery(start_date=TUESDAY, end_date=TUESDAY + timedelta(days=366), now=LONG_AGO)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(LookupError):
        TenantCalendar("Europe/Atlantis")


# ------------------------------------------------------------------ properties

# Transition days are where engines break: the property tests run around them.
DST_DAYS = {
    PARIS: [date(2025, 3, 30), date(2025, 10, 26), date(2025, 6, 10)],
    NEW_YORK: [date(2025, 3, 9), date(2025, 11, 2)],
    LORD_HOWE: [date(2025, 4, 6), date(2025, 10, 5)],
    "UTC": [date(2025, 6, 10)],
}


@st.composite
def wall_intervals(draw):
    """One or two non-overlapping working intervals on a 5-minute grid, midnight end allowed."""
    cuts = sorted(draw(st.lists(st.integers(0, 288), min_size=2, max_size=4, unique=True)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    intervals = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        end_time = time(0) if end == 288 else time(end * 5 // 60, end * 5 % 60)
        intervals.append((time(start * 5 // 60, start * 5 % 60), end_time))
    return intervals


class Scenario(NamedTuple):
    zone: str
    first: date
    last: date
    members: list[StaffSchedule]
    service: ServiceRules
    resource: ResourcePool | None
    now: datetime

    def slots(self, staff_id=None) -> list[Slot]:
        return slots(
            *self.members,
            service=self.service,
            zone=self.zone,
            first=self.first,
            last=self.last,
            now=self.now,
            staff_id=staff_id,
            resource=self.resource,
        )

    def validate(self, start: datetime):
        return validate(
            *self.members,
            start=start,
            service=self.service,
            zone=self.zone,
            now=self.now,
            resource=self.resource,
        )


@st.composite
def spans(draw, base: datetime, zone: str, max_size: int) -> list[TimeSpan]:
    """Random ranges on a 5-minute grid over three days from `base`, up to 3 hours long."""
    found = []
    for offset, length in draw(
        st.lists(st.tuples(st.integers(0, 3 * 24 * 12), st.integers(1, 36)), max_size=max_size)
    ):
        start = base + timedelta(minutes=5 * offset)
        found.append(
            TimeSpan(start.astimezone(ZoneInfo(zone)), start + timedelta(minutes=5 * length))
        )
    return found


@st.composite
def scenarios(draw, staff_count=1) -> Scenario:
    zone = draw(st.sampled_from(sorted(DST_DAYS)))
    day = draw(st.sampled_from(DST_DAYS[zone]))
    base = datetime.combine(day - timedelta(days=1), time(0), UTC)
    members = [
        StaffSchedule(
            staff_id=staff_id,
            weekly_hours={weekday: draw(wall_intervals()) for weekday in range(7)},
            busy=draw(spans(base, zone, max_size=8)),
            time_off=draw(spans(base, zone, max_size=1)),
        )
        for staff_id in range(1, staff_count + 1)
    ]
    service = ServiceRules(
        duration_minutes=draw(st.sampled_from([5, 15, 30, 45, 60, 90, 120])),
        slot_interval_minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60])),
        buffer_before_minutes=draw(st.sampled_from([0, 5, 10, 15, 30])),
        buffer_after_minutes=draw(st.sampled_from([0, 5, 10, 15, 30])),
        minimum_notice_minutes=draw(st.sampled_from([0, 60, 600])),
        maximum_advance_days=draw(st.sampled_from([None, 1, 2])),
    )
    resource = draw(
        st.none()
        | st.builds(
            ResourcePool,
            resource_id=st.just("room"),
            quantity=st.integers(1, 2),
            occupied=spans(base, zone, max_size=6),
        )
    )
    now = base + timedelta(minutes=draw(st.integers(0, 48 * 60)))
    return Scenario(
        zone, day - timedelta(days=1), day + timedelta(days=1), members, service, resource, now
    )


class LocalTimeline:
    """Every 5-minute instant of a few days with its wall time, read straight off the zone: an
    oracle for wall-to-real conversions that does not rely on `fold` (all test data sits on a
    5-minute grid, and every DST change here happens on one)."""

    def __init__(self, zone: str, first: date, last: date):
        tz = ZoneInfo(zone)
        instant = datetime.combine(first - timedelta(days=2), time(0), UTC)
        self.instants, self.walls = [], []
        while instant < datetime.combine(last + timedelta(days=3), time(0), UTC):
            self.instants.append(instant)
            self.walls.append(instant.astimezone(tz).replace(tzinfo=None))
            instant += timedelta(minutes=5)
        self.highest_so_far = list(itertools.accumulate(self.walls, max))

    def first_reaching(self, wall: datetime) -> int:
        """Index of the first instant whose wall clock shows `wall` or later."""
        return bisect.bisect_left(self.highest_so_far, wall)


def brute_force_starts(scenario: Scenario, member: StaffSchedule) -> set[datetime]:
    """Every bookable start, from the timeline oracle and plain loops: slow and obvious.

    A working interval is the real time from the first instant the wall clock reaches its
    opening time to the first instant it reaches its closing time; a grid wall time is bookable
    at the first instant the clock shows it, if it ever does."""
    service = scenario.service
    timeline = LocalTimeline(scenario.zone, scenario.first, scenario.last)
    duration = timedelta(minutes=service.duration_minutes)
    earliest = scenario.now + timedelta(minutes=service.minimum_notice_minutes)
    latest = (
        None
        if service.maximum_advance_days is None
        else scenario.now + timedelta(days=service.maximum_advance_days)
    )
    found = set()
    day = scenario.first
    while day <= scenario.last:
        for wall_start, wall_end in member.intervals_on(day):
            opens = datetime.combine(day, wall_start)
            closes = datetime.combine(
                day + timedelta(days=1) if wall_end == time(0) else day, wall_end
            )
            real_open = timeline.instants[timeline.first_reaching(opens)]
            real_close = timeline.instants[timeline.first_reaching(closes)]
            wall = opens
            while wall < closes:
                index = timeline.first_reaching(wall)
                start = timeline.instants[index]
                exists = timeline.walls[index] == wall
                inside = real_open <= start and start + duration <= real_close
                in_window = start >= earliest and (latest is None or start <= latest)
                if exists and inside and in_window and is_free(scenario, member, start):
                    found.add(start)
                wall += timedelta(minutes=service.slot_interval_minutes)
        day += timedelta(days=1)
    return found


def is_free(scenario: Scenario, member: StaffSchedule, start: datetime) -> bool:
    """The occupied range overlaps none of the member's bookings or time off, and at each
    5-minute instant in it fewer than `quantity` resource bookings are running."""
    service = scenario.service
    occupied_from = start - timedelta(minutes=service.buffer_before_minutes)
    occupied_to = start + timedelta(minutes=service.duration_minutes + service.buffer_after_minutes)
    for taken in (*member.busy, *member.time_off):
        if taken.start < occupied_to and occupied_from < taken.end:
            return False
    if scenario.resource is not None:
        instant = occupied_from
        while instant < occupied_to:
            in_use = sum(1 for u in scenario.resource.occupied if u.start <= instant < u.end)
            if in_use >= scenario.resource.quantity:
                return False
            instant += timedelta(minutes=5)
    return True


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_one_staff_engine_matches_a_brute_force_walk_of_the_wall_clock(scenario):
    (member,) = scenario.members
    found = scenario.slots()
    starts = [slot.start_utc for slot in found]
    assert starts == sorted(set(starts)), "sorted and unique"
    assert set(starts) == brute_force_starts(scenario, member)
    for slot in found:
        assert slot.end_utc - slot.start_utc == timedelta(minutes=scenario.service.duration_minutes)
        occupied_from = slot.start_utc - timedelta(minutes=scenario.service.buffer_before_minutes)
        occupied_to = slot.end_utc + timedelta(minutes=scenario.service.buffer_after_minutes)
        assert all(occupied_to <= b.start or occupied_from >= b.end for b in member.busy)
        assert scenario.validate(slot.start_utc) == 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(staff_count=3))
def test_any_staff_offers_the_union_of_staff_starts_to_the_least_booked(scenario):
    tz = ZoneInfo(scenario.zone)
    found = scenario.slots()
    per_staff = {
        member.staff_id: {slot.start_utc for slot in scenario.slots(staff_id=member.staff_id)}
        for member in scenario.members
    }
    assert {slot.start_utc for slot in found} == set().union(*per_staff.values())
    assert len(found) == len({slot.start_utc for slot in found})
    for slot in found:
        local_day = slot.in_zone(tz).date()

        def rank(member, local_day=local_day):
            count = sum(1 for b in member.busy if b.start.astimezone(tz).date() == local_day)
            return (count, member.staff_id)

        free = [m for m in scenario.members if slot.start_utc in per_staff[m.staff_id]]
        assert slot.staff_id == min(free, key=rank).staff_id
        assert scenario.validate(slot.start_utc) == slot.staff_id


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 3 * 24 * 60))
def test_validation_accepts_exactly_the_listed_starts(scenario, minute):
    listed = {slot.start_utc for slot in scenario.slots()}
    tz = ZoneInfo(scenario.zone)
    start = datetime.combine(scenario.first, time(0), tz).astimezone(UTC) + timedelta(
        minutes=minute
    )
    if not scenario.first <= start.astimezone(tz).date() <= scenario.last:
        return
    try:
        scenario.validate(start)
    except SlotError:
        assert start not in listed
    else:
        assert start in listed


def test_busy_as_epoch_seconds_blocks_like_busy_spans():
    """The ORM layer's fast path (`busy_seconds`) gives the same slots as `busy`."""
    zone = ZoneInfo("Europe/Paris")
    day = date(2030, 6, 4)
    booked = TimeSpan(datetime(2030, 6, 4, 10, tzinfo=zone), datetime(2030, 6, 4, 11, tzinfo=zone))
    common = dict(staff_id=1, weekly_hours={1: [(time(9), time(13))]},
                  bookings_count_by_date={day: 1})  # fmt: skip
    as_spans = StaffSchedule(busy=[booked], **common)
    as_seconds = StaffSchedule(
        busy_seconds=[(booked.start.timestamp(), booked.end.timestamp())], **common
    )
    query = SlotQuery(start_date=day, end_date=day, now=datetime(2030, 6, 1, tzinfo=UTC))
    rules = ServiceRules(duration_minutes=60, slot_interval_minutes=30)
    calendar = TenantCalendar(time_zone="Europe/Paris")

    def starts(member):
        found = available_slots(calendar=calendar, service=rules, staff=[member], query=query)
        return [slot.start_utc for slot in found]

    assert starts(as_seconds) == starts(as_spans)
    assert datetime(2030, 6, 4, 10, tzinfo=zone) not in starts(as_seconds)
    assert datetime(2030, 6, 4, 11, tzinfo=zone) in starts(as_seconds)


def test_busy_seconds_without_fairness_counts_is_refused():
    with pytest.raises(ValueError, match="bookings_count_by_date"):
        StaffSchedule(staff_id=1, weekly_hours={}, busy_seconds=[(0.0, 60.0)])
