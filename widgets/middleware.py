"""Content-Security-Policy of the customer pages that the widget shows inside other websites.

Everything else keeps the global `X-Frame-Options: DENY`. The booking and manage pages instead
send `Content-Security-Policy: frame-ancestors 'self' <the business's allowed websites>`, with
scripts limited to the page's own host and the Stripe.js in use, also on the suspended-business
page the tenancy middleware answers with, which is replaced here by one that reads well inside a
small iframe. Sits between XFrameOptionsMiddleware (outside) and TenantAccessMiddleware (inside)
in MIDDLEWARE.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from connect_payments.gateway import stripe_js_url

from .origins import InvalidOrigin, frame_ancestors

FRAMEABLE_PREFIXES = ("/book/", "/manage/", "/my/")

STRIPE_JS_ORIGIN = "https://js.stripe.com"
# Stripe's CSP guide: Elements' frames come from js.stripe.com and its subdomains, the 3-D Secure
# challenge frame from hooks.stripe.com.
STRIPE_SCRIPT_SOURCES = (STRIPE_JS_ORIGIN, "https://*.js.stripe.com")
STRIPE_FRAME_SOURCES = (STRIPE_JS_ORIGIN, "https://*.js.stripe.com", "https://hooks.stripe.com")


def stripe_sources() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(script-src, frame-src) sources of the Stripe.js the payment step loads.

    Read per request from `connect_payments.gateway.stripe_js_url`, so a stand-in (the local
    Stripe server, `STRIPE_API_BASE`) or `STRIPE_JS_URL` is allowed exactly like js.stripe.com.
    """
    url = urlsplit(stripe_js_url())
    origin = f"{url.scheme}://{url.netloc}"
    if origin == STRIPE_JS_ORIGIN:
        return STRIPE_SCRIPT_SOURCES, STRIPE_FRAME_SOURCES
    return (origin,), (origin,)  # a stand-in serves its script and any frame of its own


def embeddable_page_policy(allowed_origins: list[str]) -> str:
    try:
        ancestors = frame_ancestors(allowed_origins)
    except InvalidOrigin:  # a row edited by hand: fail closed to the business's own host
        ancestors = frame_ancestors([])
    scripts, frames = stripe_sources()
    return (
        f"{ancestors}; script-src 'self' {' '.join(scripts)}; frame-src {' '.join(frames)}; "
        "object-src 'none'; base-uri 'none'"
    )


class EmbeddableCustomerPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        tenant = getattr(request, "tenant", None)
        if (
            tenant is None
            or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
            or not request.path_info.startswith(FRAMEABLE_PREFIXES)
        ):
            return response
        from .page_context import BRANDING_ATTRIBUTE, customer_page_context, widget_language
        from .selectors import branding_get  # the app registry is ready by the first request

        # The customer page's view already read it; the suspended page never reached a view.
        branding = getattr(request, BRANDING_ATTRIBUTE, None) or branding_get()
        if response.status_code == 503 and tenant.is_suspended:
            language = widget_language(request, branding)
            with translation.override(language):
                context = customer_page_context(request, branding, language)
                context["base_config"]["page"] = "unavailable"
                response = render(request, "widgets/unavailable.html", context, status=503)
            response["Content-Language"] = language
            response["Retry-After"] = "3600"
        response.xframe_options_exempt = True
        response["Content-Security-Policy"] = embeddable_page_policy(branding.allowed_origins)
        return response
