"""Recompute the operator's platform activity from each tenant's bookings, payments and refunds.

manage.py rebuild_platform_activity [--schema NAME]

The triggers keep it exact; this is for a repair (or after restoring a tenant's schema). Each
tenant's tables are locked against writes for the few milliseconds its rows take.
"""

from insights.management.rebuild import rebuild_command
from insights.platform_activity import rebuild_current_schema

Command = rebuild_command(
    "Recompute the console's platform activity (bookings, volume, fees, refunds per day).",
    rebuild_current_schema,
)
