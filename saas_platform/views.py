"""Public platform pages: landing and self-service signup."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_tenants.utils import tenant_context

from scheduling.starter import KINDS, starter_catalogue_apply
from tenants import selectors, services
from tenants.exceptions import TenancyError
from tenants.forms import COUNTRIES, COUNTRY_DEFAULTS, SignupForm
from tenants.time_zones import all_time_zones, zones_by_country
from widgets.selectors import branding_get
from widgets.services import branding_update

logger = logging.getLogger(__name__)


def landing(request: HttpRequest) -> HttpResponse:
    memberships = (
        selectors.memberships_of_user(user=request.user) if request.user.is_authenticated else []
    )
    return render(request, "platform/landing.html", {"memberships": memberships})


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None, kinds=KINDS)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant = services.tenant_provision(
                name=data["business_name"],
                slug=data["slug"],
                owner_email=data["email"],
                owner_name=data["owner_name"],
                owner_password=data["password"],
                country=data["country"],
                currency=data["currency"],
                time_zone=data["time_zone"],
            )
        except TenancyError as error:
            form.add_error(None, str(error))
        else:
            # The country's language is the booking page's default (the owner can change it).
            owner = tenant.memberships.get().user
            with tenant_context(tenant):
                branding_update(
                    branding=branding_get(), fields={"default_language": data["language"]}
                )
                if data.get("kind"):
                    starter_catalogue_apply(
                        kind=data["kind"], owner_user_id=owner.pk, owner_name=owner.full_name,
                        currency=tenant.currency, tenant_id=tenant.pk,
                    )  # fmt: skip
            token = services.login_handoff_create(user=owner, tenant=tenant)
            return redirect(services.tenant_url(tenant, f"/account/welcome/?token={token}"))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "platform/signup.html",
        {
            "form": form,
            "platform_domain": settings.PLATFORM_DOMAIN,
            "time_zones": all_time_zones(),
            "country_setup": {
                code: {
                    "zones": zones_by_country().get(code, []),
                    "currency": currency,
                    "name": name,
                }
                for code, name in COUNTRIES
                for currency in [COUNTRY_DEFAULTS.get(code, ("EUR", "en"))[0]]
            },
        },
        status=status,
    )
