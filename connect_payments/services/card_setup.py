"""Cards on file at checkout: the fee terms of a service, the customer's consent, the
SetupIntent (`usage=off_session`) that saves the card, and the customer removing a saved card.

Nothing is charged here. Stripe calls run outside database transactions, each with an
idempotency key; the rows are written before (reserve) and after (record) the call.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from scheduling.actors import CUSTOMER
from scheduling.exceptions import BookingError, InvalidTransition
from scheduling.models import (
    PAID_WITH_CREDIT,
    Booking,
    BookingStatus,
    CardOnFile,
    Customer,
    PaymentMode,
    SchedulingSettings,
    Service,
)
from scheduling.services.bookings import (
    booking_confirm,
    booking_retake_after_late_payment,
    scheduling_settings,
)
from tenants.context import current_tenant

from .. import gateway
from ..card_rules import (
    CONSENT_VERSION,
    FeeTerms,
    consent_digest,
    consent_text,
    fee_minor,
    late_window_hours,
)
from ..gateway import PaymentProviderUnavailable
from ..models import CardCustomer, CardSetup, CardSetupStatus, SavedCard

logger = logging.getLogger(__name__)

CARD_MODES = (PaymentMode.PAY_AT_VENUE, PaymentMode.FREE)


class CardSetupRefused(BookingError):
    code = "card_setup_refused"
    http_status = 409
    default_message = "A card cannot be saved for this booking."


class ConsentChanged(BookingError):
    code = "consent_changed"
    http_status = 409
    default_message = (
        "The business's fees changed while you were booking. Please read them again and confirm."
    )


class CardRequired(BookingError):
    code = "card_required"
    http_status = 409
    default_message = "This booking is confirmed once a card is saved for its fees."


# ---------------------------------------------------------------------------
# Terms
# ---------------------------------------------------------------------------
def fee_terms_for(
    *,
    service: Service,
    price_minor: int,
    policy: object,
    currency: str,
    settings: SchedulingSettings | None = None,
) -> FeeTerms | None:
    """The fees a booking of `service` at `price_minor` would carry, None when no card is asked.

    Only services paid at the venue (or free) ask for a card: a service paid online already
    takes its money at booking (docs/decisions/0015-cards-on-file.md).
    """
    if service.payment_mode not in CARD_MODES or service.card_on_file == CardOnFile.OFF:
        return None
    source: Service | SchedulingSettings
    if service.card_on_file == CardOnFile.REQUIRED:
        source = service
    else:
        settings = settings or scheduling_settings()
        if not settings.card_on_file_required:
            return None
        source = settings
    window = late_window_hours(policy)
    terms = FeeTerms(
        currency=currency,
        no_show_minor=fee_minor(
            price_minor=price_minor,
            fixed_minor=source.no_show_fee_fixed_minor,
            percent=source.no_show_fee_percent,
        ),
        late_cancel_minor=fee_minor(
            price_minor=price_minor,
            fixed_minor=source.late_cancel_fee_fixed_minor,
            percent=source.late_cancel_fee_percent,
        )
        if window
        else 0,
        late_window_hours=window,
    )
    return terms if terms.requires_card else None


def fee_terms_of_booking(booking: Booking) -> FeeTerms | None:
    """The fees of this booking; None for a booking paid with a credit (a pass or membership):
    its no-show or late cancellation already costs the credit (memberships' policy), so no card
    is asked and no fee is charged (docs/payments.md, "Credit bookings")."""
    if booking.payment_mode == PAID_WITH_CREDIT:
        return None
    return fee_terms_for(
        service=booking.service,
        price_minor=booking.price_minor,
        policy=booking.policy_snapshot,
        currency=booking.currency,
    )


def booking_consent_text(booking: Booking, *, language: str) -> str:
    terms = fee_terms_of_booking(booking)
    if terms is None:
        return ""
    return consent_text(business=current_tenant().name, terms=terms, language=language)


def card_required_unsaved(booking: Booking) -> bool:
    """True when this booking asks for a card on file and none is saved yet."""
    setup = CardSetup.objects.filter(booking=booking).first()
    if setup is not None:
        return setup.status != CardSetupStatus.SAVED
    return fee_terms_of_booking(booking) is not None


# ---------------------------------------------------------------------------
# The Stripe Customer of one of the business's customers (on the platform's account)
# ---------------------------------------------------------------------------
def card_customer_get_or_create(*, customer: Customer) -> CardCustomer:
    existing = CardCustomer.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    tenant = current_tenant()
    created = gateway.stripe_client().v1.customers.create(
        params={
            "email": customer.email,
            "name": customer.name,
            "metadata": {"tenant_schema": tenant.schema_name, "creneau_customer": str(customer.pk)},
        },
        options={
            "idempotency_key": gateway.idempotency_key(
                "customer.create", tenant.schema_name, customer.pk
            )
        },
    )
    try:
        with transaction.atomic():
            return CardCustomer.objects.create(customer=customer, stripe_customer_id=created.id)
    except IntegrityError:  # made concurrently (same idempotency key: the same Stripe customer)
        return CardCustomer.objects.get(customer=customer)


# ---------------------------------------------------------------------------
# Consent and SetupIntent
# ---------------------------------------------------------------------------
def card_setup_start(*, booking: Booking, digest: str, language: str) -> CardSetup:
    """Record the customer's consent and create the SetupIntent the Payment Element confirms.

    `digest` is `consent_digest()` of the text the page showed: a different one (the fees
    changed meanwhile) is refused, so the stored text is exactly what the customer read.
    Idempotent: the same booking gets the same setup (and SetupIntent) again.
    """
    existing = CardSetup.objects.filter(booking=booking).first()
    if existing is not None and existing.setup_intent_id:
        return existing
    if booking.status != BookingStatus.HELD or (
        booking.hold_expires_at is not None and booking.hold_expires_at <= timezone.now()
    ):
        raise CardSetupRefused("The time reserved for you ran out. Please pick a time again.")
    terms = fee_terms_of_booking(booking)
    if terms is None:
        raise CardSetupRefused("This booking does not ask for a card.")
    if existing is None:
        existing = _consent_record(customer=booking.customer, terms=terms, digest=digest,
                                   language=language, booking=booking)  # fmt: skip
    return _create_setup_intent(existing)


def _consent_record(
    *,
    customer: Customer,
    terms: FeeTerms,
    digest: str,
    language: str,
    booking: Booking | None = None,
    request_key: str = "",
) -> CardSetup:
    """The consent row (the exact text shown, checked by its digest) for a booking, or for a
    request made before any booking (`request_key`); once per booking or key."""
    text = consent_text(business=current_tenant().name, terms=terms, language=language)
    if not isinstance(digest, str) or digest != consent_digest(text):
        raise ConsentChanged()
    owner = card_customer_get_or_create(customer=customer)
    label = booking.reference if booking is not None else request_key
    try:
        with transaction.atomic():
            return CardSetup.objects.create(
                booking=booking,
                request_key=request_key or None,
                owner=owner,
                currency=terms.currency,
                no_show_fee_minor=terms.no_show_minor,
                late_cancel_fee_minor=terms.late_cancel_minor,
                late_window_hours=terms.late_window_hours,
                consent_text=text,
                consent_version=CONSENT_VERSION,
                consented_at=timezone.now(),
                idempotency_key=gateway.idempotency_key(
                    "setup_intent.create", current_tenant().schema_name, label
                ),
            )
    except IntegrityError:
        if booking is not None:
            return CardSetup.objects.get(booking=booking)
        return CardSetup.objects.get(request_key=request_key)


def service_fee_terms(service: Service) -> FeeTerms | None:
    """The fees a booking of `service` would carry at its current price and policy (what a
    page shows before there is a booking: the booking page, the waitlist's join page)."""
    return fee_terms_for(service=service, price_minor=service.price_minor,
                         policy=service.cancellation_policy,
                         currency=current_tenant().currency or "EUR")  # fmt: skip


def card_setup_start_for_request(*, customer: Customer, service: Service, request_key: str,
                                 digest: str, language: str) -> CardSetup:  # fmt: skip
    """The consent and SetupIntent of a request made before any booking (joining a waitlist):
    the same text, checks and SetupIntent (`usage=off_session`) as at checkout, on the
    service's current fees. Idempotent per `request_key`."""
    existing = CardSetup.objects.filter(request_key=request_key).first()
    if existing is None:
        terms = service_fee_terms(service)
        if terms is None:
            raise CardSetupRefused("This service does not ask for a card.")
        existing = _consent_record(customer=customer, terms=terms, digest=digest,
                                   language=language, request_key=request_key)  # fmt: skip
    if existing.setup_intent_id:
        return existing
    return _create_setup_intent(existing)


def card_setup_for_booking(*, setup: CardSetup, booking: Booking) -> CardSetup | None:
    """Inside the booking's transaction: the booking made from a request (a waitlist place
    taken) carries the consent the customer gave then and the card saved with it, so its
    no-show and late-cancellation fees can be charged. None when that card is not saved."""
    if setup.status != CardSetupStatus.SAVED or setup.card is None:
        return None
    existing = CardSetup.objects.filter(booking=booking).first()
    if existing is not None:
        return existing
    return CardSetup.objects.create(
        booking=booking, owner=setup.owner, currency=setup.currency,
        no_show_fee_minor=setup.no_show_fee_minor,
        late_cancel_fee_minor=setup.late_cancel_fee_minor,
        late_window_hours=setup.late_window_hours, consent_text=setup.consent_text,
        consent_version=setup.consent_version, consented_at=setup.consented_at,
        idempotency_key=f"{setup.idempotency_key}:booking:{booking.reference}"[:80],
        status=CardSetupStatus.SAVED, card=setup.card, saved_at=setup.saved_at,
    )  # fmt: skip


def _create_setup_intent(setup: CardSetup) -> CardSetup:
    from ..selectors import connected_account_of

    label = setup.booking.reference if setup.booking is not None else str(setup.request_key)
    tenant = current_tenant()
    account = connected_account_of(tenant)
    metadata = {"tenant_schema": tenant.schema_name}
    if setup.booking is not None:
        metadata["booking_reference"] = label
    else:
        metadata["creneau_request"] = label
    params: dict[str, Any] = {
        "customer": setup.owner.stripe_customer_id,
        "usage": "off_session",
        "payment_method_types": ["card"],
        "description": f"Card on file · {tenant.name} · {label}",
        "metadata": metadata,
    }
    if account is not None:
        # The fees are destination charges on behalf of the business: set the card up for it.
        params["on_behalf_of"] = account.account_id
    try:
        intent = gateway.stripe_client().v1.setup_intents.create(
            params=params,  # type: ignore[arg-type]  # a plain dict, checked by Stripe
            options={"idempotency_key": setup.idempotency_key},
        )
    except stripe.StripeError as error:
        logger.warning("card_setup.intent_failed", extra={"setup": setup.pk})
        raise PaymentProviderUnavailable(
            "Your card cannot be saved at the moment. Your time is held: please try again."
        ) from error
    CardSetup.objects.filter(pk=setup.pk, setup_intent_id__isnull=True).update(
        setup_intent_id=intent.id, client_secret=intent.client_secret or ""
    )
    setup.refresh_from_db()
    return setup


def card_setup_complete(*, setup: CardSetup) -> CardSetup:
    """Re-read the SetupIntent from Stripe; once it succeeded, keep the card (brand and last
    four only) and confirm the held booking. Idempotent and safe from the page and the webhook
    alike (whichever comes first)."""
    if not setup.setup_intent_id:
        return setup
    client = gateway.stripe_client()
    intent = client.v1.setup_intents.retrieve(setup.setup_intent_id)
    if intent.status != "succeeded":
        error = getattr(intent, "last_setup_error", None)
        message = str(error.get("message") or "") if error and hasattr(error, "get") else ""
        if message and message != setup.last_error:
            CardSetup.objects.filter(pk=setup.pk).update(last_error=message)
        setup.refresh_from_db()
        return setup
    method_id = str(intent.payment_method or "")
    method = client.v1.payment_methods.retrieve(method_id)
    replaced = _card_keep(setup, method_id, getattr(method, "card", None))
    if replaced:
        _detach_quietly(replaced)
    if setup.booking_id is not None:
        _confirm_booking(Booking.objects.get(pk=setup.booking_id))
    setup.refresh_from_db()
    return setup


def _card_keep(setup: CardSetup, method_id: str, card: Any) -> str:
    """Record the saved card once (under the owner's row lock). The same card saved again (same
    Stripe fingerprint, a live saved card of this customer) stays one saved card: the row takes
    the new PaymentMethod, just set up with the latest consent and expiry, and the old one's id
    is returned for detaching. Returns "" otherwise."""
    fingerprint = str(getattr(card, "fingerprint", "") or "")
    replaced = ""
    with transaction.atomic():
        CardCustomer.objects.select_for_update().get(pk=setup.owner_id)
        locked = CardSetup.objects.select_for_update().get(pk=setup.pk)
        if locked.status == CardSetupStatus.SAVED:
            return ""
        details = {
            "brand": str(getattr(card, "brand", "") or "card"),
            "last4": str(getattr(card, "last4", "") or ""),
            "exp_month": getattr(card, "exp_month", None),
            "exp_year": getattr(card, "exp_year", None),
            "fingerprint": fingerprint,
        }
        saved = SavedCard.objects.filter(payment_method_id=method_id).first()
        same = (
            SavedCard.objects.filter(
                owner_id=locked.owner_id, fingerprint=fingerprint, removed_at__isnull=True
            ).first()  # fmt: skip
            if fingerprint and saved is None
            else None
        )
        if saved is None and same is not None:
            replaced = same.payment_method_id
            SavedCard.objects.filter(pk=same.pk).update(payment_method_id=method_id, **details)
            saved = same
            logger.info("saved_card.same_card_again", extra={"card": same.pk})
        elif saved is None:
            saved = SavedCard.objects.create(
                payment_method_id=method_id, owner_id=locked.owner_id, **details
            )
        locked.card = saved
        locked.status = CardSetupStatus.SAVED
        locked.last_error = ""
        locked.saved_at = timezone.now()
        locked.save()
        logger.info("card_setup.saved", extra={"setup": locked.pk})
    return replaced


def _detach_quietly(payment_method_id: str) -> None:
    """The replaced copy of a card saved twice: detached at Stripe so it can never be charged.
    A failure leaves an unused PaymentMethod on the platform's Customer, nothing worse."""
    try:
        gateway.stripe_client().v1.payment_methods.detach(payment_method_id)
    except stripe.StripeError:
        logger.warning("saved_card.detach_failed", extra={"payment_method": payment_method_id})


def _confirm_booking(booking: Booking) -> None:
    if booking.status == BookingStatus.HELD:
        try:
            booking_confirm(booking=booking, actor=CUSTOMER, reason="Card saved for the fees.")
        except InvalidTransition:
            pass  # expired meanwhile: the time may still be free
        booking.refresh_from_db()
    if booking.status == BookingStatus.EXPIRED:
        booking_retake_after_late_payment(booking=booking)


def card_setup_for_intent(setup_intent_id: str) -> CardSetup | None:
    return CardSetup.objects.filter(setup_intent_id=setup_intent_id).first()


# ---------------------------------------------------------------------------
# The customer's saved cards
# ---------------------------------------------------------------------------
def saved_card_remove(*, card: SavedCard) -> SavedCard:
    """Detach the card at Stripe (it can never be charged again), then mark it removed.

    A card already detached at Stripe counts as removed. Fees already awaiting the customer
    stay payable through their link with another card.
    """
    if card.removed_at is not None:
        return card
    try:
        gateway.stripe_client().v1.payment_methods.detach(card.payment_method_id)
    except stripe.InvalidRequestError as error:
        if "not attached" not in str(error).lower():
            raise
    SavedCard.objects.filter(pk=card.pk, removed_at__isnull=True).update(removed_at=timezone.now())
    logger.info("saved_card.removed", extra={"card": card.pk})
    card.refresh_from_db()
    return card
