"""What every customer page of the widget shares: its language, its embedding and its base
configuration (the JSON the page script starts from)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

from scheduling.cancellation_policy import (
    CancellationPolicy,
    InvalidPolicy,
    describe,
)
from scheduling.selectors.availability import tenant_time_zone
from tenants.context import current_tenant

from . import catalogue
from .models import Branding
from .origins import InvalidOrigin, normalise_origin

SUPPORTED_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
EMBED_MODES = ("inline", "popup")
# The branding a customer page read, kept on its request for the middleware's CSP header.
BRANDING_ATTRIBUTE = "widget_branding"


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
    # An unsaved Branding() holds the field's default, a `WidgetLanguage` member: WSGI servers
    # refuse a header value (Content-Language) that is not exactly a str.
    return str(branding.default_language)


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


def positive_int(value: str | None) -> int | None:
    if not value or not (value.isascii() and value.isdigit()):  # "²".isdigit() is True
        return None
    return int(value) if 0 < int(value) < 2**63 else None


def policy_text(policy_json: object, language: str) -> str:
    try:
        return describe(CancellationPolicy.from_json(policy_json), locale=language)
    except (InvalidPolicy, ValueError):
        return str(catalogue.STRINGS["policy_unknown"])


def customer_page_context(request: HttpRequest, branding: Branding, language: str) -> dict:
    setattr(request, BRANDING_ATTRIBUTE, branding)  # for EmbeddableCustomerPagesMiddleware
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


def render_customer_page(request: HttpRequest, template: str, context: dict,
                          status: int = 200) -> HttpResponse:  # fmt: skip
    response = render(request, template, context, status=status)
    response["Content-Language"] = context["language"]
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the manage link carries its secret token
    return response
