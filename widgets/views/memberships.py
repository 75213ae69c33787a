"""The customer's membership pages: memberships on sale, joining (the first invoice paid in the
Payment Element, like a booking), the membership's page (status, next renewal, cancel at period
end) and fixing the card after a failed renewal (a SetupIntent in the Payment Element).

Everything needs a signed-in customer; a customer only ever sees their own memberships (404).
"""

from __future__ import annotations

import stripe
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from connect_payments.exceptions import PaymentsUnavailable
from connect_payments.gateway import PaymentProviderUnavailable, publishable_key, stripe_js_url
from memberships.models import Membership, MembershipOffer, MembershipOfferStatus, MembershipStatus
from memberships.services.memberships import (
    MembershipChangeRefused,
    MembershipNotAvailable,
    membership_cancel_at_period_end,
    membership_card_setup,
    membership_card_update,
    membership_join,
    membership_join_returned,
)
from scheduling.actors import CUSTOMER
from scheduling.models import Customer
from scheduling.services.customer_sign_in import signed_in_customer

from .account import _page


def _offers():
    return (
        MembershipOffer.objects.filter(status=MembershipOfferStatus.ON_SALE)
        .prefetch_related("services")
        .order_by("display_order", "name")
    )


def _own(request: HttpRequest, pk: int) -> tuple[Customer, Membership] | None:
    customer = signed_in_customer(request)
    if customer is None:
        return None
    membership = Membership.objects.filter(pk=pk, customer=customer).first()
    if membership is None:
        raise Http404("No such membership.")
    return customer, membership


@require_GET
def memberships_page(request: HttpRequest) -> HttpResponse:
    customer = signed_in_customer(request)
    context = {"offers": _offers(), "customer": customer}
    return _page(request, "widgets/account/memberships.html", context)


@require_POST
def membership_join_view(request: HttpRequest, offer_id: int) -> HttpResponse:
    customer = signed_in_customer(request)
    if customer is None:
        return HttpResponseRedirect(reverse("customer_sign_in"))
    offer = MembershipOffer.objects.filter(pk=offer_id).first()
    if offer is None:
        raise Http404("No such membership.")
    try:
        membership = membership_join(offer=offer, customer=customer)
    except (MembershipNotAvailable, PaymentsUnavailable, PaymentProviderUnavailable) as error:
        context = {"offers": _offers(), "customer": customer, "error": str(error)}
        return _page(request, "widgets/account/memberships.html", context, status=409)
    return HttpResponseRedirect(reverse("customer_membership", args=[membership.pk]))


@require_GET
def membership_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay the first period (incomplete) or see the membership."""
    own = _own(request, pk)
    if own is None:
        return HttpResponseRedirect(reverse("customer_sign_in"))
    _, membership = own
    if membership.status == MembershipStatus.INCOMPLETE and membership.stripe_subscription_id:
        try:
            membership = membership_join_returned(membership=membership)
        except stripe.StripeError:
            pass  # Stripe unreachable: the last known state; the page is reloaded
    paying = membership.status == MembershipStatus.INCOMPLETE and bool(membership.client_secret)
    payment = None
    if paying:
        payment = {
            "mode": "payment",
            "publishable_key": publishable_key(),
            "client_secret": membership.client_secret,
            "stripe_js_url": stripe_js_url(),
            "return_url": reverse("customer_membership", args=[membership.pk]),
        }
    first_due = membership.price_minor + membership.joining_fee_minor
    context = {"membership": membership, "paying": paying, "payment": payment,
               "first_due": first_due}  # fmt: skip
    return _page(request, "widgets/account/membership.html", context)


@require_POST
def membership_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    own = _own(request, pk)
    if own is None:
        return HttpResponseRedirect(reverse("customer_sign_in"))
    _, membership = own
    cancel = request.POST.get("cancel") != "0"
    try:
        membership_cancel_at_period_end(membership=membership, cancel=cancel, actor=CUSTOMER)
    except (MembershipChangeRefused, PaymentProviderUnavailable) as error:
        context = {"membership": membership, "paying": False, "payment": None,
                   "error": str(error) or gettext("Please try again in a minute.")}  # fmt: skip
        return _page(request, "widgets/account/membership.html", context, status=409)
    return HttpResponseRedirect(reverse("customer_membership", args=[membership.pk]))


@require_GET
def membership_card_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A new card for the membership (the failed-renewal email links here). Stripe returns to
    the same page with `setup_intent`: the card is then saved and an open invoice paid."""
    own = _own(request, pk)
    if own is None:
        return HttpResponseRedirect(reverse("customer_sign_in"))
    _, membership = own
    error = ""
    setup_intent = request.GET.get("setup_intent", "")
    if setup_intent.startswith("seti_"):
        try:
            membership_card_update(membership=membership, setup_intent_id=setup_intent)
        except (MembershipChangeRefused, PaymentProviderUnavailable) as failure:
            error = str(failure) or gettext("Please try again in a minute.")
        else:
            return HttpResponseRedirect(reverse("customer_membership", args=[membership.pk]))
    try:
        secret = membership_card_setup(membership=membership)
    except (MembershipChangeRefused, PaymentProviderUnavailable) as failure:
        context = {
            "membership": membership,
            "paying": False,
            "payment": None,
            "error": str(failure),
        }
        return _page(request, "widgets/account/membership.html", context, status=409)
    payment = {
        "mode": "setup",
        "publishable_key": publishable_key(),
        "client_secret": secret,
        "stripe_js_url": stripe_js_url(),
        "return_url": reverse("customer_membership_card", args=[membership.pk]),
    }
    context = {"membership": membership, "payment": payment, "error": error}
    return _page(request, "widgets/account/membership_card.html", context,
                 status=400 if error else 200)  # fmt: skip
