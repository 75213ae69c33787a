"""Back office of memberships: offers (owners and managers), the members list and a member's
page (status, periods, cancel at period end, end now, refund a period).

Amounts (prices, periods paid, refunds) are shown to roles allowed to see money only; the
members list itself is open to the front desk, who book members with their credits.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.money import Money
from connect_payments.gateway import PaymentProviderUnavailable
from scheduling.actors import Actor
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows

from ..forms import MembershipOfferForm
from ..models import CreditGrant, CreditSourceKind
from ..models.memberships import (
    LIVE_MEMBERSHIP_STATUSES,
    Membership,
    MembershipOffer,
    MembershipOfferStatus,
    MembershipPeriod,
    MembershipStatus,
)
from ..services.memberships import (
    MembershipChangeRefused,
    OfferTerms,
    membership_cancel_at_period_end,
    membership_end_now,
    membership_offer_create,
    membership_offer_publish,
    membership_offer_retire,
    membership_offer_update,
    membership_period_refund,
)


def _actor(request: MemberRequest) -> Actor:
    user = request.user
    return Actor(label=user.get_full_name() or user.email, user_id=user.pk)


def _sees_money(request: MemberRequest) -> bool:
    return role_allows(request.membership.role, Permission.VIEW_MONEY)


def _terms(data: dict, currency: str) -> OfferTerms:
    return OfferTerms(
        name=data["name"], description=data["description"], price_minor=data["price"],
        currency=currency, interval=data["interval"],
        credits_per_period=data["credits_per_period"], cap_per_day=data["cap_per_day"],
        cap_per_week=data["cap_per_week"], rollover_max=data["rollover_max"] or 0,
        joining_fee_minor=data["joining_fee"], minimum_periods=data["minimum_periods"] or 0,
        member_discount_percent=data["member_discount_percent"],
    )  # fmt: skip


def _initial_of(offer: MembershipOffer) -> dict:
    exponent = Money(offer.price_minor, offer.currency).exponent

    def major(minor: int) -> str:
        return f"{Decimal(minor) / 10**exponent:.{exponent}f}" if minor else ""

    return {
        "name": offer.name, "description": offer.description, "price": major(offer.price_minor),
        "interval": offer.interval, "credits_per_period": offer.credits_per_period,
        "cap_per_day": offer.cap_per_day, "cap_per_week": offer.cap_per_week,
        "rollover_max": offer.rollover_max, "joining_fee": major(offer.joining_fee_minor),
        "minimum_periods": offer.minimum_periods,
        "member_discount_percent": offer.member_discount_percent,
        "services": list(offer.services.values_list("pk", flat=True)),
    }  # fmt: skip


@member_required(Permission.MANAGE_CATALOGUE)
def membership_offer_list(request: MemberRequest) -> HttpResponse:
    currency = (request.tenant.currency or "EUR").upper()
    form = MembershipOfferForm(request.POST or None, currency=currency)
    if request.method == "POST" and form.is_valid():
        try:
            offer = membership_offer_create(
                terms=_terms(form.cleaned_data, currency),
                service_ids=[s.pk for s in form.cleaned_data["services"]],
            )
        except MembershipChangeRefused as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("“%(name)s” saved as a draft: put it on sale when ready.") % {"name": offer.name},
            )
            return redirect("membership_offers")
    offers = MembershipOffer.objects.prefetch_related("services").annotate(
        live_members=Count(
            "members",
            filter=Q(members__status__in=[s.value for s in LIVE_MEMBERSHIP_STATUSES]),
        )
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "memberships/membership_offers.html", {"offers": offers, "form": form},
                  status=status)  # fmt: skip


@member_required(Permission.MANAGE_CATALOGUE)
def membership_offer_edit(request: MemberRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(MembershipOffer, pk=pk)
    if request.method == "POST":
        form = MembershipOfferForm(request.POST, currency=offer.currency)
        if form.is_valid():
            try:
                membership_offer_update(
                    offer=offer, terms=_terms(form.cleaned_data, offer.currency),
                    service_ids=[s.pk for s in form.cleaned_data["services"]],
                )  # fmt: skip
            except MembershipChangeRefused as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Saved. Existing members keep the terms they joined on.")
                )
                return redirect("membership_offers")
    else:
        form = MembershipOfferForm(initial=_initial_of(offer), currency=offer.currency)
    status = 400 if request.method == "POST" else 200
    return render(request, "memberships/membership_offer_edit.html",
                  {"offer": offer, "form": form}, status=status)  # fmt: skip


@require_POST
@member_required(Permission.MANAGE_CATALOGUE)
def membership_offer_status(request: MemberRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(MembershipOffer, pk=pk)
    wanted = request.POST.get("status", "")
    try:
        if wanted == MembershipOfferStatus.ON_SALE:
            membership_offer_publish(offer=offer)
        elif wanted == MembershipOfferStatus.RETIRED:
            membership_offer_retire(offer=offer)
        else:
            messages.error(request, _("Unknown status."))
            return redirect("membership_offers")
    except (MembershipChangeRefused, PaymentProviderUnavailable) as error:
        messages.error(request, str(error) or _("Stripe is unreachable: try again in a minute."))
    else:
        label = MembershipOfferStatus(wanted).label.lower()
        messages.success(
            request, _("“%(name)s” is now %(status)s.") % {"name": offer.name, "status": label}
        )
    return redirect("membership_offers")


# ---------------------------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------------------------
@member_required(Permission.VIEW_ALL_CUSTOMERS)
def membership_member_list(request: MemberRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    memberships = Membership.objects.select_related("customer", "offer").order_by(
        "customer__name", "-created_at"
    )
    if status in MembershipStatus.values:
        memberships = memberships.filter(status=status)
    else:
        status = ""
        memberships = memberships.exclude(status=MembershipStatus.INCOMPLETE)
    search = request.GET.get("q", "").strip()[:100]
    if search:
        memberships = memberships.filter(
            Q(customer__name__icontains=search) | Q(customer__email__icontains=search)
        )
    rows = list(memberships[:500])
    grants = {
        grant.source_id: grant
        for grant in CreditGrant.objects.filter(
            source_kind=CreditSourceKind.MEMBERSHIP,
            source_id__in=[str(m.pk) for m in rows],
            expired_at__isnull=True,
        ).order_by("valid_from")
    }  # the latest period's grant of each membership wins
    table = [{"membership": m, "grant": grants.get(str(m.pk))} for m in rows]
    context = {
        "rows": table, "status": status, "search": search, "statuses": MembershipStatus.choices,
        "sees_money": _sees_money(request),
    }  # fmt: skip
    return render(request, "memberships/members.html", context)


@member_required(Permission.VIEW_ALL_CUSTOMERS)
def membership_member_detail(request: MemberRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("customer", "offer"), pk=pk)
    grants = CreditGrant.objects.filter(
        source_kind=CreditSourceKind.MEMBERSHIP, source_id=str(membership.pk)
    ).order_by("-valid_from")
    periods = MembershipPeriod.objects.filter(membership=membership).order_by("-period_start")
    context = {
        "membership": membership, "grants": grants, "periods": periods,
        "sees_money": _sees_money(request),
        "can_refund": role_allows(request.membership.role, Permission.REFUND),
    }  # fmt: skip
    return render(request, "memberships/member_detail.html", context)


@require_POST
@member_required(Permission.VIEW_MONEY)
def membership_member_cancel(request: MemberRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(Membership, pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "cancel_at_period_end":
            membership_cancel_at_period_end(membership=membership, actor=_actor(request))
            messages.success(request, _("The membership ends at the end of its paid period."))
        elif action == "resume":
            membership_cancel_at_period_end(membership=membership, cancel=False,
                                            actor=_actor(request))  # fmt: skip
            messages.success(request, _("The membership renews again."))
        elif action == "end_now":
            membership_end_now(membership=membership, actor=_actor(request))
            messages.success(request, _("The membership has ended. Nothing was refunded."))
        else:
            messages.error(request, _("Unknown action."))
    except (MembershipChangeRefused, PaymentProviderUnavailable) as error:
        messages.error(request, str(error) or _("Stripe is unreachable: try again in a minute."))
    return redirect("membership_member", pk=membership.pk)


@require_POST
@member_required(Permission.REFUND)
def membership_period_refund_view(request: MemberRequest, pk: int, period_pk: int) -> HttpResponse:
    period = get_object_or_404(MembershipPeriod, pk=period_pk, membership_id=pk)
    try:
        membership_period_refund(period=period, actor=_actor(request))
    except (MembershipChangeRefused, PaymentProviderUnavailable) as error:
        messages.error(request, str(error) or _("Stripe is unreachable: try again in a minute."))
    else:
        messages.success(
            request, _("The period was refunded (platform fee and transfer reversed).")
        )
    return redirect("membership_member", pk=pk)
