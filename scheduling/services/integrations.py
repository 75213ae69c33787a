"""Writes for integrations: rotating calendar feed tokens, creating and revoking API keys."""

import logging
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from scheduling.models import ApiKey, StaffMember, new_token
from scheduling.selectors.integrations import api_key_hash

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "crn_live_"
# 40 characters of [A-Za-z0-9]: ~238 bits, and a double click selects the whole key.
API_KEY_SECRET_LENGTH = 40
API_KEY_ALPHABET = string.ascii_letters + string.digits
# Characters of the key shown in lists, enough to tell keys apart, far too few to guess the rest.
API_KEY_SHOWN_LENGTH = len(API_KEY_PREFIX) + 6
MAX_ACTIVE_API_KEYS = 25
# `last_used_at` is a hint for people, not an audit trail: one write a minute per key at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(Exception):
    """A key cannot be created; the message is safe to show on the API keys page."""


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key: `secret` exists only here, never in the database."""

    key: ApiKey
    secret: str


def staff_member_rotate_ics_token(*, staff_member: StaffMember, actor_user_id: int | None) -> str:
    """Give the staff member a new secret feed URL; the old one stops working at once."""
    secret = new_token()
    StaffMember.objects.filter(pk=staff_member.pk).update(
        ics_secret=secret, ics_token_legacy_hash=""
    )
    staff_member.ics_secret, staff_member.ics_token_legacy_hash = secret, ""
    token = staff_member.ics_token
    logger.info(
        "staff.ics_token.rotated",
        extra={"staff_member": staff_member.pk, "actor_user_id": actor_user_id},
    )
    return token


def api_key_create(*, name: str, created_by_user_id: int | None) -> NewApiKey:
    name = name.strip()
    if not name:
        raise ApiKeyError("Give the key a name, e.g. the integration that will use it.")
    if ApiKey.objects.filter(revoked_at__isnull=True).count() >= MAX_ACTIVE_API_KEYS:
        raise ApiKeyError(
            f"A business can have at most {MAX_ACTIVE_API_KEYS} active keys: revoke one first."
        )
    secret = API_KEY_PREFIX + "".join(
        secrets.choice(API_KEY_ALPHABET) for _ in range(API_KEY_SECRET_LENGTH)
    )
    key = ApiKey.objects.create(
        name=name[:100],
        prefix=secret[:API_KEY_SHOWN_LENGTH],
        secret_hash=api_key_hash(secret),
        created_by_user_id=created_by_user_id,
    )
    logger.info("api_key.created", extra={"api_key": key.pk, "actor_user_id": created_by_user_id})
    return NewApiKey(key=key, secret=secret)


def api_key_revoke(*, key: ApiKey, actor_user_id: int | None, now: datetime | None = None) -> bool:
    """Revoke a key; False when it was already revoked (nothing changes then)."""
    now = now or timezone.now()
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        logger.info("api_key.revoked", extra={"api_key": key.pk, "actor_user_id": actor_user_id})
    key.refresh_from_db(fields=["revoked_at"])
    return bool(revoked)


def api_key_mark_used(*, key: ApiKey, now: datetime | None = None) -> None:
    now = now or timezone.now()
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
