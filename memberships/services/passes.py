"""Passes: offers (draft → on sale → retired), purchases paid by a destination charge, the
credits granted once paid, and staff refunds (full or pro rata to the unused credits).

Money follows connect_payments' rules for bookings: a PaymentIntent on the platform with
`transfer_data[destination]` + `on_behalf_of` the business's connected account and the plan's
`application_fee_amount`; an idempotency key per operation; Stripe is never called inside a
database transaction (reserve locally, call Stripe, record). Refunds use `reverse_transfer` and
`refund_application_fee`, like booking refunds.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import stripe
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.selectors import fee_rate_of
from connect_payments import gateway
from connect_payments.exceptions import PaymentsUnavailable, RefundRefused
from connect_payments.fees import application_fee_minor, half_up_ratio
from connect_payments.gateway import PaymentProviderUnavailable
from connect_payments.selectors import connected_account_of
from scheduling.actors import SYSTEM, Actor
from scheduling.models import Booking, BookingStatus, Customer
from tenants.context import current_tenant

from ..exceptions import PassNotAvailable
from ..exceptions import lazy_text as _
from ..models import (
    CreditGrant,
    CreditSourceKind,
    PassOffer,
    PassOfferStatus,
    PassPurchase,
    PassPurchaseStatus,
    PassRefund,
    PassRefundMode,
    PassRefundStatus,
    PassSettings,
    ValidityStart,
)
from .credits import credit_adjust, credit_grant

logger = logging.getLogger(__name__)

OFFER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    PassOfferStatus.ON_SALE: (PassOfferStatus.DRAFT,),
    PassOfferStatus.DRAFT: (PassOfferStatus.ON_SALE,),  # taken off sale before anyone bought
    PassOfferStatus.RETIRED: (PassOfferStatus.DRAFT, PassOfferStatus.ON_SALE),
}
PENDING_REUSE = timedelta(hours=6)  # a second "Buy" click reuses the unpaid purchase


def pass_settings() -> PassSettings:
    row, _ = PassSettings.objects.get_or_create(pk=1)
    return row


# ---------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------
def pass_offer_save(*, offer: PassOffer | None, fields: dict[str, Any],
                    service_ids: Iterable[int]) -> PassOffer:  # fmt: skip
    """Create or edit an offer. Editing changes what is sold from now on; purchases keep the
    credits, validity and price they were bought with."""
    service_ids = list(service_ids)
    if not service_ids:
        raise PassNotAvailable(_("Choose the services the pass can be used for."))
    with transaction.atomic():
        if offer is None:
            offer = PassOffer(currency=current_tenant().currency or "EUR")
        for name, value in fields.items():
            setattr(offer, name, value)
        offer.full_clean(exclude=["services"])
        offer.save()
        offer.services.set(service_ids)
    return offer


def pass_offer_set_status(*, offer: PassOffer, status: str) -> PassOffer:
    """draft ↔ on sale (back to draft only while nobody bought it), anything → retired
    (final). Retiring stops sales; credits already bought stay usable until they expire."""
    sources = OFFER_TRANSITIONS.get(status)
    if sources is None:
        raise PassNotAvailable(_("Unknown status."))
    with transaction.atomic():
        current = PassOffer.objects.select_for_update().get(pk=offer.pk)
        if current.status == status:
            return current
        if current.status not in sources:
            raise PassNotAvailable(f"A {current.get_status_display().lower()} pass cannot "
                                   f"become {PassOfferStatus(status).label.lower()}.")  # fmt: skip
        if status == PassOfferStatus.DRAFT and current.purchases.exists():
            raise PassNotAvailable(_("Customers bought this pass: retire it instead."))
        PassOffer.objects.filter(pk=current.pk).update(status=status)
    offer.refresh_from_db()
    return offer


# ---------------------------------------------------------------------------
# Purchases
# ---------------------------------------------------------------------------
def pass_purchase_check(*, offer: PassOffer, customer: Customer) -> None:
    """Refuse what the offer does not allow this customer (PassNotAvailable)."""
    if offer.status != PassOfferStatus.ON_SALE:
        raise PassNotAvailable(_("This pass is not on sale."))
    bought = PassPurchase.objects.filter(
        customer=customer, status__in=(PassPurchaseStatus.PAID, PassPurchaseStatus.REFUNDED)
    )
    if offer.per_customer_limit is not None and (
        bought.filter(offer=offer).count() >= offer.per_customer_limit
    ):
        raise PassNotAvailable(_("You already bought this pass as many times as it allows."))
    if offer.new_customers_only:
        visited = Booking.objects.filter(
            customer=customer,
            status__in=(BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW),
        ).exists()
        if visited or bought.exists():
            raise PassNotAvailable(_("This pass is for new customers."))


def pass_purchase_start(*, offer: PassOffer, customer: Customer) -> PassPurchase:
    """Reserve a purchase and create its PaymentIntent (outside the reservation's transaction).

    A Stripe failure keeps the reservation; calling again retries with the same key.
    """
    pass_purchase_check(offer=offer, customer=customer)
    tenant = current_tenant()
    account = connected_account_of(tenant)
    if account is None or not account.charges_enabled:
        raise PaymentsUnavailable()
    pending = PassPurchase.objects.filter(
        offer=offer, customer=customer, status=PassPurchaseStatus.PENDING,
        created_at__gt=timezone.now() - PENDING_REUSE, price_minor=offer.price_minor,
    ).first()  # fmt: skip
    if pending is None:
        with transaction.atomic():
            pending = PassPurchase.objects.create(
                offer=offer,
                customer=customer,
                name=offer.name,
                credits=offer.credits,
                validity_days=offer.validity_days,
                validity_starts=offer.validity_starts,
                price_minor=offer.price_minor,
                currency=offer.currency,
                fee_minor=application_fee_minor(
                    amount_minor=offer.price_minor, rate=fee_rate_of(tenant)
                ),
                destination_account_id=account.account_id,
                # One key per purchase, drawn once: every retry of its PaymentIntent reuses it.
                idempotency_key=gateway.idempotency_key(
                    "pass_intent.create", tenant.schema_name, uuid.uuid4().hex
                ),
            )
    return pass_purchase_create_intent(purchase=pending)


def _intent_params(purchase: PassPurchase) -> dict[str, Any]:
    tenant = current_tenant()
    params: dict[str, Any] = {
        "amount": purchase.price_minor,
        "currency": purchase.currency.lower(),
        "transfer_data": {"destination": purchase.destination_account_id},
        "on_behalf_of": purchase.destination_account_id,
        "application_fee_amount": purchase.fee_minor,
        "metadata": {"tenant_schema": tenant.schema_name, "pass_purchase": str(purchase.pk)},
        "description": f"{purchase.name} · {tenant.name}",
        "automatic_payment_methods": {"enabled": True},
    }
    if purchase.customer.email:
        params["receipt_email"] = purchase.customer.email
    return params


def pass_purchase_create_intent(*, purchase: PassPurchase) -> PassPurchase:
    if purchase.payment_intent_id:
        return purchase
    try:
        intent = gateway.stripe_client().v1.payment_intents.create(
            params=_intent_params(purchase),  # type: ignore[arg-type]  # a plain dict
            options={"idempotency_key": purchase.idempotency_key},
        )
    except stripe.StripeError as error:
        logger.warning("pass.intent_create_failed", extra={"purchase": purchase.pk})
        raise PaymentProviderUnavailable() from error
    PassPurchase.objects.filter(pk=purchase.pk, payment_intent_id__isnull=True).update(
        payment_intent_id=intent.id, client_secret=intent.client_secret or ""
    )
    purchase.refresh_from_db()
    return purchase


def pass_purchase_sync(*, purchase: PassPurchase) -> PassPurchase:
    """Re-read the PaymentIntent from Stripe and apply it (the return page, the webhook)."""
    if not purchase.payment_intent_id:
        return purchase
    intent = gateway.stripe_client().v1.payment_intents.retrieve(purchase.payment_intent_id)
    return pass_purchase_apply_intent(purchase=purchase, intent=intent)


def pass_purchase_apply_intent(*, purchase: PassPurchase, intent: Any) -> PassPurchase:
    """Succeeded: record the money and grant the credits, once (the grant's idempotency key is
    the purchase's; duplicated or late events change nothing)."""
    with transaction.atomic():
        locked = PassPurchase.objects.select_for_update().get(pk=purchase.pk)
        if locked.payment_intent_id and locked.payment_intent_id != intent.id:
            raise ValueError("PaymentIntent does not belong to this purchase.")
        if intent.status == "succeeded" and locked.grant_id is None:
            paid_at = timezone.now()
            first_use = locked.validity_starts == ValidityStart.FIRST_USE
            grant = credit_grant(
                customer=locked.customer,
                source_kind=CreditSourceKind.PASS,
                source_id=str(locked.pk),
                credits=locked.credits,
                expires_at=None if first_use else paid_at + timedelta(days=locked.validity_days),
                valid_days_after_first_use=locked.validity_days if first_use else None,
                service_ids=locked.offer.services.values_list("pk", flat=True),
                idempotency_key=f"pass-purchase:{locked.pk}",
                reason=f"Bought: {locked.name}",
            )
            PassPurchase.objects.filter(pk=locked.pk).update(
                status=PassPurchaseStatus.PAID,
                paid_minor=int(intent.amount_received or intent.amount),
                charge_id=str(intent.latest_charge or ""),
                paid_at=paid_at,
                grant=grant,
            )
            logger.info("pass.paid", extra={"purchase": locked.pk, "grant": grant.pk})
        elif intent.status == "canceled" and locked.status == PassPurchaseStatus.PENDING:
            PassPurchase.objects.filter(pk=locked.pk).update(status=PassPurchaseStatus.CANCELED)
    purchase.refresh_from_db()
    return purchase


def pass_purchase_for_intent(*, obj: dict[str, Any]) -> PassPurchase | None:
    """The purchase a PaymentIntent belongs to (its id, else its metadata), in this schema."""
    if obj.get("object") != "payment_intent" or not obj.get("id"):
        return None
    purchase = PassPurchase.objects.filter(payment_intent_id=obj["id"]).first()
    if purchase is not None:
        return purchase
    # Created in Stripe but the id never recorded (the process stopped in between).
    purchase_id = str((obj.get("metadata") or {}).get("pass_purchase") or "")
    if not purchase_id.isdigit():
        return None
    updated = PassPurchase.objects.filter(
        pk=int(purchase_id), payment_intent_id__isnull=True
    ).update(payment_intent_id=obj["id"])
    return PassPurchase.objects.filter(pk=int(purchase_id)).first() if updated else None


# ---------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------
def pass_refund_quote(*, purchase: PassPurchase, mode: str | None = None) -> tuple[int, int]:
    """(amount to refund in minor units, credits to remove) under the business's refund mode.

    Pro rata: the paid price × unused credits / credits bought, half-up; credits taken by a
    booking (held or spent) count as used. Full: everything still refundable, and every credit
    left is removed. Expired credits are not refunded pro rata.
    """
    mode = mode or pass_settings().refund_mode
    refundable = purchase.paid_minor - purchase.refunded_minor
    grant = purchase.grant
    unused = 0
    if grant is not None and grant.expired_at is None:
        unused = grant.remaining or 0
    if mode == PassRefundMode.FULL:
        return refundable, unused
    if purchase.credits == 0:
        return 0, 0
    amount = min(half_up_ratio(purchase.paid_minor * unused, purchase.credits), refundable)
    return amount, unused


def pass_refund(*, purchase: PassPurchase, actor: Actor, reason: str = "") -> PassRefund:
    """Staff refund of a pass: the credits are removed and the refund reserved in one
    transaction, then executed in Stripe. Refused when nothing is left to refund."""
    with transaction.atomic():
        locked = PassPurchase.objects.select_for_update().get(pk=purchase.pk)
        if locked.status != PassPurchaseStatus.PAID:
            raise RefundRefused(_("Only a paid pass can be refunded."))
        if locked.refunds.filter(status=PassRefundStatus.PENDING).exists():
            raise RefundRefused(_("A refund of this pass is already under way."))
        if locked.grant_id is not None:
            CreditGrant.objects.select_for_update().get(pk=locked.grant_id)
        locked.refresh_from_db()
        amount, credits = pass_refund_quote(purchase=locked)
        if amount <= 0:
            raise RefundRefused(_("Nothing is left to refund on this pass."))
        sequence = locked.refunds.count() + 1
        refund = PassRefund.objects.create(
            purchase=locked,
            amount_minor=amount,
            credits_removed=credits,
            reason=reason[:300],
            actor_label=actor.label,
            idempotency_key=gateway.idempotency_key(
                "pass_refund.create", current_tenant().schema_name, locked.pk, sequence
            ),
        )
        if credits and locked.grant is not None:
            credit_adjust(customer=locked.customer, grant=locked.grant, delta=-credits,
                          reason=f"Pass refunded ({refund.pk})", actor=actor)  # fmt: skip
        PassPurchase.objects.filter(pk=locked.pk).update(
            refunded_minor=F("refunded_minor") + amount
        )
    return pass_refund_execute(refund=refund)


def pass_refund_execute(*, refund: PassRefund) -> PassRefund:
    """Send a reserved refund to Stripe (same key on every attempt) and record the answer.

    Stripe down: stays pending (run again to retry). Refused for good: failed, the money
    reservation is released and the removed credits are given back.
    """
    if refund.status != PassRefundStatus.PENDING:
        return refund
    purchase = refund.purchase
    params: dict[str, Any] = {
        "payment_intent": purchase.payment_intent_id,
        "amount": refund.amount_minor,
        "reverse_transfer": True,
        "metadata": {
            "tenant_schema": current_tenant().schema_name,
            "pass_purchase": str(purchase.pk),
            "creneau_pass_refund_id": str(refund.pk),
        },
    }
    if purchase.fee_minor > 0:
        params["refund_application_fee"] = True
    try:
        created = gateway.stripe_client().v1.refunds.create(
            params=params,  # type: ignore[arg-type]  # a plain dict, not the SDK's TypedDict
            options={"idempotency_key": refund.idempotency_key},
        )
    except stripe.StripeError as error:
        message = str(error.user_message or error)[:500]
        if gateway.is_provider_failure(error):
            PassRefund.objects.filter(pk=refund.pk).update(error=message)
        else:
            _refund_failed(refund=refund, message=message)
        refund.refresh_from_db()
        return refund
    with transaction.atomic():
        updated = PassRefund.objects.filter(pk=refund.pk, status=PassRefundStatus.PENDING).update(
            status=PassRefundStatus.SUCCEEDED, stripe_refund_id=created.id, error=""
        )
        if updated:
            PassPurchase.objects.filter(pk=purchase.pk, refunded_minor=F("paid_minor")).update(
                status=PassPurchaseStatus.REFUNDED
            )
    logger.info("pass.refunded", extra={"purchase": purchase.pk, "refund": refund.pk})
    refund.refresh_from_db()
    return refund


def _refund_failed(*, refund: PassRefund, message: str) -> None:
    with transaction.atomic():
        updated = PassRefund.objects.filter(pk=refund.pk, status=PassRefundStatus.PENDING).update(
            status=PassRefundStatus.FAILED, error=message
        )
        if not updated:
            return
        purchase = PassPurchase.objects.select_for_update().get(pk=refund.purchase_id)
        PassPurchase.objects.filter(pk=purchase.pk).update(
            refunded_minor=F("refunded_minor") - refund.amount_minor
        )
        if refund.credits_removed and purchase.grant is not None:
            credit_adjust(customer=purchase.customer, grant=purchase.grant,
                          delta=refund.credits_removed, actor=SYSTEM,
                          reason=f"Refund {refund.pk} failed: credits given back")  # fmt: skip


def passes_reconcile(*, since: datetime) -> list[str]:
    """Repair what a missed webhook left behind: re-read the PaymentIntents of purchases still
    pending since `since`, and send again the refunds Stripe did not answer. Idempotent."""
    lines = []
    pending = PassPurchase.objects.filter(
        status=PassPurchaseStatus.PENDING, payment_intent_id__isnull=False, created_at__gte=since
    )
    for purchase in pending:
        try:
            synced = pass_purchase_sync(purchase=purchase)
        except stripe.StripeError:
            logger.warning("pass.reconcile_failed", extra={"purchase": purchase.pk})
            continue
        if synced.status != PassPurchaseStatus.PENDING:
            lines.append(f"pass purchase {purchase.pk}: {synced.status}")
    for refund in PassRefund.objects.filter(status=PassRefundStatus.PENDING):
        done = pass_refund_execute(refund=refund)
        if done.status != PassRefundStatus.PENDING:
            lines.append(f"pass refund {refund.pk}: {done.status}")
    return lines
