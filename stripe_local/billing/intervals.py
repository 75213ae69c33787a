"""Billing periods: a day in seconds, and moving a timestamp by day/week/month/year intervals."""

from __future__ import annotations

import calendar
import datetime

DAY = 86400


def add_interval(timestamp: int, interval: str, count: int, anchor_day: int | None = None) -> int:
    """`timestamp` moved by `count` intervals, months clamped to their last day like Stripe."""
    if interval == "day":
        return timestamp + count * DAY
    if interval == "week":
        return timestamp + count * 7 * DAY
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())
