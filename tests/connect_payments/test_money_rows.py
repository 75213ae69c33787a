"""`money_rows.bookings.booking_time` (the payments list's booking times, read once per language
instead of `date_format` per row) says exactly what `date_format(…, "D j M Y, H:i")` says, in
English and French, across both of a year's daylight-saving changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from connect_payments.money_rows.bookings import booking_time


@pytest.mark.parametrize("language", ["en", "fr"])
def test_booking_time_reads_as_date_format(language):
    start = datetime(2026, 1, 1, 8, 5, tzinfo=UTC)
    with translation.override(language), timezone.override(ZoneInfo("Europe/Paris")):
        for step in range(0, 400 * 24, 17):  # every 17 hours for 400 days
            moment = start + timedelta(hours=step)
            assert booking_time(moment) == date_format(
                timezone.localtime(moment), "D j M Y, H:i"
            ), moment
