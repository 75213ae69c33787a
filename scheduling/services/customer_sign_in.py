"""Customer accounts: one-time sign-in links by email, and the signed-in customer's session.

A customer has no password. They type their email on the business's page; if the business
knows that email, a link valid for `SIGN_IN_LINK_MINUTES` is emailed (through the outbox, after
commit). The token is derived from the link's nonce and SECRET_KEY and only its SHA-256 is
stored; the link is used once. Links and customers live in the business's schema: a link of
business A finds nothing on business B's host, and the session remembers which schema signed
the customer in, so a session cookie can never name a customer of another business.

The answer to a sign-in request never says whether the email is known (no account probing).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from common.link_tokens import legacy_hash, link_token
from outbox.services import outbox_enqueue
from scheduling.exceptions import BookingError
from scheduling.models import Customer, CustomerSignInLink

logger = logging.getLogger(__name__)

SIGN_IN_LINK_MINUTES = 20
SIGN_IN_LINKS_PER_HOUR = 5  # per customer: more requests send nothing (the answer is the same)
SIGN_IN_TOKEN_PURPOSE = "customer-sign-in"
# The email task (notifications/customer_emails.py), queued by name: scheduling sits below it.
SIGN_IN_EMAIL_TASK = "notifications.customer_sign_in_link"
SESSION_KEY = "creneau_customer"


class SignInLinkInvalid(BookingError):
    code = "sign_in_link_invalid"
    http_status = 400
    default_message = "This sign-in link is not valid. Ask for a new one."


def sign_in_token_of(link: CustomerSignInLink) -> str:
    """The token of a link, re-derived (the email task builds the URL with it)."""
    return link_token(SIGN_IN_TOKEN_PURPOSE, link.nonce)


def customer_sign_in_request(
    *, email: str, now: datetime | None = None
) -> CustomerSignInLink | None:
    """Email a sign-in link to the customer with this email, if the business knows them.

    Returns the link (None for an unknown email or too many requests); the caller shows the
    same answer either way.
    """
    now = now or timezone.now()
    email = email.strip().lower()
    if not email or "@" not in email:
        return None
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer is None:
        logger.info("customer.sign_in_unknown_email")
        return None
    with transaction.atomic():
        recent = CustomerSignInLink.objects.filter(
            customer=customer, created_at__gt=now - timedelta(hours=1)
        ).count()
        if recent >= SIGN_IN_LINKS_PER_HOUR:
            logger.warning("customer.sign_in_rate_limited", extra={"customer": customer.pk})
            return None
        link = CustomerSignInLink(
            customer=customer, created_at=now,
            expires_at=now + timedelta(minutes=SIGN_IN_LINK_MINUTES),
        )  # fmt: skip
        link.token_hash = legacy_hash(sign_in_token_of(link))
        link.save()
        # Only the link's id travels in the outbox row; the task re-derives the token.
        outbox_enqueue(SIGN_IN_EMAIL_TASK, kwargs={"link_id": link.pk})
    return link


def customer_sign_in_consume(*, token: str, now: datetime | None = None) -> Customer:
    """Use a link once: the customer it signs in, or SignInLinkInvalid (unknown, of another
    business, already used, expired). Concurrent uses of one link: one wins."""
    now = now or timezone.now()
    if not token or len(token) > 100:
        raise SignInLinkInvalid()
    with transaction.atomic():
        link = (
            CustomerSignInLink.objects.select_for_update()
            .select_related("customer")
            .filter(token_hash=legacy_hash(token))
            .first()
        )
        if link is None:
            raise SignInLinkInvalid()
        if link.used_at is not None:
            raise SignInLinkInvalid("This sign-in link was already used. Ask for a new one.")
        if link.expires_at <= now:
            raise SignInLinkInvalid("This sign-in link has expired. Ask for a new one.")
        updated = CustomerSignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=now
        )
        if updated != 1:
            raise SignInLinkInvalid("This sign-in link was already used. Ask for a new one.")
    logger.info("customer.signed_in", extra={"customer": link.customer_id})
    return link.customer


def _schema() -> str:
    return str(getattr(connection, "schema_name", ""))


def customer_session_start(*, request: HttpRequest, customer: Customer) -> None:
    """Sign the customer in on this host (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"id": customer.pk, "schema": _schema()}


def customer_session_end(*, request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def signed_in_customer(request: HttpRequest) -> Customer | None:
    """The customer signed in on this business's host, or None (a session of another schema
    counts as none)."""
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(data, dict) or data.get("schema") != _schema():
        return None
    customer_id = data.get("id")
    if not isinstance(customer_id, int):
        return None
    return Customer.objects.filter(pk=customer_id).first()
