"""insights' periodic job: fold the platform activity's delta rows (insights/platform_activity.py)
into one row per tenant, day and currency, every 10 minutes (once per period, whatever the
number of beats)."""

from celery import shared_task

from outbox.periodic import OncePerPeriodTask

from .platform_activity import compact


@shared_task(base=OncePerPeriodTask)
def compact_platform_activity() -> int:
    return compact()
