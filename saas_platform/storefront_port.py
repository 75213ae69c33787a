"""insights' Storefront port answered from widgets (registered in SaasPlatformConfig.ready)."""

from __future__ import annotations

from django.db.models import Field
from django.http import HttpRequest

from tenants.context import current_tenant
from widgets.models import Branding
from widgets.selectors import branding_allowed_origins
from widgets.views.branding import platform_origin


def _default(name: str) -> object:
    field = Branding._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_default()


class WidgetStorefront:
    def is_branded(self) -> bool:
        branding = Branding.objects.first()
        if branding is None:
            return False
        return bool(
            branding.logo_version
            or branding.welcome_text.strip()
            or branding.primary_colour != _default("primary_colour")
            or branding.accent_colour != _default("accent_colour")
        )

    def embedding_websites(self) -> list[str]:
        return branding_allowed_origins()

    def embed_snippet(self, request: HttpRequest) -> str:
        # The embed page's default line (templates/widgets/embed.html): inline, any service.
        script = platform_origin(request) + "/widget.js"
        slug = current_tenant().slug
        return f'<script src="{script}" data-creneau="{slug}" data-mode="inline" async></script>'
