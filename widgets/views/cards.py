"""The customer's card-on-file pages: the page that authenticates and pays a fee the bank would
not take off-session (behind a signed link, its token derived, never stored), and removing a
saved card from the signed-in account page (removed = detached at Stripe)."""

from __future__ import annotations

import stripe
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from common.money import Money, format_money
from connect_payments import gateway
from connect_payments.models import FeeStatus, SavedCard
from connect_payments.services.card_setup import saved_card_remove
from scheduling.services.customer_sign_in import signed_in_customer

from ..card_checkout import fee_by_token
from ..page_context import customer_page_context, render_customer_page, widget_language
from ..selectors import branding_get


@require_GET
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


@require_POST
def account_card_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed-in customer removes one of their saved cards (detached at Stripe first)."""
    customer = signed_in_customer(request)
    if customer is None:
        return redirect("customer_sign_in")
    card = SavedCard.objects.filter(pk=pk, owner__customer=customer).first()
    if card is None:
        raise Http404("No such card.")
    try:
        saved_card_remove(card=card)
    except stripe.StripeError:
        return HttpResponse(
            gettext("The card could not be removed at the moment. Please try again."),
            status=502,
            content_type="text/plain; charset=utf-8",
        )
    return redirect(f"{reverse('customer_account')}#cr-section-saved_cards")
