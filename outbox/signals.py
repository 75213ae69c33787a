"""Celery hooks: a task that came from the outbox marks its row done when it finishes."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_retry, task_success

from .services import HEADER, outbox_mark_done, outbox_touch

logger = logging.getLogger(__name__)


def _outbox_id(request: Any) -> int | None:
    # With the Redis transport custom headers land both in `request.headers` and on the
    # request itself, depending on the protocol path; read both (as tenant-schemas-celery does).
    headers = getattr(request, "headers", None) or {}
    value = headers.get(HEADER) if isinstance(headers, dict) else None
    if value is None and hasattr(request, "get"):
        value = request.get(HEADER)
    return value if isinstance(value, int) else None


@task_success.connect(dispatch_uid="outbox.done")
def _task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    message_id = _outbox_id(getattr(sender, "request", None))
    if message_id is not None:
        outbox_mark_done(message_id)


@task_retry.connect(dispatch_uid="outbox.retrying")
def _task_retrying(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    message_id = _outbox_id(request)
    if message_id is not None:
        outbox_touch(message_id)
