"""Cards on file at checkout (the customer edge): the fee terms each service shows before the
hold, and the endpoints that record the consent and save the card through the Payment Element.

`POST /widget/bookings/<reference>/card/` `{token, consent_digest}` records the consent (the
exact text the page showed, its version and time) and answers the SetupIntent's client secret;
`POST /widget/bookings/<reference>/card/complete/` `{token}` re-reads the SetupIntent from Stripe
and, once the card is saved, confirms the booking. Nothing is charged (docs/payments.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import stripe
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from common.link_tokens import link_token_matches
from connect_payments import gateway
from connect_payments.card_rules import consent_digest, consent_text, late_fee_notice
from connect_payments.gateway import PaymentProviderUnavailable
from connect_payments.models import CardSetupStatus, FeeCharge
from connect_payments.models.cards import FEE_PAY_TOKEN_PURPOSE
from connect_payments.services.card_fees import fee_sync, late_fee_if_cancelled_now
from connect_payments.services.card_setup import (
    card_setup_complete,
    card_setup_start,
    fee_terms_for,
)
from scheduling.api.public import ApiError, PublicApiView
from scheduling.models import Booking, Service
from scheduling.services.bookings import scheduling_settings
from scheduling.tokens import booking_by_token
from tenants.context import current_tenant
from waitlists.join_cards import entry_card_complete, entry_card_start
from waitlists.models import OPEN_ENTRY_STATUSES, WaitlistEntry
from waitlists.selectors import entry_by_token

from .page_context import widget_language
from .selectors import branding_get

STRINGS = {
    "card_title": _("Card on file"),
    "card_consent_label": _("I agree"),
    "card_consent_missing": _(
        "Please tick the box to agree to the fees, or choose another service."
    ),
    "card_continue": _("Continue to card details"),
    "card_intro": _("Your card is saved for these fees only. Nothing is charged now."),
    "card_save": _("Save card and confirm booking"),
    "card_saving": _("Saving your card…"),
    "card_failed": _("Your card could not be saved. Please check it or use another card."),
    "card_unavailable": _("Your card cannot be saved at the moment. Please try again."),
}
# The waitlist's card step (waitlist_card.js): the same strings, but nothing is booked yet.
WAITLIST_STRINGS = {**STRINGS, "card_save": _("Save card")}


def card_terms_by_service(services: Iterable[Service], language: str) -> dict[str, dict]:
    """For the booking page: each service that asks for a card, its fees and consent text (on
    the service's current price and policy, which the hold snapshots)."""
    tenant = current_tenant()
    settings = scheduling_settings()
    found: dict[str, dict] = {}
    for service in services:
        terms = fee_terms_for(
            service=service,
            price_minor=service.price_minor,
            policy=service.cancellation_policy,
            currency=tenant.currency or "EUR",
            settings=settings,
        )
        if terms is None:
            continue
        text = consent_text(business=tenant.name, terms=terms, language=language)
        found[str(service.pk)] = {
            "no_show_fee_minor": terms.no_show_minor,
            "late_cancel_fee_minor": terms.late_cancel_minor,
            "late_window_hours": terms.late_window_hours,
            "currency": terms.currency,
            "consent_text": text,
            "consent_digest": consent_digest(text),
        }
    return found


def late_fee_text_now(booking: Booking, language: str) -> str:
    """The manage page's warning before a cancellation that would be charged ("" if none)."""
    amount = late_fee_if_cancelled_now(booking=booking)
    if not amount:
        return ""
    return late_fee_notice(amount_minor=amount, currency=booking.currency, language=language)


def card_page_config(services: Iterable[Service], language: str) -> dict:
    return {
        "card_terms": card_terms_by_service(services, language),
        "card_strings": {key: str(value) for key, value in STRINGS.items()},
    }


def _booking(reference: str, token: object) -> Booking:
    booking = booking_by_token(reference, token)
    if booking is None:
        raise ApiError(code="not_found", http_status=404,
                       message="No booking matches this reference and token.")  # fmt: skip
    return booking


def _data(request: Request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class CardSetupView(PublicApiView):
    """Record the consent and answer the SetupIntent the Payment Element confirms."""

    throttle_scope = "token"

    @extend_schema(exclude=True)  # the widget's own helper, not the public API
    def post(self, request: Request, reference: str) -> Response:
        data = _data(request)
        booking = _booking(reference, data.get("token"))
        language = widget_language(request, branding_get())
        try:
            setup = card_setup_start(
                booking=booking, digest=str(data.get("consent_digest") or ""), language=language
            )
        except (PaymentProviderUnavailable, stripe.StripeError) as error:
            raise ApiError(code=PaymentProviderUnavailable.code, http_status=502,
                           message=str(STRINGS["card_unavailable"])) from error  # fmt: skip
        return Response(
            {
                "status": setup.status,
                "client_secret": setup.client_secret or None,
                "publishable_key": gateway.publishable_key(),
                "stripe_js_url": gateway.stripe_js_url(),
                "consent_text": setup.consent_text,
                "consent_version": setup.consent_version,
                "consented_at": setup.consented_at.isoformat(),
            }
        )


class CardSetupCompleteView(PublicApiView):
    """After `stripe.confirmSetup`: keep the card and confirm the booking."""

    throttle_scope = "token"

    @extend_schema(exclude=True)
    def post(self, request: Request, reference: str) -> Response:
        booking = _booking(reference, _data(request).get("token"))
        setup = getattr(booking, "card_setup", None)
        if setup is None:
            raise ApiError(code="not_found", http_status=404,
                           message="No card is being saved for this booking.")  # fmt: skip
        try:
            setup = card_setup_complete(setup=setup)
        except stripe.StripeError as error:
            raise ApiError(code=PaymentProviderUnavailable.code, http_status=502,
                           message=str(STRINGS["card_unavailable"])) from error  # fmt: skip
        booking.refresh_from_db()
        saved = setup.status == CardSetupStatus.SAVED and setup.card is not None
        return Response(
            {
                "reference": booking.reference,
                "status": booking.status,
                "card_saved": saved,
                "card": setup.card.label if saved and setup.card else None,
                "error": setup.last_error or None,
            }
        )


def fee_by_token(pk: int, token: object) -> FeeCharge | None:
    """The fee of a pay link: unknown fee and wrong token look the same (None)."""
    if not isinstance(token, str) or not token:
        return None
    fee = (
        FeeCharge.objects.select_related("booking__service", "booking__customer", "setup__card")
        .filter(pk=pk)
        .first()
    )
    if fee is None or not link_token_matches(
        token, FEE_PAY_TOKEN_PURPOSE, str(pk), fee.link_secret
    ):
        return None
    return fee


FEE_STATUS_MESSAGES = {
    "paid": _("Paid. Thank you."),
    "awaiting_customer": _("Your bank asks you to confirm this payment."),
    "waived": _("The business waived this fee: nothing to pay."),
    "refunded": _("Refunded."),
    "failed": _("The charge failed."),
    "pending": _("Being charged…"),
}


class FeeStatusView(PublicApiView):
    """The fee page's return: re-read the fee's PaymentIntent from Stripe (paid → recorded)."""

    throttle_scope = "token"

    @extend_schema(exclude=True)
    def post(self, request: Request, pk: int) -> Response:
        fee = fee_by_token(pk, _data(request).get("token"))
        if fee is None:
            raise ApiError(code="not_found", http_status=404,
                           message="No payment matches this link.")  # fmt: skip
        try:
            fee = fee_sync(fee=fee)
        except stripe.StripeError as error:
            raise ApiError(code=PaymentProviderUnavailable.code, http_status=502,
                           message=str(STRINGS["card_unavailable"])) from error  # fmt: skip
        message = FEE_STATUS_MESSAGES.get(fee.status, fee.get_status_display())
        return Response({"status": fee.status, "message": str(message)})


def _entry(entry_id: int, token: object) -> WaitlistEntry:
    entry = entry_by_token(entry_id, token)
    if entry is None:
        raise ApiError(code="not_found", http_status=404,
                       message="No waitlist request matches this link.")  # fmt: skip
    return entry


class WaitlistCardView(PublicApiView):
    """Joining a waitlist whose service asks for a card: the consent (the text the join page
    showed, by its digest) and the SetupIntent, exactly as at checkout."""

    throttle_scope = "token"

    @extend_schema(exclude=True)
    def post(self, request: Request, entry_id: int) -> Response:
        data = _data(request)
        entry = _entry(entry_id, data.get("token"))
        if not entry.needs_card or entry.status not in OPEN_ENTRY_STATUSES:
            raise ApiError(code="card_setup_refused", http_status=409,
                           message="This waitlist request does not ask for a card.")  # fmt: skip
        try:
            setup = entry_card_start(entry=entry, digest=str(data.get("consent_digest") or ""),
                                     language=widget_language(request, branding_get()))  # fmt: skip
        except (PaymentProviderUnavailable, stripe.StripeError) as error:
            raise ApiError(code=PaymentProviderUnavailable.code, http_status=502,
                           message=str(STRINGS["card_unavailable"])) from error  # fmt: skip
        return Response({
            "status": setup.status, "client_secret": setup.client_secret or None,
            "publishable_key": gateway.publishable_key(), "stripe_js_url": gateway.stripe_js_url(),
            "consent_text": setup.consent_text, "consent_version": setup.consent_version,
            "consented_at": setup.consented_at.isoformat(),
        })  # fmt: skip


class WaitlistCardCompleteView(PublicApiView):
    """After `stripe.confirmSetup`: keep the card; the person can now be offered places."""

    throttle_scope = "token"

    @extend_schema(exclude=True)
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _entry(entry_id, _data(request).get("token"))
        try:
            setup = entry_card_complete(entry=entry)
        except stripe.StripeError as error:
            raise ApiError(code=PaymentProviderUnavailable.code, http_status=502,
                           message=str(STRINGS["card_unavailable"])) from error  # fmt: skip
        if setup is None:
            raise ApiError(code="not_found", http_status=404,
                           message="No card is being saved for this request.")  # fmt: skip
        saved = setup.status == CardSetupStatus.SAVED and setup.card is not None
        return Response({"card_saved": saved, "card": setup.card.label if saved and setup.card
                         else None, "error": setup.last_error or None})  # fmt: skip
