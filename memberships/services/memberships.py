"""Membership offers (draft → on sale → retired) and what customers and staff do with a
membership: join (a Stripe subscription paid through the Payment Element), cancel at period end,
fix the card, end it, refund a period. Charges: docs/decisions/0014-membership-charges.md.

Stripe calls run outside transactions with idempotency keys; local rows are written before the
call (so a retry finds them) and after it (ids, state re-read from Stripe).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe
from django.db import IntegrityError, transaction

from billing.selectors import fee_rate_of
from connect_payments import gateway
from connect_payments.exceptions import PaymentsUnavailable
from connect_payments.gateway import PaymentProviderUnavailable
from connect_payments.selectors import connected_account_of
from scheduling.actors import SYSTEM, Actor
from scheduling.exceptions import BookingError
from scheduling.models import Customer
from tenants.context import current_tenant

from ..exceptions import lazy_text as _
from ..models.memberships import (
    LIVE_MEMBERSHIP_STATUSES,
    Membership,
    MembershipOffer,
    MembershipOfferStatus,
    MembershipPeriod,
    MembershipStatus,
)
from .memberships_billing import membership_refresh_all, membership_sync

logger = logging.getLogger(__name__)


class MembershipNotAvailable(BookingError):
    """The customer cannot join (not on sale, already a member, payments not possible)."""

    code = "membership_not_available"
    http_status = 409
    default_message = "This membership cannot be joined."


class MembershipChangeRefused(BookingError):
    """An offer or membership change its state does not allow; safe to show."""

    code = "membership_change_refused"
    http_status = 400
    default_message = "This change is not possible."


def _provider_call(call: Any, *args: Any, **kwargs: Any) -> Any:
    """A Stripe call whose provider failures become PaymentProviderUnavailable (retryable)."""
    try:
        return call(*args, **kwargs)
    except stripe.StripeError as error:
        if gateway.is_provider_failure(error):
            raise PaymentProviderUnavailable() from error
        raise


# ---------------------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OfferTerms:
    """What an offer sells; fixed once it is on sale."""

    name: str
    price_minor: int
    currency: str
    interval: str
    credits_per_period: int | None
    cap_per_day: int | None = None
    cap_per_week: int | None = None
    rollover_max: int = 0
    joining_fee_minor: int = 0
    minimum_periods: int = 0
    member_discount_percent: int | None = None
    description: str = ""


def _check_terms(terms: OfferTerms) -> None:
    if terms.price_minor <= 0:
        raise MembershipChangeRefused(_("The price must be more than zero."))
    if terms.interval not in ("week", "month", "year"):
        raise MembershipChangeRefused(_("The billing interval must be weekly, monthly or yearly."))
    if terms.credits_per_period is not None and (terms.cap_per_day or terms.cap_per_week):
        raise MembershipChangeRefused(
            _("Daily and weekly caps apply to unlimited memberships only.")
        )
    if terms.credits_per_period is None and terms.rollover_max:
        raise MembershipChangeRefused(_("Unlimited memberships have nothing to roll over."))
    if terms.credits_per_period is not None and terms.credits_per_period < 1:
        raise MembershipChangeRefused(_("A membership gives at least one credit per period."))
    if terms.joining_fee_minor < 0 or terms.rollover_max < 0 or terms.minimum_periods < 0:
        raise MembershipChangeRefused(_("Amounts and counts cannot be negative."))


def membership_offer_create(*, terms: OfferTerms, service_ids: list[int]) -> MembershipOffer:
    """A draft offer (not sold until published)."""
    _check_terms(terms)
    if not service_ids:
        raise MembershipChangeRefused(_("Choose the services the membership covers."))
    with transaction.atomic():
        offer = MembershipOffer.objects.create(
            name=terms.name,
            description=terms.description,
            price_minor=terms.price_minor,
            currency=terms.currency.upper(),
            interval=terms.interval,
            credits_per_period=terms.credits_per_period,
            cap_per_day=terms.cap_per_day,
            cap_per_week=terms.cap_per_week,
            rollover_max=terms.rollover_max,
            joining_fee_minor=terms.joining_fee_minor,
            minimum_periods=terms.minimum_periods,
            member_discount_percent=terms.member_discount_percent,
        )
        offer.services.set(service_ids)
    return offer


def membership_offer_update(
    *, offer: MembershipOffer, terms: OfferTerms, service_ids: list[int]
) -> MembershipOffer:
    """Change a draft; an offer on sale or retired keeps its terms (its members pay them) and
    may only be renamed or described again."""
    if offer.status != MembershipOfferStatus.DRAFT:
        changed = MembershipOffer.objects.filter(pk=offer.pk).update(
            name=terms.name, description=terms.description
        )
        if not changed:
            raise MembershipChangeRefused()
        offer.refresh_from_db()
        return offer
    _check_terms(terms)
    if not service_ids:
        raise MembershipChangeRefused(_("Choose the services the membership covers."))
    with transaction.atomic():
        updated = MembershipOffer.objects.filter(
            pk=offer.pk, status=MembershipOfferStatus.DRAFT
        ).update(
            name=terms.name,
            description=terms.description,
            price_minor=terms.price_minor,
            currency=terms.currency.upper(),
            interval=terms.interval,
            credits_per_period=terms.credits_per_period,
            cap_per_day=terms.cap_per_day,
            cap_per_week=terms.cap_per_week,
            rollover_max=terms.rollover_max,
            joining_fee_minor=terms.joining_fee_minor,
            minimum_periods=terms.minimum_periods,
            member_discount_percent=terms.member_discount_percent,
        )
        if not updated:
            raise MembershipChangeRefused(_("The offer was published meanwhile."))
        offer.refresh_from_db()
        offer.services.set(service_ids)
    return offer


def membership_offer_publish(*, offer: MembershipOffer) -> MembershipOffer:
    """Put a draft on sale: its Stripe Product and recurring Price are made first (idempotent
    keys per offer, so a retry after a failure reuses them)."""
    if offer.status == MembershipOfferStatus.ON_SALE:
        return offer
    if offer.status != MembershipOfferStatus.DRAFT:
        raise MembershipChangeRefused(_("A retired offer cannot be sold again; copy it instead."))
    schema = current_tenant().schema_name
    client = gateway.stripe_client()
    product_id = offer.stripe_product_id
    if not product_id:
        product = _provider_call(
            client.v1.products.create,
            params={
                "name": offer.name,
                "metadata": {"tenant_schema": schema, "membership_offer": str(offer.pk)},
            },
            options={"idempotency_key": gateway.idempotency_key("offer.product", schema, offer.pk)},
        )
        product_id = product.id
    price = _provider_call(
        client.v1.prices.create,
        params={
            "product": product_id,
            "currency": offer.currency.lower(),
            "unit_amount": offer.price_minor,
            "recurring": {"interval": offer.interval},
            "metadata": {"tenant_schema": schema, "membership_offer": str(offer.pk)},
        },
        options={
            "idempotency_key": gateway.idempotency_key(
                "offer.price", schema, offer.pk, offer.price_minor, offer.interval
            )
        },
    )
    changed = MembershipOffer.objects.filter(
        pk=offer.pk, status=MembershipOfferStatus.DRAFT
    ).update(
        status=MembershipOfferStatus.ON_SALE, stripe_product_id=product_id, stripe_price_id=price.id
    )
    offer.refresh_from_db()
    if not changed and offer.status != MembershipOfferStatus.ON_SALE:
        raise MembershipChangeRefused()
    logger.info("membership.offer_published", extra={"offer": offer.pk})
    return offer


def membership_offer_retire(*, offer: MembershipOffer) -> MembershipOffer:
    """Stop selling; existing members keep their membership, price and renewals."""
    MembershipOffer.objects.filter(
        pk=offer.pk, status__in=[MembershipOfferStatus.DRAFT, MembershipOfferStatus.ON_SALE]
    ).update(status=MembershipOfferStatus.RETIRED)
    offer.refresh_from_db()
    return offer


# ---------------------------------------------------------------------------------------------
# Joining
# ---------------------------------------------------------------------------------------------
def _fee_percent() -> Decimal:
    """The tenant's plan fee as a subscription's `application_fee_percent` (2 decimals). The
    plan's fixed part per charge has no subscription equivalent (decision 0014)."""
    return Decimal(fee_rate_of(current_tenant()).basis_points) / Decimal(100)


def membership_join(
    *, offer: MembershipOffer, customer: Customer, test_clock: str | None = None
) -> Membership:
    """Start joining: an incomplete membership and its subscription, whose first invoice the
    customer pays in the Payment Element (`membership.client_secret`). Calling again while it
    is incomplete returns the same membership and secret.

    `test_clock` (Stripe test mode only: tests and bench/credits.py) puts a new Stripe customer
    on that test clock, so renewals can be simulated.
    """
    tenant = current_tenant()
    if offer.status != MembershipOfferStatus.ON_SALE or not offer.stripe_price_id:
        raise MembershipNotAvailable(_("This membership is not on sale."))
    account = connected_account_of(tenant)
    if account is None or not account.charges_enabled:
        raise PaymentsUnavailable()
    live = Membership.objects.filter(
        customer=customer, offer=offer, status__in=LIVE_MEMBERSHIP_STATUSES
    ).first()
    if live is not None and live.status == MembershipStatus.INCOMPLETE and live.client_secret:
        # An unpaid first invoice expires in Stripe after 23 hours: look before reusing it.
        live = membership_sync(membership=live)
        if live.status == MembershipStatus.ENDED:
            live = None
    if live is not None and live.status != MembershipStatus.INCOMPLETE:
        raise MembershipNotAvailable(_("You are already a member."))
    membership = live or _membership_reserve(offer, customer, account.account_id)
    if membership.client_secret:
        return membership
    schema = tenant.schema_name
    client = gateway.stripe_client()
    stripe_customer = membership.stripe_customer_id or _stripe_customer_for(customer)
    if not stripe_customer:
        customer_params: dict[str, Any] = {
            "email": customer.email,
            "name": customer.name,
            "metadata": {"tenant_schema": schema, "customer": str(customer.pk)},
        }
        if test_clock:
            customer_params["test_clock"] = test_clock
        created = _provider_call(
            client.v1.customers.create,
            params=customer_params,
            options={
                "idempotency_key": gateway.idempotency_key("member.customer", schema, customer.pk)
            },
        )
        stripe_customer = created.id
    Membership.objects.filter(pk=membership.pk).update(stripe_customer_id=stripe_customer)
    params: dict[str, Any] = {
        "customer": stripe_customer,
        "items": [{"price": offer.stripe_price_id}],
        "payment_behavior": "default_incomplete",
        "payment_settings": {"save_default_payment_method": "on_subscription"},
        "transfer_data": {"destination": membership.destination_account_id},
        "metadata": {"tenant_schema": schema, "membership": str(membership.pk)},
        "expand": ["latest_invoice.confirmation_secret"],
    }
    if membership.fee_percent:
        params["application_fee_percent"] = float(membership.fee_percent)
    if membership.joining_fee_minor:
        params["add_invoice_items"] = [
            {
                "price_data": {
                    "currency": membership.currency.lower(),
                    "product": offer.stripe_product_id,
                    "unit_amount": membership.joining_fee_minor,
                }
            }
        ]
    subscription = _provider_call(
        client.v1.subscriptions.create,
        params=params,
        options={
            "idempotency_key": gateway.idempotency_key(
                "membership.subscribe", schema, membership.pk
            )
        },
    )
    invoice = subscription["latest_invoice"]
    secret = _get_secret(invoice)
    Membership.objects.filter(pk=membership.pk).update(
        stripe_subscription_id=subscription.id, client_secret=secret
    )
    membership.refresh_from_db()
    membership = membership_sync(membership=membership, subscription=subscription)
    logger.info("membership.join_started", extra={"membership": membership.pk})
    return membership


def _get_secret(invoice: Any) -> str:
    try:
        return str(invoice["confirmation_secret"]["client_secret"])
    except (KeyError, TypeError):
        return ""  # nothing to pay (a free first invoice): already paid


def _stripe_customer_for(customer: Customer) -> str:
    """The platform Customer a previous membership of this customer made, if any."""
    previous = (
        Membership.objects.filter(customer=customer)
        .exclude(stripe_customer_id="")
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    return previous or ""


def _membership_reserve(offer: MembershipOffer, customer: Customer, account_id: str) -> Membership:
    try:
        with transaction.atomic():
            return Membership.objects.create(
                offer=offer,
                customer=customer,
                name=offer.name,
                price_minor=offer.price_minor,
                currency=offer.currency,
                interval=offer.interval,
                credits_per_period=offer.credits_per_period,
                cap_per_day=offer.cap_per_day,
                cap_per_week=offer.cap_per_week,
                rollover_max=offer.rollover_max,
                joining_fee_minor=offer.joining_fee_minor,
                minimum_periods=offer.minimum_periods,
                fee_percent=_fee_percent(),
                destination_account_id=account_id,
            )
    except IntegrityError:  # joined concurrently (the live-membership constraint)
        return Membership.objects.get(
            customer=customer, offer=offer, status__in=LIVE_MEMBERSHIP_STATUSES
        )


def membership_join_returned(*, membership: Membership) -> Membership:
    """The Payment Element confirmed the first invoice: re-read Stripe now rather than wait
    for the webhook (both paths are idempotent)."""
    return membership_refresh_all(membership=membership)


# ---------------------------------------------------------------------------------------------
# Cancelling, the card, ending, refunds
# ---------------------------------------------------------------------------------------------
def _update_subscription(membership: Membership, params: dict[str, Any], key: str) -> Membership:
    subscription = _provider_call(
        gateway.stripe_client().v1.subscriptions.update,
        membership.stripe_subscription_id,
        params=params,
        options={"idempotency_key": key},
    )
    return membership_sync(membership=membership, subscription=subscription)


def membership_cancel_at_period_end(
    *, membership: Membership, cancel: bool = True, actor: Actor = SYSTEM
) -> Membership:
    """Cancel at the end of the paid period (or of the minimum commitment, if later), or undo
    it. Nothing is refunded. The customer from the account page, staff from the members list."""
    if membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE):
        raise MembershipChangeRefused(_("Only a running membership can be cancelled."))
    nonce = f"{membership.synced_at.timestamp() if membership.synced_at else 0}"
    key = gateway.idempotency_key("membership.cancel", membership.pk, cancel, nonce)
    committed_until = membership.commitment_ends_at
    if (
        cancel
        and committed_until is not None
        and membership.current_period_end is not None
        and committed_until > membership.current_period_end
    ):
        params: dict[str, Any] = {"cancel_at": int(committed_until.timestamp())}
    elif cancel:
        params = {"cancel_at_period_end": True}
    elif committed_until is not None:
        params = {"cancel_at": ""}
    else:
        params = {"cancel_at_period_end": False}
    membership = _update_subscription(membership, params, key)
    logger.info(
        "membership.cancel_at_period_end",
        extra={"membership": membership.pk, "cancel": cancel, "actor": actor.label},
    )
    return membership


def membership_end_now(*, membership: Membership, actor: Actor = SYSTEM) -> Membership:
    """Staff end a membership at once (nothing refunded unless they refund a period)."""
    if membership.status == MembershipStatus.ENDED:
        return membership
    if not membership.stripe_subscription_id:
        Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.ENDED)
        membership.refresh_from_db()
        return membership
    subscription = _provider_call(
        gateway.stripe_client().v1.subscriptions.cancel,
        membership.stripe_subscription_id,
        options={"idempotency_key": gateway.idempotency_key("membership.end", membership.pk)},
    )
    logger.info(
        "membership.ended_by_staff", extra={"membership": membership.pk, "actor": actor.label}
    )
    return membership_sync(membership=membership, subscription=subscription)


def membership_card_setup(*, membership: Membership) -> str:
    """A SetupIntent for a new card (the account page's Payment Element); its client secret."""
    if not membership.stripe_customer_id or membership.status == MembershipStatus.ENDED:
        raise MembershipChangeRefused(_("This membership has no card to update."))
    intent = _provider_call(
        gateway.stripe_client().v1.setup_intents.create,
        params={
            "customer": membership.stripe_customer_id,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {
                "tenant_schema": current_tenant().schema_name,
                "membership": str(membership.pk),
            },
        },
        # One SetupIntent per page shown: the key only guards a network retry of this call.
        options={
            "idempotency_key": gateway.idempotency_key("membership.card", secrets.token_hex(8))
        },
    )
    return str(intent.client_secret)


def membership_card_update(*, membership: Membership, setup_intent_id: str) -> Membership:
    """The customer confirmed a SetupIntent: make its card the subscription's, pay the open
    invoice of a past-due membership with it, and re-read everything."""
    client = gateway.stripe_client()
    intent = _provider_call(client.v1.setup_intents.retrieve, setup_intent_id)
    if (
        intent["status"] != "succeeded"
        or intent["customer"] != membership.stripe_customer_id
        or not intent["payment_method"]
    ):
        raise MembershipChangeRefused(_("The card could not be saved. Please try again."))
    payment_method = str(intent["payment_method"])
    membership = _update_subscription(
        membership,
        {"default_payment_method": payment_method},
        gateway.idempotency_key("membership.card_default", membership.pk, payment_method),
    )
    subscription = _provider_call(
        client.v1.subscriptions.retrieve, membership.stripe_subscription_id
    )
    invoice_id = subscription["latest_invoice"]
    if invoice_id:
        invoice = _provider_call(client.v1.invoices.retrieve, str(invoice_id))
        if invoice["status"] == "open":
            try:
                client.v1.invoices.pay(
                    str(invoice_id),
                    params={"payment_method": payment_method},
                    options={
                        "idempotency_key": gateway.idempotency_key(
                            "membership.pay", invoice_id, payment_method
                        )
                    },
                )
            except stripe.CardError as error:
                membership_refresh_all(membership=membership)
                raise MembershipChangeRefused(
                    error.user_message or "The card was declined. Please try another card."
                ) from error
    return membership_refresh_all(membership=membership)


def membership_period_refund(
    *, period: MembershipPeriod, actor: Actor = SYSTEM
) -> MembershipPeriod:
    """Staff refund one paid period in full, with the platform fee and the transfer reversed
    as for bookings. The period's credits stay (staff adjust them in the ledger if needed)."""
    if period.refund_id and not period.refund_id.startswith("pending:"):
        return period
    if not period.payment_intent_id or period.amount_paid_minor <= 0:
        raise MembershipChangeRefused(_("This period was not paid by card."))
    key = gateway.idempotency_key("membership.period_refund", period.invoice_id)
    with transaction.atomic():
        claimed = MembershipPeriod.objects.filter(
            pk=period.pk, refund_id__in=["", f"pending:{key}"]
        ).update(refund_id=f"pending:{key}")
    if not claimed:
        period.refresh_from_db()
        return period
    try:
        refund = gateway.stripe_client().v1.refunds.create(
            params={
                "payment_intent": period.payment_intent_id,
                "refund_application_fee": True,
                "reverse_transfer": True,
                "metadata": {"membership_period": str(period.pk)},
            },
            options={"idempotency_key": key},
        )
    except stripe.StripeError as error:
        MembershipPeriod.objects.filter(pk=period.pk, refund_id=f"pending:{key}").update(
            refund_id=""
        )
        if gateway.is_provider_failure(error):
            raise PaymentProviderUnavailable() from error
        raise MembershipChangeRefused(error.user_message or "Stripe refused the refund.") from error
    MembershipPeriod.objects.filter(pk=period.pk).update(
        refund_id=refund.id, refunded_minor=int(refund.amount)
    )
    period.refresh_from_db()
    logger.info("membership.period_refunded", extra={"period": period.pk, "actor": actor.label})
    return period
