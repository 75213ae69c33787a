"""JSON log lines carrying the tenant schema and a request id (LOG_FORMAT=json; docs/operations.md).

Each web request gets an id: the proxy's `X-Request-ID` when it sent a sane one, else a new
one; it is echoed in the response's `X-Request-ID` header and put on every line logged while
the request runs. A Celery task's lines carry its task id instead. The tenant is the database
connection's schema at the time of the line (`public` outside a business).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("creneau_request_id", default="")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


def _schema() -> str:
    try:
        from django.db import connection

        return str(getattr(connection, "schema_name", "") or "")
    except Exception:  # noqa: BLE001  (logging must never fail because of the database layer)
        return ""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event (the message), tenant, request_id,
    the `extra=` fields, and the exception's traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            "tenant": _schema(),
            "request_id": request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class RequestIdMiddleware:
    """Near the top of MIDDLEWARE, so the lines of every later middleware carry the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        value = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = value
        return response


@task_prerun.connect(dispatch_uid="structured_logs.task_id")
def _task_started(task_id: str | None = None, **kwargs: Any) -> None:
    request_id.set(task_id or "")


@task_postrun.connect(dispatch_uid="structured_logs.task_done")
def _task_finished(**kwargs: Any) -> None:
    request_id.set("")
