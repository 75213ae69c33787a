"""Request plumbing for tenancy: host routing, session binding, membership and suspension."""

import re

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from .http import TenantRequest
from .ports import booking_paused
from .selectors import membership_for

SESSION_SCHEMA_KEY = "_creneau_schema"

# Tenant-host paths that customers and anonymous visitors may reach; every other path of a tenant
# host is the business's back office and needs an active membership.
CUSTOMER_PATH_PREFIXES = (
    "/book/",
    "/api/",
    "/manage/",
    "/my/",  # the customer's account (widgets/views/account.py)
    "/widget/",
    "/static/",
    "/media/",
    "/healthz",
    "/favicon.ico",
)
# Reachable without membership so a person can sign in, reset a password or accept an invitation.
ACCOUNT_PATH_PREFIXES = ("/account/", "/invite/")
ALWAYS_ALLOWED_PATHS = ("/account/logout/",)

_READ = frozenset({"GET", "HEAD", "OPTIONS"})
# What a suspended business still answers: the bookings customers already made, through their
# manage link (the token is checked by each view): see the booking and the business's contact
# details, add it to a calendar, cancel it under its policy (the refund is still paid). Making,
# paying for or moving a booking, free times, and the back office stay refused.
OPEN_WHILE_SUSPENDED = (
    (_READ, re.compile(r"/manage/[^/]+/")),
    (_READ, re.compile(r"/api/v1/bookings/[^/]+/")),
    (_READ, re.compile(r"/api/v1/bookings/[^/]+/calendar\.ics")),
    (frozenset({"POST", "OPTIONS"}), re.compile(r"/api/v1/bookings/[^/]+/cancel/")),
    (_READ, re.compile(r"/widget/bookings/[^/]+/")),
    (_READ, re.compile(r"/widget/theme\.css")),
    (_READ, re.compile(r"/widget/logo/[^/]+/")),
    (_READ, re.compile(r"/favicon\.ico")),
)
# Open while the subscription pauses online booking: the team's own API and calendar feeds.
OPEN_WHILE_BOOKING_PAUSED = ("/static/", "/api/v1/staff/", "/api/v1/feeds/")
# Answered in JSON when refused: the booking API and the widget's helpers.
JSON_PATH_PREFIXES = ("/api/", "/widget/bookings/", "/widget/days/")


def open_while_suspended(method: str, path: str) -> bool:
    return any(
        method in methods and pattern.fullmatch(path) for methods, pattern in OPEN_WHILE_SUSPENDED
    )


class CreneauTenantMiddleware(TenantMainMiddleware):
    """django-tenants' host routing; unknown hosts get our 404 page instead of a bare error."""

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        # Host names are case-insensitive (RFC 4343) and domains are stored in lower case:
        # BETA.LOCALHOST is beta.localhost, not an unknown business.
        return TenantMainMiddleware.hostname_from_request(request).lower()

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF  # the page links to the platform
        set_urlconf(request.urlconf)
        return render(request, "errors/unknown_host.html", {"hostname": hostname}, status=404)


def _is_tenant_request(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME


class TenantSessionBindingMiddleware:
    """A session belongs to the schema it was opened on; anywhere else it is anonymous.

    Cookies are host-only already; this also stops a session id copied to another host.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and request.user.is_authenticated:
            bound = request.session.get(SESSION_SCHEMA_KEY)
            if bound != tenant.schema_name:
                request.user = AnonymousUser()
        return self.get_response(request)


class TenantAccessMiddleware:
    """Membership and suspension rules for every request on a tenant host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        request.membership = None
        if not _is_tenant_request(request):
            return self.get_response(request)
        tenant = request.tenant
        path = request.path_info
        user = request.user
        if user.is_authenticated:
            request.membership = membership_for(user=user, tenant=tenant)
        is_account_path = path.startswith(ACCOUNT_PATH_PREFIXES)
        is_customer_path = path.startswith(CUSTOMER_PATH_PREFIXES)

        if (
            user.is_authenticated
            and request.membership is None
            and not is_customer_path
            and path not in ALWAYS_ALLOWED_PATHS
        ):
            raise Http404("No such page.")

        if (
            tenant.is_suspended
            and not is_account_path
            and not path.startswith("/static/")
            and not open_while_suspended(request.method or "GET", path)
        ):
            if path.startswith(JSON_PATH_PREFIXES):
                message = f"{tenant.name} is not taking online bookings at the moment."
                return JsonResponse(
                    {"error": {"code": "business_suspended", "message": message}}, status=503
                )
            return render(
                request,
                "errors/suspended.html",
                {"tenant": tenant, "show_reason": request.membership is not None},
                status=503,
            )
        # The subscription (billing's port) pauses only what customers reach: the team keeps
        # the back office to see bookings and to pay.
        if (
            is_customer_path
            and not path.startswith(OPEN_WHILE_BOOKING_PAUSED)
            and not open_while_suspended(request.method or "GET", path)
            and booking_paused(tenant)
        ):
            message = f"{tenant.name} is not taking online bookings right now."
            if path.startswith(JSON_PATH_PREFIXES):
                return JsonResponse(
                    {"error": {"code": "booking_paused", "message": message}}, status=503
                )
            return render(request, "billing/booking_paused.html", {"tenant": tenant}, status=503)
        return self.get_response(request)
