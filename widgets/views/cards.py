"""The customer's card-on-file pages, each behind a signed link (tokens derived, never stored):
the page that authenticates and pays a fee the bank would not take off-session, and the page
where the customer sees and removes their saved cards (removed = detached at Stripe)."""

from __future__ import annotations

import stripe
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.views.decorators.http import require_http_methods

from common.money import Money, format_money
from connect_payments import gateway
from connect_payments.models import FeeStatus, SavedCard
from connect_payments.services.card_setup import saved_card_remove

from ..card_checkout import card_owner_by_token, fee_by_token
from ..page_context import customer_page_context, render_customer_page, widget_language
from ..selectors import branding_get


def fee_pay_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Authenticate and pay a fee (Stripe.js `confirmCardPayment` with the saved card: the
    bank's 3-D Secure challenge, then the fee is paid). The link came by email."""
    branding = branding_get()
    language = widget_language(request, branding)
    token = request.GET.get("token", "")
    with translation.override(language):
        context = customer_page_context(request, branding, language)
        fee = fee_by_token(pk, token)
        context["base_config"]["page"] = "fee_pay"
        if fee is None:
            context["not_found"] = True
            return render_customer_page(request, "widgets/fee_pay.html", context, status=404)
        awaiting = fee.status == FeeStatus.AWAITING_CUSTOMER and bool(fee.client_secret)
        card = fee.setup.card
        context.update({"fee": fee, "amount": format_money(Money(fee.amount_minor, fee.currency))})
        context["base_config"]["fee"] = {
            "id": fee.pk,
            "token": token,
            "status": fee.status,
            "client_secret": fee.client_secret if awaiting else None,
            "payment_method": card.payment_method_id
            if awaiting and card and not card.removed_at
            else None,
            "publishable_key": gateway.publishable_key(),
            "stripe_js_url": gateway.stripe_js_url(),
            "status_url": f"/manage/fee/{fee.pk}/status/",
        }
        return render_customer_page(request, "widgets/fee_pay.html", context)


@require_http_methods(["GET", "POST"])
def saved_cards_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's saved cards at this business; removing one detaches it at Stripe."""
    branding = branding_get()
    language = widget_language(request, branding)
    token = request.GET.get("token", "")
    with translation.override(language):
        context = customer_page_context(request, branding, language)
        context["base_config"]["page"] = "saved_cards"
        owner = card_owner_by_token(pk, token)
        if owner is None:
            context["not_found"] = True
            return render_customer_page(request, "widgets/saved_cards.html", context, status=404)
        if request.method == "POST":
            card_id = _int(request.POST.get("card"))
            card = (
                SavedCard.objects.filter(owner=owner, pk=card_id, removed_at__isnull=True).first()
                if card_id is not None
                else None
            )
            if card is not None:
                try:
                    saved_card_remove(card=card)
                except stripe.StripeError:
                    context["error"] = True
                    context["cards"] = owner.cards.filter(removed_at__isnull=True)
                    return render_customer_page(
                        request, "widgets/saved_cards.html", context, status=502
                    )
            return redirect(f"{request.path}?token={token}&removed=1")
        context["cards"] = owner.cards.filter(removed_at__isnull=True)
        context["removed"] = request.GET.get("removed") == "1"
        return render_customer_page(request, "widgets/saved_cards.html", context)


def _int(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 18 else None
