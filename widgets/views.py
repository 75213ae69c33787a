"""Pages of the widget on a business's host: hosted booking page, manage page, their small JSON
helpers, the theme stylesheet and logo, and the owner's branding and embed pages."""

import secrets
from calendar import monthrange
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from scheduling.api import ApiError, PublicApiView, ServiceListView
from scheduling.cancellation_policy import (
    CancellationPolicy,
    InvalidPolicy,
    describe,
    refund_for_cancellation,
)
from scheduling.models import ACTIVE_STATUSES, Booking, Service, StaffMember
from scheduling.selectors import tenant_time_zone
from scheduling.serializers import known_time_zones
from tenants.access import member_required
from tenants.roles import Permission

from . import catalogue
from .contrast import contrast_warnings, text_colour_on
from .forms import BrandingForm, EmbedForm
from .models import Branding
from .origins import InvalidOrigin, normalise_origin
from .public_views import tenant_base
from .selectors import branding_get, current_tenant, days_with_availability, phone_required
from .services import booking_confirm_without_payment, branding_set_logo, branding_update

SUPPORTED_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
EMBED_MODES = ("inline", "popup")


# ---------------------------------------------------------------------------
# Customer pages
# ---------------------------------------------------------------------------
def widget_language(request: HttpRequest, branding: Branding) -> str:
    """`?lang=` (the embed's data-locale), else the browser's languages, else the business's."""
    requested = request.GET.get("lang", "").strip().lower().replace("_", "-")
    if requested.split("-")[0] in SUPPORTED_LANGUAGES:
        return requested.split("-")[0]
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            continue
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return branding.default_language


def _parent_origin(request: HttpRequest, branding: Branding) -> str | None:
    """The embedding page's origin, when it is one the business allowed (messages go only there)."""
    claimed = request.GET.get("origin", "")
    if not claimed:
        return None
    try:
        origin = normalise_origin(claimed)
    except InvalidOrigin:
        return None
    own = f"{request.scheme}://{request.get_host()}"
    return origin if origin in branding.allowed_origins or origin == own else None


def _positive_int(value: str | None) -> int | None:
    if not value or not (value.isascii() and value.isdigit()):  # "²".isdigit() is True
        return None
    return int(value) if 0 < int(value) < 2**63 else None


def _policy_text(policy_json: object, language: str) -> str:
    try:
        return describe(CancellationPolicy.from_json(policy_json), locale=language)
    except (InvalidPolicy, ValueError):
        return str(catalogue.STRINGS["policy_unknown"])


def _customer_page_context(request: HttpRequest, branding: Branding, language: str) -> dict:
    request.widget_branding = branding  # for EmbeddableCustomerPagesMiddleware's header
    tenant = current_tenant()
    mode = request.GET.get("mode", "")
    return {
        "branding": branding,
        "tenant": tenant,
        "language": language,
        "theme_version": int(branding.updated_at.timestamp()) if branding.updated_at else 0,
        "embedded": mode in EMBED_MODES,
        "base_config": {
            "lang": language,
            "tenant": {
                "name": tenant.name,
                "time_zone": tenant_time_zone(),
                "currency": tenant.currency,
                "address": branding.address,
            },
            "embed": {
                "mode": mode if mode in EMBED_MODES else None,
                "parent_origin": _parent_origin(request, branding),
            },
            "urls": {
                "api": "/api/v1/",
                "days": reverse("widget_days"),
                "book": reverse("book"),
                "manage": "/manage/",
                "widget": "/widget/",
            },
            "strings": catalogue.strings(),
        },
    }


def _render_customer_page(request: HttpRequest, template: str, context: dict,
                          status: int = 200) -> HttpResponse:  # fmt: skip
    response = render(request, template, context, status=status)
    response["Content-Language"] = context["language"]
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the manage link carries its secret token
    return response


@require_GET
def book_page(request: HttpRequest, service_id: int | None = None) -> HttpResponse:
    """The hosted booking page (also the page the embed's iframe shows)."""
    branding = branding_get()
    language = widget_language(request, branding)
    with translation.override(language):
        context = _customer_page_context(request, branding, language)
        services = Service.objects.filter(is_active=True).only("pk", "cancellation_policy")
        if service_id is not None and not any(s.pk == service_id for s in services):
            raise Http404("No such service.")
        context["base_config"].update(
            {
                "page": "book",
                "require_phone": phone_required(),
                "preselect": {
                    "service": service_id or _positive_int(request.GET.get("service")),
                    "staff": _positive_int(request.GET.get("staff")),
                },
                "policies": {
                    str(s.pk): _policy_text(s.cancellation_policy, language) for s in services
                },
                # The first screen without a second round trip: exactly what
                # GET /api/v1/services/ answers, produced by that same view.
                "services": _public_services(request),
                "resume": {
                    "reference": request.GET.get("reference", "")[:16],
                    "token": request.GET.get("token", "")[:64],
                },
            }
        )
        return _render_customer_page(request, "widgets/book.html", context)


def _public_services(request: HttpRequest) -> list | None:
    response = ServiceListView.as_view()(request)
    return response.data if response.status_code == 200 else None


def _booking_for_token(reference: str, token: str | None) -> Booking:
    booking = (
        Booking.objects.select_related("service", "staff", "customer")
        .filter(reference=reference)
        .first()
    )
    if (
        booking is None
        or not token
        or not secrets.compare_digest(booking.manage_token.encode(), token.encode())
    ):
        raise Http404("No booking matches this reference and token.")
    return booking


@require_GET
def manage_page(request: HttpRequest, reference: str) -> HttpResponse:
    """The customer's page to see, cancel or move a booking (the link in the confirmation)."""
    branding = branding_get()
    language = widget_language(request, branding)
    with translation.override(language):
        context = _customer_page_context(request, branding, language)
        try:
            booking = _booking_for_token(reference, request.GET.get("token"))
        except Http404:
            context["base_config"]["page"] = "manage"
            context["not_found"] = True
            return _render_customer_page(request, "widgets/manage.html", context, status=404)
        context["base_config"].update(
            {
                "page": "manage",
                "booking": {"reference": booking.reference, "token": request.GET["token"]},
            }
        )
        return _render_customer_page(request, "widgets/manage.html", context)


# ---------------------------------------------------------------------------
# JSON helpers of the customer pages (the rest is the public API, /api/v1/)
# ---------------------------------------------------------------------------
class DaysView(PublicApiView):
    """Days of a month with at least one free time, in the customer's zone."""

    throttle_scope = "browse"  # counted with the API's services and availability

    @extend_schema(exclude=True)  # the widget's own helper, not the public API
    def get(self, request: Request) -> Response:
        params = request.query_params
        service_id = _positive_int(params.get("service"))
        service = Service.objects.filter(pk=service_id, is_active=True).first()
        if service is None:
            raise ApiError(code="not_found", message="This service does not exist.",
                           http_status=404, field="service")  # fmt: skip
        staff_id = _positive_int(params.get("staff"))
        if staff_id is not None and not service.staff.filter(pk=staff_id, is_active=True).exists():
            raise ApiError(code="not_found", message="This staff member does not offer this "
                           "service.", http_status=404, field="staff")  # fmt: skip
        zone = params.get("tz") or tenant_time_zone()
        if zone not in known_time_zones():
            raise ApiError(code="invalid", message="Unknown time zone.", field="tz")
        try:
            year, month = (int(part) for part in params.get("month", "").split("-"))
            first_day = date(year, month, 1)
        except ValueError:
            raise ApiError(code="invalid", message="Give the month as YYYY-MM.", field="month")
        if not 2000 <= year <= 9000:
            raise ApiError(code="invalid", message="Use a year between 2000 and 9000.",
                           field="month")  # fmt: skip
        last_day = date(year, month, monthrange(year, month)[1])
        # The manage page moving a seat leaves its own session out.
        days = days_with_availability(service=service, first_day=first_day, last_day=last_day,
                                      zone=zone, staff_id=staff_id,
                                      exclude_occurrence_id=_positive_int(
                                          params.get("exclude_occurrence")))  # fmt: skip
        latest = timezone.now().date().toordinal() + service.maximum_advance_days + 1
        return Response(
            {
                "service": service.pk,
                "month": f"{year:04d}-{month:02d}",
                "time_zone": zone,
                "days": [day.isoformat() for day in days],
                "has_later_months": last_day.toordinal() < latest,
            }
        )


class BookingConfirmView(PublicApiView):
    """Confirm a held booking that needs no online payment (free or pay at the venue)."""

    throttle_scope = "token"  # counted with the API's endpoints reached by manage token

    @extend_schema(exclude=True)  # the widget's own helper, not the public API
    def post(self, request: Request, reference: str) -> Response:
        token = request.data.get("token") if hasattr(request.data, "get") else None
        try:
            booking = _booking_for_token(reference, token if isinstance(token, str) else None)
        except Http404:
            raise ApiError(code="not_found", http_status=404,
                           message="No booking matches this reference and token.")  # fmt: skip
        booking = booking_confirm_without_payment(booking=booking)
        return Response({"reference": booking.reference, "status": booking.status})


class BookingPolicyView(PublicApiView):
    """What the manage page needs besides the public booking: ids, policy, refund now."""

    throttle_scope = "token"

    @extend_schema(exclude=True)  # the widget's own helper, not the public API
    def get(self, request: Request, reference: str) -> Response:
        try:
            booking = _booking_for_token(reference, request.query_params.get("token"))
        except Http404:
            raise ApiError(code="not_found", http_status=404,
                           message="No booking matches this reference and token.")  # fmt: skip
        language = widget_language(request, branding_get())
        try:
            policy = CancellationPolicy.from_json(booking.policy_snapshot)
            percent = refund_for_cancellation(
                policy=policy, paid_minor=0, starts_at=booking.starts_at,
                cancelled_at=timezone.now(),
            ).percent  # fmt: skip
        except (InvalidPolicy, ValueError):
            percent = 0
        changeable = booking.status in ACTIVE_STATUSES and booking.starts_at > timezone.now()
        return Response(
            {
                "reference": booking.reference,
                "service_id": booking.service_id,
                "staff_id": booking.staff_id,
                "staff_count": StaffMember.objects.filter(
                    services=booking.service_id, is_active=True
                ).count(),  # fmt: skip
                "customer_email": booking.customer.email,
                "payment_mode": booking.payment_mode,
                "policy_text": _policy_text(booking.policy_snapshot, language),
                "refund_percent_now": percent,
                "changeable": changeable,
                "reschedulable": changeable,
                # A seat moves to another session of its class (`occurrence` in reschedule).
                "occurrence_id": booking.occurrence_id,
            }
        )


# ---------------------------------------------------------------------------
# Theme and logo
# ---------------------------------------------------------------------------
@require_GET
@cache_control(public=True, max_age=60 * 60 * 24 * 365, immutable=True)  # URLs carry ?v=
def theme_css(request: HttpRequest) -> HttpResponse:
    """The business's colours, font and corners as CSS custom properties (no inline styles)."""
    branding = branding_get()
    css = render_to_string("widgets/theme.css", {"theme": theme_of(branding)})
    return HttpResponse(css, content_type="text/css; charset=utf-8")


def theme_of(branding: Branding) -> dict:
    return {
        "primary": branding.primary_colour,
        "on_primary": text_colour_on(branding.primary_colour),
        "accent": branding.accent_colour,
        "on_accent": text_colour_on(branding.accent_colour),
        "font": branding.font_stack,
        "radius": branding.corner_radius,
    }


@require_GET
@cache_control(public=True, max_age=60 * 60 * 24 * 365, immutable=True)
def logo(request: HttpRequest, version: str) -> HttpResponse:
    branding = Branding.objects.filter(logo_version=version).first()
    if branding is None:
        raise Http404("No such logo.")
    response = HttpResponse(bytes(branding.logo), content_type=branding.logo_content_type)
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# ---------------------------------------------------------------------------
# Owner pages
# ---------------------------------------------------------------------------
@member_required(Permission.MANAGE_BRANDING)
def branding_page(request: HttpRequest) -> HttpResponse:
    branding = branding_get()
    form = BrandingForm(instance=branding)
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES, instance=branding)
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in BrandingForm.Meta.fields}
            branding_update(branding=branding, fields=fields)
            upload = form.cleaned_data.get("logo_file")
            if upload is not None:
                branding_set_logo(branding=branding, data=form.logo_bytes, name=upload.name)
            elif form.cleaned_data.get("remove_logo"):
                branding_set_logo(branding=branding, data=None)
            messages.success(request, _("Branding saved."))  # warnings: on the page itself
            return redirect("branding")
    warnings = []
    if not form.is_bound or form.is_valid():
        warnings = contrast_warnings(primary=branding.primary_colour, accent=branding.accent_colour)
    return render(
        request,
        "widgets/branding.html",
        {
            "form": form,
            "branding": branding,
            "warnings": [_contrast_message(w) for w in warnings],
            "theme_version": int(branding.updated_at.timestamp()) if branding.updated_at else 0,
        },
        status=400 if form.is_bound else 200,
    )


def _contrast_message(warning) -> str:
    name = _("Primary colour") if warning.colour_name == "primary" else _("Accent colour")
    return _(
        "%(name)s: contrast %(ratio)s with text, below the 4.5:1 that WCAG AA asks for. "
        "Text in this colour may be hard to read; choose a darker shade."
    ) % {"name": name, "ratio": warning.ratio_text}


def platform_origin(request: HttpRequest) -> str:
    """Where widget.js is served: the platform host, with the port this host was reached on."""
    base = tenant_base(request)
    return f"{base['scheme']}://{base['domain']}{base['port']}"


@member_required(Permission.MANAGE_BRANDING)
def embed_page(request: HttpRequest) -> HttpResponse:
    branding = branding_get()
    services = list(Service.objects.filter(is_active=True).values_list("pk", "name"))
    staff = list(StaffMember.objects.filter(is_active=True).values_list("pk", "display_name"))
    origins_form = EmbedForm(initial={"allowed_origins": "\n".join(branding.allowed_origins)})
    if request.method == "POST":
        origins_form = EmbedForm(request.POST)
        if origins_form.is_valid():
            origins = origins_form.cleaned_data["allowed_origins"]
            branding_update(branding=branding, fields={"allowed_origins": origins})
            messages.success(request, _("Allowed websites saved."))
            return redirect("embed")
    tenant = current_tenant()
    book_url = request.build_absolute_uri(reverse("book"))
    return render(
        request,
        "widgets/embed.html",
        {
            "form": origins_form,
            "branding": branding,
            "services": services,
            "staff": staff,
            "script_url": platform_origin(request) + "/widget.js",
            "slug": tenant.slug,
            "book_url": book_url,
            "service_links": [
                (name, request.build_absolute_uri(reverse("book_service", args=[pk])))
                for pk, name in services
            ],
        },
        status=400 if origins_form.is_bound else 200,
    )
