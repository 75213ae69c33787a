"""The customer's pass pages: the passes on sale, buying one (Payment Element, like a booking
payment), and the purchase's page the payment returns to (which re-reads the PaymentIntent, so
the credits appear even before the webhook arrives; the grant happens once either way).

Buying needs a signed-in customer: the credits go to the account that will spend them.
"""

from __future__ import annotations

import stripe
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from connect_payments.exceptions import PaymentsUnavailable
from connect_payments.gateway import PaymentProviderUnavailable, publishable_key, stripe_js_url
from memberships.exceptions import PassNotAvailable
from memberships.models import PassOffer, PassOfferStatus, PassPurchase, PassPurchaseStatus
from memberships.services.passes import pass_purchase_start, pass_purchase_sync
from scheduling.services.customer_sign_in import signed_in_customer

from .account import _page


@require_GET
def passes_page(request: HttpRequest) -> HttpResponse:
    offers = (
        PassOffer.objects.filter(status=PassOfferStatus.ON_SALE)
        .prefetch_related("services")
        .order_by("display_order", "name")
    )
    customer = signed_in_customer(request)
    return _page(request, "widgets/account/passes.html", {"offers": offers, "customer": customer})


@require_POST
def pass_buy(request: HttpRequest, offer_id: int) -> HttpResponse:
    customer = signed_in_customer(request)
    if customer is None:
        return HttpResponseRedirect(reverse("customer_sign_in"))
    offer = PassOffer.objects.filter(pk=offer_id).first()
    if offer is None:
        raise Http404("No such pass.")
    try:
        purchase = pass_purchase_start(offer=offer, customer=customer)
    except (PassNotAvailable, PaymentsUnavailable, PaymentProviderUnavailable) as error:
        offers = PassOffer.objects.filter(status=PassOfferStatus.ON_SALE)
        context = {"offers": offers, "customer": customer, "error": str(error)}
        return _page(request, "widgets/account/passes.html", context, status=409)
    return HttpResponseRedirect(reverse("customer_purchase", args=[purchase.pk]))


@require_GET
def purchase_page(request: HttpRequest, purchase_id: int) -> HttpResponse:
    """Pay (pending) or see the result. Only the buyer sees their purchase (404 otherwise)."""
    customer = signed_in_customer(request)
    if customer is None:
        return HttpResponseRedirect(reverse("customer_sign_in"))
    purchase = (
        PassPurchase.objects.filter(pk=purchase_id, customer=customer)
        .select_related("grant")
        .first()
    )
    if purchase is None:
        raise Http404("No such purchase.")
    if purchase.status == PassPurchaseStatus.PENDING and purchase.payment_intent_id:
        try:
            purchase = pass_purchase_sync(purchase=purchase)
        except stripe.StripeError:
            pass  # Stripe unreachable: the page shows the last known state and polls again
    paying = purchase.status == PassPurchaseStatus.PENDING and bool(purchase.client_secret)
    context = {"purchase": purchase, "paying": paying, "payment": _payment_config(purchase)}
    return _page(request, "widgets/account/purchase.html", context)


def _payment_config(purchase: PassPurchase) -> dict | None:
    """What static/widgets/account_payment.js needs to mount the Payment Element (None: nothing
    to pay)."""
    if purchase.status != PassPurchaseStatus.PENDING or not purchase.client_secret:
        return None
    return {
        "publishable_key": publishable_key(),
        "client_secret": purchase.client_secret,
        "stripe_js_url": stripe_js_url(),
        "return_url": reverse("customer_purchase", args=[purchase.pk]),
    }
