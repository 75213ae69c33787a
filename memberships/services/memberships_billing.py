"""A membership follows its Stripe subscription: status and period re-read from Stripe, each paid
invoice recorded once with the period's credits, credits suspended while past due.

Webhooks only say "look again": `membership_sync` re-reads the subscription and
`membership_invoice_paid` re-reads the invoice, so a duplicated, late or reordered event changes
nothing. A period's credits are granted with the invoice id as the ledger's idempotency key, and
the period row is unique per invoice: one invoice, one grant, whatever arrives twice.

Stripe calls are made outside transactions; the writes that follow take the membership's row
lock (after any scheduling lock: a booking transition never locks a membership).
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connect_payments import gateway
from outbox.services import outbox_enqueue

from ..models import CreditGrant, CreditSourceKind
from ..models.memberships import Membership, MembershipPeriod, MembershipStatus
from .credits import credit_grant, credit_grants_suspend

logger = logging.getLogger(__name__)

PAYMENT_FAILED_EMAIL_TASK = "memberships.membership_payment_failed_email"

# Stripe's subscription status → ours. `unpaid` is Stripe giving up (the dunning's final action
# "mark unpaid"): the membership ends like a canceled one, and we cancel the subscription.
STATUS_FROM_STRIPE = {
    "incomplete": MembershipStatus.INCOMPLETE,
    "trialing": MembershipStatus.ACTIVE,
    "active": MembershipStatus.ACTIVE,
    "past_due": MembershipStatus.PAST_DUE,
    "unpaid": MembershipStatus.ENDED,
    "canceled": MembershipStatus.ENDED,
    "incomplete_expired": MembershipStatus.ENDED,
    "paused": MembershipStatus.PAST_DUE,
}


def _when(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), tz=UTC) if timestamp else None


def _get(obj: Any, key: str) -> Any:
    try:
        return obj[key]
    except (KeyError, TypeError):
        return None


def membership_sync(*, membership: Membership, subscription: Any | None = None) -> Membership:
    """Re-read the subscription (unless given, fresh) and apply it; idempotent."""
    if not membership.stripe_subscription_id:
        return membership
    client = gateway.stripe_client()
    if subscription is None:
        subscription = client.v1.subscriptions.retrieve(membership.stripe_subscription_id)
    stripe_status = str(subscription["status"])
    if stripe_status == "unpaid":
        # Stripe gave up on the renewal: end it there too, so it never invoices again.
        subscription = client.v1.subscriptions.cancel(
            membership.stripe_subscription_id,
            options={
                "idempotency_key": gateway.idempotency_key(
                    "membership.cancel_unpaid", membership.stripe_subscription_id
                )
            },
        )
    return _apply_subscription(membership, subscription)


def _apply_subscription(membership: Membership, subscription: Any) -> Membership:
    stripe_status = str(subscription["status"])
    target = STATUS_FROM_STRIPE.get(stripe_status, MembershipStatus.PAST_DUE)
    items = subscription["items"]["data"]
    start = _when(items[0]["current_period_start"]) if items else None
    end = _when(items[0]["current_period_end"]) if items else None
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        previous = locked.status
        if previous == MembershipStatus.ENDED:
            target = MembershipStatus.ENDED  # terminal: a late "active" never revives it
        locked.stripe_status = stripe_status
        locked.current_period_start = start or locked.current_period_start
        locked.current_period_end = end or locked.current_period_end
        locked.cancel_at_period_end = bool(
            subscription["cancel_at_period_end"] or subscription["cancel_at"]
        )
        locked.status = target
        if target == MembershipStatus.ACTIVE and locked.started_at is None:
            locked.started_at = _when(subscription["start_date"]) or timezone.now()
            if locked.minimum_periods and end is not None:
                locked.commitment_ends_at = _commitment_end(locked, end)
        if target == MembershipStatus.ENDED and locked.ended_at is None:
            locked.ended_at = _when(subscription["ended_at"]) or timezone.now()
            locked.cancel_at_period_end = False
        locked.synced_at = timezone.now()
        locked.save()
        if target != previous:
            _credits_follow_status(locked, target)
            logger.info(
                "membership.status_changed",
                extra={"membership": locked.pk, "from": previous, "to": target},
            )
    return locked


def _commitment_end(membership: Membership, first_period_end: datetime) -> datetime:
    """The end of the minimum commitment: `minimum_periods` periods from the start."""
    return add_periods(first_period_end, membership.interval, membership.minimum_periods - 1)


def add_periods(moment: datetime, interval: str, count: int) -> datetime:
    """`count` billing intervals after `moment`, months clamped to the month's last day (as
    Stripe bills 31 January → 28 February)."""
    if interval == "week":
        return moment + timedelta(weeks=count)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _credits_follow_status(membership: Membership, status: str) -> None:
    """Past due or ended: the membership's credits cannot be taken; active again: they can."""
    if status in (MembershipStatus.PAST_DUE, MembershipStatus.ENDED, MembershipStatus.ACTIVE):
        credit_grants_suspend(
            source_kind=CreditSourceKind.MEMBERSHIP,
            source_id=str(membership.pk),
            suspended=status != MembershipStatus.ACTIVE,
        )


def _subscription_line(invoice: Any) -> Any:
    for line in invoice["lines"]["data"]:
        parent = _get(line, "parent") or {}
        if _get(parent, "type") == "subscription_item_details":
            return line
    return invoice["lines"]["data"][0] if invoice["lines"]["data"] else None


def _subscription_of(invoice: Any) -> str:
    details = _get(_get(invoice, "parent"), "subscription_details")
    return str(_get(details, "subscription") or "")


def _payment_ids(invoice: Any) -> tuple[str, str]:
    payments = _get(invoice, "payments")
    for payment in (_get(payments, "data") or []) if payments else []:
        intent_id = _get(_get(payment, "payment"), "payment_intent")
        if intent_id:
            intent = gateway.stripe_client().v1.payment_intents.retrieve(str(intent_id))
            return str(intent_id), str(intent["latest_charge"] or "")
    return "", ""


def membership_invoice_paid(*, membership: Membership, invoice_id: str) -> MembershipPeriod | None:
    """Record a paid invoice of the membership and grant its period's credits, once.

    The invoice is re-read from Stripe: an invoice that is not paid, or belongs to another
    subscription, grants nothing.
    """
    known = MembershipPeriod.objects.filter(invoice_id=invoice_id).first()
    if known is not None:
        return known
    invoice = gateway.stripe_client().v1.invoices.retrieve(
        invoice_id, params={"expand": ["payments"]}
    )
    if (
        invoice["status"] != "paid"
        or _subscription_of(invoice) != membership.stripe_subscription_id
    ):
        return None
    line = _subscription_line(invoice)
    if line is None:
        return None
    start = _when(line["period"]["start"])
    end = _when(line["period"]["end"])
    assert start is not None and end is not None
    intent_id, charge_id = _payment_ids(invoice)
    try:
        with transaction.atomic():
            locked = Membership.objects.select_for_update().get(pk=membership.pk)
            if MembershipPeriod.objects.filter(invoice_id=invoice_id).exists():
                return MembershipPeriod.objects.get(invoice_id=invoice_id)
            rolled = _rollover_into(locked, start)
            credits = (
                None if locked.credits_per_period is None else locked.credits_per_period + rolled
            )
            grant = credit_grant(
                customer=locked.customer,
                source_kind=CreditSourceKind.MEMBERSHIP,
                source_id=str(locked.pk),
                credits=credits,
                expires_at=end,
                valid_from=start,
                service_ids=list(locked.offer.services.values_list("pk", flat=True)),
                idempotency_key=f"membership-invoice:{invoice_id}",
                cap_per_day=locked.cap_per_day,
                cap_per_week=locked.cap_per_week,
                reason=(
                    f"{locked.name}: {start:%Y-%m-%d} to {end:%Y-%m-%d}"
                    + (f" ({rolled} rolled over)" if rolled else "")
                ),
            )
            if locked.status in (MembershipStatus.PAST_DUE, MembershipStatus.ENDED):
                CreditGrant.objects.filter(pk=grant.pk).update(suspended=True)
            period = MembershipPeriod.objects.create(
                membership=locked,
                invoice_id=invoice_id,
                billing_reason=str(invoice["billing_reason"] or ""),
                period_start=start,
                period_end=end,
                amount_paid_minor=int(invoice["amount_paid"]),
                currency=str(invoice["currency"]).upper(),
                payment_intent_id=intent_id,
                charge_id=charge_id,
                credits_granted=credits,
                credits_rolled_over=rolled,
                grant_id=grant.pk,
            )
    except IntegrityError:  # the same invoice recorded concurrently
        return MembershipPeriod.objects.filter(invoice_id=invoice_id).first()
    logger.info(
        "membership.period_paid",
        extra={"membership": membership.pk, "invoice": invoice_id, "credits": credits},
    )
    return period


def _rollover_into(membership: Membership, start: datetime) -> int:
    """Credits left on the previous period's grant that move to the period starting at
    `start`: at most `rollover_max` (none for unlimited memberships)."""
    if membership.credits_per_period is None or not membership.rollover_max:
        return 0
    previous = (
        MembershipPeriod.objects.filter(membership=membership, period_start__lt=start)
        .order_by("-period_start")
        .first()
    )
    if previous is None or previous.grant_id is None:
        return 0
    grant = CreditGrant.objects.filter(pk=previous.grant_id).first()
    if grant is None or grant.remaining is None:
        return 0
    return min(grant.remaining, membership.rollover_max)


def membership_payment_failed(*, membership: Membership, invoice_id: str) -> bool:
    """A renewal failed: the membership is past due (re-read), and the customer is emailed a
    link to fix the card — once per failed invoice. True when the email was queued."""
    membership = membership_sync(membership=membership)
    if membership.status != MembershipStatus.PAST_DUE:
        return False
    with transaction.atomic():
        claimed = (
            Membership.objects.filter(pk=membership.pk)
            .exclude(payment_failed_notified_invoice=invoice_id)
            .update(payment_failed_notified_invoice=invoice_id)
        )
        if claimed:
            outbox_enqueue(PAYMENT_FAILED_EMAIL_TASK, kwargs={"membership_id": membership.pk})
    return bool(claimed)


def membership_for_subscription(subscription_id: str, membership_id: str = "") -> Membership | None:
    """The membership of a subscription; one whose id was never recorded (the process stopped
    between Stripe's answer and our write) is found by the id in the subscription's metadata."""
    if not subscription_id:
        return None
    memberships = Membership.objects.select_related("customer", "offer")
    found = memberships.filter(stripe_subscription_id=subscription_id).first()
    if found is not None or not membership_id.isdigit():
        return found
    recorded = Membership.objects.filter(
        pk=int(membership_id), stripe_subscription_id__isnull=True
    ).update(stripe_subscription_id=subscription_id)
    return memberships.filter(stripe_subscription_id=subscription_id).first() if recorded else None


def membership_refresh_all(*, membership: Membership) -> Membership:
    """Reconciliation: re-read the subscription and record every paid invoice not yet known."""
    membership = membership_sync(membership=membership)
    if not membership.stripe_subscription_id:
        return membership
    invoices = gateway.stripe_client().v1.invoices.list(
        params={"subscription": membership.stripe_subscription_id, "limit": 100}
    )
    for invoice in invoices.data:
        if invoice["status"] == "paid":
            membership_invoice_paid(membership=membership, invoice_id=str(invoice["id"]))
    return membership


__all__ = [
    "PAYMENT_FAILED_EMAIL_TASK",
    "membership_for_subscription",
    "membership_invoice_paid",
    "membership_payment_failed",
    "membership_refresh_all",
    "membership_sync",
]
