"""The 500 handler of both URLconfs: an unreachable database is a 503 the client may retry.

A middleware cannot catch what the tenant middleware raises (Django turns each middleware's
exception into a response before the outer one sees it), but that conversion calls this handler,
for a failed host lookup as for a view, so every database outage reaches it.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from .health import RETRY_AFTER_SECONDS

DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


def wants_json(request: HttpRequest) -> bool:
    if request.path_info.startswith("/api/"):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After; built without the database (no context processors, no session)."""
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse(
            {
                "error": {
                    "code": "temporarily_unavailable",
                    "message": "The service is temporarily unavailable. Please retry shortly.",
                }
            },
            status=503,
        )
    else:
        response = HttpResponse(render_to_string("errors/temporarily_unavailable.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]  # called by Django while it handles the exception
    if isinstance(error, DATABASE_UNAVAILABLE_ERRORS):
        return service_unavailable(request)
    return defaults.server_error(request)
