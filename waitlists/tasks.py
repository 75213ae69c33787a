"""Celery tasks of waitlists: a freed place opened after commit, offer emails, the automatic
booking, and the beat sweep that expires offers and passes them on (every minute, each tenant).

All run in the tenant's schema (tenant-schemas-celery) and are idempotent: the place is written
once per freeing event, an offer email is sent once, an offer expires once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from outbox.durable import DURABLE_TASK
from outbox.periodic import OncePerPeriodTask
from tenants.iteration import each_tenant

from .emails import OfferEmailFailed, offer_email_send, offer_notice_send
from .services.offers import (
    AUTOMATIC_TASK,
    NOTICE_TASK,
    OPEN_PLACE_TASK,
    SEND_OFFER_TASK,
    offers_expire_due,
    place_open,
)

logger = logging.getLogger(__name__)

EMAIL_MAX_RETRIES = 5
EMAIL_RETRY_BASE_SECONDS = 30


@shared_task(name=OPEN_PLACE_TASK, **DURABLE_TASK)
def open_freed_place(booking_id: int, event_id: int | None = None) -> str:
    return place_open(booking_id=booking_id, event_id=event_id)


@shared_task(bind=True, name=SEND_OFFER_TASK, max_retries=EMAIL_MAX_RETRIES, **DURABLE_TASK)
def send_offer_email(self, offer_id: int) -> str:
    try:
        return offer_email_send(offer_id=offer_id)
    except OfferEmailFailed as error:
        if self.request.retries >= EMAIL_MAX_RETRIES:
            logger.error("waitlist.offer_email_gave_up", extra={"offer": offer_id})
            return "failed"
        raise self.retry(exc=error, countdown=EMAIL_RETRY_BASE_SECONDS * 2**self.request.retries)


@shared_task(bind=True, name=NOTICE_TASK, max_retries=EMAIL_MAX_RETRIES, **DURABLE_TASK)
def send_offer_notice(self, offer_id: int) -> str:
    """The kind email of a place taken by someone else, or of a declined saved card."""
    try:
        return offer_notice_send(offer_id=offer_id)
    except OfferEmailFailed as error:
        if self.request.retries >= EMAIL_MAX_RETRIES:
            logger.error("waitlist.notice_email_gave_up", extra={"offer": offer_id})
            return "failed"
        raise self.retry(exc=error, countdown=EMAIL_RETRY_BASE_SECONDS * 2**self.request.retries)


@shared_task(name="waitlists.tasks.open_places_for_new_hours", **DURABLE_TASK)
def open_places_for_new_hours(staff_id: int) -> int:
    from .services.hours import places_for_new_hours

    return places_for_new_hours(staff_id=staff_id)


@shared_task(name=AUTOMATIC_TASK, **DURABLE_TASK)
def book_automatically(offer_id: int) -> str:
    from .services.automatic import offer_book_automatically

    return offer_book_automatically(offer_id=offer_id)


@shared_task(name="waitlists.tasks.expire_offers_in_every_tenant", base=OncePerPeriodTask)
def expire_offers_in_every_tenant(now: str | None = None) -> dict[str, int]:
    """Expire open offers past their time and pass each place to the next person in line."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    expired: dict[str, int] = {}
    for tenant in each_tenant():
        count = offers_expire_due(now=moment)
        if count:
            expired[tenant.schema_name] = count
            logger.info("waitlist.offers_expired", extra={"tenant": tenant.schema_name,
                                                          "count": count})  # fmt: skip
    return expired
