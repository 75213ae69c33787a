"""The customer pages of a business: the hosted booking page, the manage page, theme and logo."""

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from memberships.selectors.memberships import offers_on_sale
from scheduling.api.public import ServiceListView
from scheduling.models import Service
from scheduling.tokens import booking_by_token
from waitlists.selectors import waitlist_enabled

from ..card_checkout import card_page_config
from ..contrast import text_colour_on
from ..models import Branding
from ..page_context import (
    customer_page_context,
    policy_text,
    positive_int,
    render_customer_page,
    widget_language,
)
from ..selectors import branding_get, phone_required


@require_GET
def book_page(request: HttpRequest, service_id: int | None = None) -> HttpResponse:
    """The hosted booking page (also the page the embed's iframe shows)."""
    branding = branding_get()
    language = widget_language(request, branding)
    with translation.override(language):
        context = customer_page_context(request, branding, language)
        services = Service.objects.filter(is_active=True)
        if service_id is not None and not any(s.pk == service_id for s in services):
            raise Http404("No such service.")
        context["base_config"].update(
            {
                "page": "book",
                "require_phone": phone_required(),
                # Where a full session or day's waitlist is joined ("" when the business
                # takes no waitlist requests).
                "waitlist": reverse("waitlist_join", args=[0])[: -len("0/")]
                if waitlist_enabled()
                else "",
                "preselect": {
                    "service": service_id or positive_int(request.GET.get("service")),
                    "staff": positive_int(request.GET.get("staff")),
                },
                "policies": {
                    str(s.pk): policy_text(s.cancellation_policy, language) for s in services
                },
                # The first screen without a second round trip: exactly what
                # GET /api/v1/services/ answers, produced by that same view.
                "services": _public_services(request),
                "resume": {
                    "reference": request.GET.get("reference", "")[:16],
                    "token": request.GET.get("token", "")[:64],
                },
                # Cards on file: each service's fees and consent text (widgets/card_checkout.py).
                **card_page_config(services, language),
            }
        )
        # Passes and memberships on sale: links to their pages on the account (memberships).
        context["offers_on_sale"] = offers_on_sale()
        return render_customer_page(request, "widgets/book.html", context)


def _public_services(request: HttpRequest) -> list | None:
    response = ServiceListView.as_view()(request)
    return response.data if response.status_code == 200 else None


@require_GET
def manage_page(request: HttpRequest, reference: str) -> HttpResponse:
    """The customer's page to see, cancel or move a booking (the link in the confirmation)."""
    branding = branding_get()
    language = widget_language(request, branding)
    with translation.override(language):
        context = customer_page_context(request, branding, language)
        booking = booking_by_token(reference, request.GET.get("token"))
        if booking is None:
            context["base_config"]["page"] = "manage"
            context["not_found"] = True
            return render_customer_page(request, "widgets/manage.html", context, status=404)
        context["base_config"].update(
            {
                "page": "manage",
                "booking": {"reference": booking.reference, "token": request.GET["token"]},
            }
        )
        return render_customer_page(request, "widgets/manage.html", context)


# ---------------------------------------------------------------------------


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
