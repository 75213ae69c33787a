"""Operator console: tenants, suspension, the audit log. Never a tenant's customer data."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing.models import FeeOverride
from connect_payments.models import ConnectedAccount
from tenants import selectors, services
from tenants.access import operator_required
from tenants.exceptions import TenancyError
from tenants.forms import ReasonForm
from tenants.http import SignedInRequest
from tenants.models import Tenant, TenantStatus

from .tenant_stats import booking_counts


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


@operator_required
def tenant_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in TenantStatus.values:
        status = ""
    page = Paginator(selectors.tenants_for_console(search=search, status=status), 50).get_page(
        request.GET.get("page")
    )
    counts = booking_counts([tenant.schema_name for tenant in page])
    rows = [(tenant, counts.get(tenant.schema_name)) for tenant in page]
    return render(
        request,
        "console/tenant_list.html",
        {"page": page, "rows": rows, "q": search, "status": status, "statuses": TenantStatus},
    )


@operator_required
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant.objects.select_related("plan"), slug=slug)
    return render(
        request,
        "console/tenant_detail.html",
        {
            "fee_override": FeeOverride.objects.filter(tenant=tenant).first(),
            "connected_account": ConnectedAccount.objects.filter(tenant=tenant).first(),
            "tenant": tenant,
            "bookings": booking_counts([tenant.schema_name]).get(tenant.schema_name),
            "members": selectors.team_of_tenant(tenant=tenant),
            "domains": tenant.domains.all(),
            "audit": selectors.audit_entries(tenant=tenant)[:50],
            "form": ReasonForm(),
        },
    )


@operator_required
@require_POST
def tenant_set_status(request: SignedInRequest, slug: str, action: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    if action == "fee":
        return _tenant_fee_override(request, tenant)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: it is written to the audit log.")
        return redirect("console:tenant_detail", slug=slug)
    changes = {"suspend": services.tenant_suspend, "reactivate": services.tenant_reactivate}
    if action not in changes:
        raise Http404("No such action.")
    change = changes[action]
    try:
        changed = change(
            tenant=tenant,
            operator=request.user,
            reason=form.cleaned_data["reason"],
            ip_address=_client_ip(request),
        )
    except TenancyError as error:
        messages.error(request, str(error))
    else:
        if changed:
            messages.success(request, f"{tenant.name}: {action} done.")
        else:
            messages.info(request, f"{tenant.name} was already in that state.")
    return redirect("console:tenant_detail", slug=slug)


def _tenant_fee_override(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Set or remove the tenant's booking-payment fee rate (percent + fixed), audited."""
    from billing.services import fee_override_set
    from common.money import MoneyError, parse_major_units

    percent = request.POST.get("fee_percent", "").strip()
    try:
        # "2.5" % is 250 basis points: the same two-decimal parsing as an amount in euros.
        basis_points = parse_major_units(text=percent, currency="EUR") if percent else None
        fixed = request.POST.get("fee_fixed", "").strip() or "0"
        fixed_minor = parse_major_units(text=fixed, currency=tenant.currency)
        fee_override_set(
            tenant=tenant, basis_points=basis_points, fixed_minor=fixed_minor,
            reason=request.POST.get("reason", "")[:500], operator=request.user,
            ip_address=_client_ip(request),
        )  # fmt: skip
    except (MoneyError, ValueError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{tenant.name}: fee rate saved.")
    return redirect("console:tenant_detail", slug=tenant.slug)


@operator_required
def audit_log(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.audit_entries(), 100).get_page(request.GET.get("page"))
    return render(request, "console/audit_log.html", {"page": page})
