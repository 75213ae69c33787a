"""Operator console: tenants, suspension, the audit log, the platform view. Never a tenant's
customer data, and never a query per tenant schema (the figures come from public tables)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing.models import FeeOverride, TenantSubscription
from billing.views.console import billing_panel
from billing.webhooks import CUSTOMER_EVENTS, INVOICE_EVENTS, SUBSCRIPTION_EVENTS
from connect_payments.models import ConnectedAccount, StripeEvent
from insights.platform import bookings_per_tenant, platform_view
from tenants import selectors, services
from tenants.access import operator_required
from tenants.exceptions import TenancyError
from tenants.forms import ReasonForm
from tenants.http import SignedInRequest
from tenants.models import Tenant, TenantStatus


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
    counts = bookings_per_tenant([tenant.pk for tenant in page])
    rows = [(tenant, counts.get(tenant.pk, 0)) for tenant in page]
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
            "bookings": bookings_per_tenant([tenant.pk]).get(tenant.pk, 0),
            "members": selectors.team_of_tenant(tenant=tenant),
            "domains": tenant.domains.all(),
            "audit": selectors.audit_entries(tenant=tenant)[:50],
            "form": ReasonForm(),
            "billing": billing_panel(tenant),
            "billing_events": _billing_events(tenant),
        },
    )


def _billing_events(tenant: Tenant) -> list[StripeEvent]:
    """The platform's billing events about this tenant's Stripe customer (latest first)."""
    row = TenantSubscription.objects.filter(tenant=tenant).first()
    if row is None or not row.stripe_customer_id:
        return []
    customer = row.stripe_customer_id
    types = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | CUSTOMER_EVENTS
    return list(
        StripeEvent.objects.filter(type__in=types, account_id="")
        .filter(
            Q(payload__data__object__customer=customer)
            | Q(type="customer.updated", payload__data__object__id=customer)
        )
        .order_by("-received_at")[:50]
    )


# What an operator is told before and after suspending: the console's one wording of it.
SUSPENSION_EFFECTS = (
    "New bookings stop: the booking page, the widget and the booking API take no new bookings "
    "and show no free times.",
    "The business's team is kept out of its back office and sees your reason.",
    "Customers who already booked can still open their booking, cancel it under the business's "
    "policy (refunds are still paid) and see the business's contact details.",
    "Nothing is deleted: reactivating the business restores everything.",
)


@operator_required
def tenant_suspend(request: SignedInRequest, slug: str) -> HttpResponse:
    """Suspension in two steps: a page naming the business and what suspension does, then the
    operator's confirmation with a reason (required: the team sees it, the audit log keeps it)."""
    tenant = get_object_or_404(Tenant, slug=slug)
    if request.method != "POST":
        return _suspend_page(request, tenant, ReasonForm())
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _suspend_page(request, tenant, form, status=400)
    try:
        changed = services.tenant_suspend(
            tenant=tenant,
            operator=request.user,
            reason=form.cleaned_data["reason"],
            ip_address=_client_ip(request),
        )
    except TenancyError as error:
        form.add_error("reason", str(error))
        return _suspend_page(request, tenant, form, status=400)
    if changed:
        messages.success(
            request,
            f"{tenant.name} is suspended: {form.cleaned_data['reason'].strip()}. New bookings and "
            "its back office are closed; its customers can still see and cancel their bookings.",
        )
    else:
        messages.info(request, f"{tenant.name} was already suspended: nothing changed.")
    return redirect("console:tenant_detail", slug=slug)


def _suspend_page(request: HttpRequest, tenant: Tenant, form: ReasonForm, *,
                  status: int = 200) -> HttpResponse:  # fmt: skip
    context = {"tenant": tenant, "form": form, "effects": SUSPENSION_EFFECTS}
    return render(request, "console/tenant_suspend.html", context, status=status)


@operator_required
@require_POST
def tenant_set_status(request: SignedInRequest, slug: str, action: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    if action == "fee":
        return _tenant_fee_override(request, tenant)
    if action != "reactivate":
        raise Http404("No such action.")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: it is written to the audit log.")
        return redirect("console:tenant_detail", slug=slug)
    try:
        changed = services.tenant_reactivate(
            tenant=tenant,
            operator=request.user,
            reason=form.cleaned_data["reason"],
            ip_address=_client_ip(request),
        )
    except TenancyError as error:
        messages.error(request, str(error))
    else:
        if changed:
            messages.success(
                request, f"{tenant.name} is active again: bookings and its back office are open."
            )
        else:
            messages.info(request, f"{tenant.name} was already active: nothing changed.")
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


@operator_required
def revenue(request: HttpRequest) -> HttpResponse:
    """MRR, ARR, tenants by status, conversion, churn, failed payments, revenue per month: from
    the stored Stripe objects and booking fees (saas_platform.revenue), no Stripe call."""
    from .revenue import revenue_report

    return render(request, "console/revenue.html", {"report": revenue_report()})


PLATFORM_PERIODS = (7, 30, 90)


@operator_required
def platform(request: HttpRequest) -> HttpResponse:
    """Platform-wide bookings, volume, fees, tenants, failures (insights.platform) beside the
    subscription figures of the revenue page (MRR, tenants by status)."""
    from .revenue import revenue_report

    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in PLATFORM_PERIODS:
        days = 30
    return render(
        request,
        "console/platform.html",
        {"view": platform_view(days=days), "report": revenue_report(), "days": days,
         "periods": PLATFORM_PERIODS},
    )  # fmt: skip
