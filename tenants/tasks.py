"""Tenant-aware tasks of teams (run by Celery in the schema of the tenant that sent them)."""

import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from outbox.durable import DURABLE_TASK

from .context import active_schema, current_tenant
from .exceptions import TenancyError
from .models import Invitation

logger = logging.getLogger(__name__)


class WrongSchema(TenancyError):
    pass


@shared_task(bind=True, max_retries=5, default_retry_delay=30, **DURABLE_TASK)
def send_invitation_email(self, invitation_id: int, accept_url: str) -> str:
    """Send the invitation once; returns the schema it ran in (the tenant's, never public).

    Run again (a worker killed mid-send, the outbox handing it again), it sends nothing more:
    the invitation's row lock makes a concurrent duplicate wait, then find `sent_at` set. A
    worker killed while the mail server holds the message rolls the lock back with its
    connection, and the next run sends it.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("tenant", "invited_by")
            .get(pk=invitation_id)
        )
        if active_schema() != invitation.tenant.schema_name:
            raise WrongSchema(
                f"invitation of {invitation.tenant.schema_name} processed in {active_schema()}"
            )
        if invitation.sent_at is not None:
            return active_schema()
        context = {"invitation": invitation, "tenant": current_tenant(), "accept_url": accept_url}
        send_mail(
            subject=f"{invitation.invited_by.full_name} invited you to {current_tenant().name}",
            message=render_to_string("team/invitation_email.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    logger.info("team.invitation_sent", extra={"tenant": active_schema()})
    return active_schema()
