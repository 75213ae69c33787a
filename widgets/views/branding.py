"""The owner's pages of the widget: branding (colours, logo, contact lines) and the embed code."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from scheduling.models import Service, StaffMember
from tenants.access import member_required
from tenants.context import current_tenant
from tenants.roles import Permission

from ..contrast import contrast_warnings
from ..forms import BrandingForm, EmbedForm
from ..selectors import branding_get
from ..services import branding_set_logo, branding_update
from .loader import tenant_base


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
