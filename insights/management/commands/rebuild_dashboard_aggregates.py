"""Recompute the dashboard's aggregate tables from the raw bookings, for every tenant or one.

manage.py rebuild_dashboard_aggregates [--schema NAME]
"""

from insights.aggregates import rebuild
from insights.management.rebuild import rebuild_command

Command = rebuild_command(
    "Recompute the dashboard's aggregates (first bookings, rebookings, bookings and money per "
    "day) from the bookings and money tables.",
    rebuild,
)
