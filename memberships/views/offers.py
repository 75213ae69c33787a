"""Back office: pass offers (owners and managers) and the pass refund setting."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.money import Money, format_money
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission

from ..exceptions import PassNotAvailable
from ..forms import PassOfferForm, PassSettingsForm
from ..models import PassOffer, PassOfferStatus, PassPurchaseStatus
from ..services.passes import pass_offer_save, pass_offer_set_status, pass_settings


def _fields(data: dict) -> dict:
    return {
        "name": data["name"], "description": data["description"], "credits": data["credits"],
        "validity_days": data["validity_days"], "validity_starts": data["validity_starts"],
        "price_minor": data["price"], "new_customers_only": data["new_customers_only"],
        "per_customer_limit": data["per_customer_limit"],
    }  # fmt: skip


@member_required(Permission.MANAGE_CATALOGUE)
def offer_list(request: MemberRequest) -> HttpResponse:
    currency = request.tenant.currency or "EUR"
    form = PassOfferForm(request.POST or None, currency=currency)
    if request.method == "POST" and form.is_valid():
        try:
            offer = pass_offer_save(
                offer=None, fields=_fields(form.cleaned_data),
                service_ids=[s.pk for s in form.cleaned_data["services"]],
            )  # fmt: skip
        except PassNotAvailable as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("“%(name)s” saved as a draft: put it on sale when ready.") % {"name": offer.name},
            )
            return redirect("pass_offers")
    offers = PassOffer.objects.prefetch_related("services").order_by("status", "name")
    rows = [
        {
            "offer": offer,
            "price": format_money(Money(offer.price_minor, offer.currency)),
            "sold": offer.purchases.filter(
                status__in=(PassPurchaseStatus.PAID, PassPurchaseStatus.REFUNDED)
            ).count(),
        }
        for offer in offers
    ]
    status = 400 if request.method == "POST" else 200
    settings_form = PassSettingsForm(initial={"refund_mode": pass_settings().refund_mode})
    context = {"rows": rows, "form": form, "settings_form": settings_form}
    return render(request, "memberships/offers.html", context, status=status)


@member_required(Permission.MANAGE_CATALOGUE)
def offer_edit(request: MemberRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(PassOffer, pk=pk)
    currency = offer.currency
    if request.method == "POST":
        form = PassOfferForm(request.POST, currency=currency)
        if form.is_valid():
            try:
                pass_offer_save(
                    offer=offer, fields=_fields(form.cleaned_data),
                    service_ids=[s.pk for s in form.cleaned_data["services"]],
                )  # fmt: skip
            except PassNotAvailable as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Saved. Passes already bought keep what they were sold with.")
                )
                return redirect("pass_offers")
    else:
        form = PassOfferForm(initial=PassOfferForm.initial_of(offer), currency=currency)
    status = 400 if request.method == "POST" else 200
    return render(request, "memberships/offer_edit.html", {"offer": offer, "form": form},
                  status=status)  # fmt: skip


@require_POST
@member_required(Permission.MANAGE_CATALOGUE)
def offer_status(request: MemberRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(PassOffer, pk=pk)
    status = request.POST.get("status", "")
    if status not in PassOfferStatus.values:
        messages.error(request, _("Unknown status."))
        return redirect("pass_offers")
    try:
        pass_offer_set_status(offer=offer, status=status)
    except PassNotAvailable as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("“%(name)s” is now %(status)s.")
            % {"name": offer.name, "status": PassOfferStatus(status).label.lower()},
        )
    return redirect("pass_offers")


@require_POST
@member_required(Permission.MANAGE_CATALOGUE)
def pass_settings_save(request: MemberRequest) -> HttpResponse:
    form = PassSettingsForm(request.POST)
    if form.is_valid():
        row = pass_settings()
        row.refund_mode = form.cleaned_data["refund_mode"]
        row.save(update_fields=["refund_mode"])
        messages.success(
            request, _("Pass refunds: %(mode)s.") % {"mode": row.get_refund_mode_display().lower()}
        )
    else:
        messages.error(request, _("Choose how passes are refunded."))
    return redirect("pass_offers")
