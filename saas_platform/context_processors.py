"""Template context of every back-office page: the navigation (with the business's logo) and,
on the second-factor pages, why the page the person came from asks for one."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tenants.navigation import navigation_for, second_factor_reason, section_for_path
from widgets.selectors import branding_get

SECOND_FACTOR_PATHS = ("/account/verify/", "/account/two_factor/setup/")


def _next_path(request: HttpRequest) -> str:
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if not next_url or not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return ""
    return next_url


def back_office(request: HttpRequest) -> dict:
    context: dict = {}
    if request.path.startswith(SECOND_FACTOR_PATHS):
        next_path = _next_path(request)
        context["second_factor_next"] = next_path
        context["second_factor_reason"] = second_factor_reason(next_path) if next_path else ""
        section = section_for_path(next_path.split("?")[0]) if next_path else None
        context["second_factor_section"] = section.label if section else ""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if membership is None or user is None or not user.is_authenticated:
        return context
    branding = branding_get()
    context["back_office_nav"] = navigation_for(role=membership.role, path=request.path)
    context["back_office_logo_url"] = (
        reverse("widget_logo", args=[branding.logo_version]) if branding.logo_version else ""
    )
    return context
