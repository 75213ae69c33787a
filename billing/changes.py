"""The owner's own changes to the subscription: subscribe from the trial, change plan, billing
details, the Customer Portal.

Every amount shown before confirming is Stripe's own invoice preview (`invoices.create_preview`)
computed for the same change and, for upgrades, the same `proration_date` that the update then
uses, so what is shown is what is charged. Cards never touch Creneau: a SetupIntent
(`usage=off_session`) is confirmed in the browser by Stripe's Payment Element; the server only
reads the SetupIntent back and makes its PaymentMethod the customer's default.

Decisions (docs/billing.md): subscribing ends the trial now (`trial_end=now`), so the first
invoice is paid at once and the page shows the active plan; an upgrade applies at once with
`proration_behavior=always_invoice`; a downgrade is a Subscription Schedule (this period as it
is, then the lower plan, `end_behavior=release`), so Stripe moves the subscription at the period
end without proration and the renewal invoice is the first at the lower price.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, cast

import stripe
from django.core import signing
from django.utils import timezone

from scheduling.models import StaffMember
from scheduling.selectors.catalogue import running_group_schedules
from tenants.models import Tenant

from .catalogue import price_for
from .gateway import billing_idempotency_key, billing_stripe_client
from .mirror import mirror
from .models import BillingInterval, Plan, SubscriptionStatus, TenantSubscription
from .subscriptions import customer_ensure, subscription_apply

logger = logging.getLogger(__name__)

# A confirmation form is good for this long after its preview; then the owner previews again.
PREVIEW_MAX_AGE = 30 * 60
SIGNING_SALT = "billing.change"
PENDING_PLAN = "pending_plan"
PENDING_INTERVAL = "pending_interval"


class ChangeRefused(Exception):
    """A change the owner cannot make, with the reason to show."""


@dataclass(frozen=True)
class Preview:
    kind: str  # "subscribe", "upgrade", "downgrade"
    plan: Plan
    interval: str
    amount_due: int  # minor units, what Stripe will charge now (downgrade: at the renewal)
    currency: str
    token: str  # signed (plan, interval, proration_date, kind) for the confirmation form
    client_secret: str = ""  # the SetupIntent's, for the Payment Element (subscribe only)


def _rank(plan: Plan, interval: str) -> tuple[int, int]:
    return plan.monthly_price_minor, 1 if interval == BillingInterval.YEAR else 0


def _subscription(row: TenantSubscription, client: stripe.StripeClient) -> stripe.Subscription:
    if not row.stripe_subscription_id:
        raise ChangeRefused("Your subscription is not ready yet; try again in a minute.")
    return client.v1.subscriptions.retrieve(row.stripe_subscription_id)


def _items_for(
    subscription: Any, plan: Plan, interval: str, client: stripe.StripeClient
) -> list[dict[str, Any]]:
    """The item changes moving `subscription` to `plan` and `interval` (extra seats follow)."""
    base = price_for(plan, interval, client=client)
    if base is None:
        raise ChangeRefused(f"The {plan.name} plan cannot be bought yet; try again later.")
    seat = (
        price_for(plan, interval, seat=True, client=client) if plan.extra_seat_price_minor else None
    )
    items: list[dict[str, Any]] = []
    for item in subscription["items"]["data"]:
        price = item["price"]
        is_seat = (price.get("metadata") or {}).get("kind") == "seat" or "_seat_" in (
            price.get("lookup_key") or ""
        )
        if not is_seat:
            items.append({"id": item["id"], "price": base.id})
        elif seat is not None:
            items.append({"id": item["id"], "price": seat.id})
        else:
            items.append({"id": item["id"], "deleted": True})
    return items


def downgrade_refusal(plan: Plan) -> str:
    """Why the current tenant (the connection's schema) cannot move down to `plan`, or ""."""
    active = StaffMember.objects.filter(is_active=True).count()
    if plan.max_staff is not None and active > plan.max_staff:
        return (
            f"You have {active} active staff members; the {plan.name} plan allows "
            f"{plan.max_staff}. Make some inactive first."
        )
    running = running_group_schedules(now=timezone.now())
    if plan.max_group_sessions is not None and running > plan.max_group_sessions:
        return (
            f"You have {running} recurring group sessions running; the {plan.name} plan allows "
            f"{plan.max_group_sessions}. Cancel the sessions of some first."
        )
    return ""


def _now_for(subscription: Any, client: stripe.StripeClient) -> int:
    """Stripe's now for this subscription: a test clock's frozen time when it runs on one."""
    clock = subscription.get("test_clock")
    if clock:
        clock_id = clock if isinstance(clock, str) else clock["id"]
        return int(client.v1.test_helpers.test_clocks.retrieve(clock_id).frozen_time)
    return int(time.time())


def _sign(**data: Any) -> str:
    return signing.dumps(data, salt=SIGNING_SALT)


def _unsign(token: str, tenant: Tenant) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature as error:
        raise ChangeRefused("This confirmation has expired; choose the plan again.") from error
    if data.get("tenant") != tenant.pk:
        raise ChangeRefused("This confirmation is not for this business.")
    return data


def change_preview(
    *, tenant: Tenant, plan: Plan, interval: str, client: stripe.StripeClient | None = None
) -> Preview:
    """What moving to `plan`/`interval` costs, as Stripe computes it, before confirming."""
    client = client or billing_stripe_client()
    if interval not in BillingInterval.values:
        raise ChangeRefused("Choose monthly or yearly.")
    row = TenantSubscription.objects.filter(tenant=tenant).first()
    if row is None:
        raise ChangeRefused("Your subscription is not ready yet; try again in a minute.")
    subscription = _subscription(row, client)
    items = _items_for(subscription, plan, interval, client)
    trialing = subscription["status"] == SubscriptionStatus.TRIALING
    if trialing or subscription["status"] == SubscriptionStatus.PAUSED:
        kind = "subscribe"
    elif row.plan_id == plan.pk and row.interval == interval:
        raise ChangeRefused(f"You are already on the {plan.name} plan, {interval}ly.")
    elif row.plan is not None and _rank(plan, interval) < _rank(row.plan, row.interval):
        kind = "downgrade"
        refusal = downgrade_refusal(plan)
        if refusal:
            raise ChangeRefused(refusal)
    else:
        kind = "upgrade"
    proration_date = _now_for(subscription, client)
    details: Any = {"items": items}
    if kind == "upgrade":
        details |= {"proration_behavior": "always_invoice", "proration_date": proration_date}
    else:
        details["proration_behavior"] = "none"
    preview_params: Any = {"subscription": subscription["id"], "subscription_details": details}
    preview = client.v1.invoices.create_preview(preview_params)
    client_secret = ""
    if kind == "subscribe":
        intent = client.v1.setup_intents.create(
            {
                "customer": subscription["customer"],
                "usage": "off_session",
                "payment_method_types": ["card"],
                "metadata": {"tenant_schema": tenant.schema_name},
            }
        )
        client_secret = intent.client_secret or ""
    token = _sign(tenant=tenant.pk, plan=plan.code, interval=interval, kind=kind, at=proration_date)
    return Preview(kind, plan, interval, preview.amount_due, preview.currency, token, client_secret)


def _plan_from(data: dict[str, Any]) -> Plan:
    plan = Plan.objects.filter(code=data.get("plan")).first()
    if plan is None:
        raise ChangeRefused("This plan no longer exists; choose another.")
    return plan


def subscribe_confirm(
    *, tenant: Tenant, token: str, setup_intent_id: str, client: stripe.StripeClient | None = None
) -> TenantSubscription:
    """After the browser confirmed the SetupIntent: the card becomes the customer's default and
    the trial subscription moves to the chosen price, ending the trial now."""
    client = client or billing_stripe_client()
    data = _unsign(token, tenant)
    if data.get("kind") != "subscribe":
        raise ChangeRefused("This confirmation is not for subscribing; choose the plan again.")
    plan = _plan_from(data)
    row = TenantSubscription.objects.get(tenant=tenant)
    customer_id = customer_ensure(tenant=tenant, client=client)
    try:
        intent = client.v1.setup_intents.retrieve(setup_intent_id)
    except stripe.InvalidRequestError as error:
        raise ChangeRefused("The card was not saved; enter it again.") from error
    if intent.customer != customer_id or intent.status != "succeeded" or not intent.payment_method:
        raise ChangeRefused("The card was not saved; enter it again.")
    payment_method = (
        intent.payment_method
        if isinstance(intent.payment_method, str)
        else intent.payment_method.id
    )
    client.v1.customers.update(
        customer_id, {"invoice_settings": {"default_payment_method": payment_method}}
    )
    subscription = _subscription(row, client)
    params: Any = {
        "items": _items_for(subscription, plan, data["interval"], client),
        "proration_behavior": "none",
        "default_payment_method": payment_method,
        "metadata": {"plan_code": plan.code},
    }
    if subscription["status"] == SubscriptionStatus.TRIALING:
        params["trial_end"] = "now"
    updated = client.v1.subscriptions.update(
        subscription["id"],
        params,
        {"idempotency_key": billing_idempotency_key("subscribe", tenant.pk, setup_intent_id)},
    )
    if updated.status == SubscriptionStatus.PAUSED:
        updated = client.v1.subscriptions.resume(
            updated.id, {"billing_cycle_anchor": "now", "proration_behavior": "none"}
        )
    logger.info("billing.subscribed", extra={"tenant": tenant.schema_name, "plan": plan.code})
    return subscription_apply(tenant=tenant, data=client.v1.subscriptions.retrieve(updated.id))


def change_confirm(
    *, tenant: Tenant, token: str, client: stripe.StripeClient | None = None
) -> tuple[str, TenantSubscription]:
    """Apply a previewed upgrade at once (same `proration_date` as its preview), or record a
    downgrade for the period end. Returns the kind and the row."""
    client = client or billing_stripe_client()
    data = _unsign(token, tenant)
    plan = _plan_from(data)
    row = TenantSubscription.objects.get(tenant=tenant)
    subscription = _subscription(row, client)
    if data.get("kind") == "upgrade":
        if subscription.schedule:  # an upgrade replaces a scheduled downgrade
            pending_change_cancel(tenant=tenant, client=client)
        upgrade: Any = {
            "items": _items_for(subscription, plan, data["interval"], client),
            "proration_behavior": "always_invoice",
            "proration_date": data["at"],
            "metadata": {"plan_code": plan.code, PENDING_PLAN: "", PENDING_INTERVAL: ""},
        }
        updated = client.v1.subscriptions.update(
            subscription["id"],
            upgrade,
            {"idempotency_key": billing_idempotency_key("upgrade", tenant.pk, token)},
        )
        logger.info("billing.upgraded", extra={"tenant": tenant.schema_name, "plan": plan.code})
        return "upgrade", subscription_apply(tenant=tenant, data=updated)
    if data.get("kind") != "downgrade":
        raise ChangeRefused("This confirmation is not for a plan change; choose the plan again.")
    refusal = downgrade_refusal(plan)
    if refusal:
        raise ChangeRefused(refusal)
    _schedule_downgrade(subscription, plan, data["interval"], client)
    logger.info("billing.downgrade_scheduled", extra={"tenant": tenant.schema_name})
    return "downgrade", subscription_apply(
        tenant=tenant, data=client.v1.subscriptions.retrieve(subscription["id"])
    )


def _phase_items(subscription: Any, changes: list[dict[str, Any]] | None = None) -> list[Any]:
    """A schedule phase's items: the subscription's (price, quantity), with `changes` applied."""
    by_id = {change["id"]: change for change in changes or []}
    items = []
    for item in subscription["items"]["data"]:
        change = by_id.get(item["id"], {})
        if change.get("deleted"):
            continue
        items.append({"price": change.get("price") or item["price"]["id"],
                      "quantity": item.get("quantity") or 1})  # fmt: skip
    return items


def _schedule_downgrade(subscription: Any, plan: Plan, interval: str, client: Any) -> None:
    """A Subscription Schedule: this period as it is, then the lower plan from the period end
    (Stripe applies a phase change at a period boundary without proration)."""
    target = _phase_items(subscription, _items_for(subscription, plan, interval, client))
    schedule_id = subscription.get("schedule")
    if schedule_id:
        schedule_id = schedule_id if isinstance(schedule_id, str) else schedule_id["id"]
        schedule = client.v1.subscription_schedules.retrieve(schedule_id)
    else:
        schedule = client.v1.subscription_schedules.create(
            {"from_subscription": subscription["id"]}
        )
    current = schedule.phases[0] if len(schedule.phases) == 1 else schedule.current_phase
    start = current["start_date"]
    end = current["end_date"]
    params: Any = {
        "end_behavior": "release",
        "phases": [
            {"items": _phase_items(subscription), "start_date": start, "end_date": end},
            {"items": target, "metadata": {"plan_code": plan.code}},
        ],
        "metadata": {PENDING_PLAN: plan.code, PENDING_INTERVAL: interval},
    }
    client.v1.subscription_schedules.update(schedule.id, params)


def pending_change_of(subscription: Any, client: Any = None) -> tuple[Plan, str] | None:
    """The lower plan a schedule moves this subscription to at the period end, if any."""
    schedule_id = subscription.get("schedule")
    if not schedule_id:
        return None
    client = client or billing_stripe_client()
    schedule_id = schedule_id if isinstance(schedule_id, str) else schedule_id["id"]
    schedule = client.v1.subscription_schedules.retrieve(schedule_id)
    metadata = schedule.metadata or {}
    plan = Plan.objects.filter(code=metadata.get(PENDING_PLAN) or "").first()
    interval = metadata.get(PENDING_INTERVAL) or ""
    if schedule.status != "active" or plan is None or interval not in BillingInterval.values:
        return None
    return plan, interval


def pending_change_cancel(*, tenant: Tenant, client: stripe.StripeClient | None = None) -> None:
    """Keep the current plan: the schedule is released, the subscription goes on as it is."""
    client = client or billing_stripe_client()
    row = TenantSubscription.objects.get(tenant=tenant)
    schedule_id = _subscription(row, client).schedule
    if schedule_id:
        schedule_id = schedule_id if isinstance(schedule_id, str) else schedule_id["id"]
        client.v1.subscription_schedules.release(schedule_id)


@dataclass(frozen=True)
class BillingDetails:
    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    vat_number: str = ""  # EU VAT, with its country prefix (a Stripe tax id of type eu_vat)


def billing_details_of(
    *, tenant: Tenant, client: stripe.StripeClient | None = None
) -> BillingDetails:
    client = client or billing_stripe_client()
    row = TenantSubscription.objects.filter(tenant=tenant).first()
    if row is None or not row.stripe_customer_id:  # reading the page never creates a customer
        return BillingDetails("", "", "", "", "", "")
    customer = client.v1.customers.retrieve(row.stripe_customer_id)
    address: Any = cast(Any, customer.address) or {}
    vat = _vat_ids(client, row.stripe_customer_id)

    def get(key: str) -> str:
        return str(address.get(key) or "")

    return BillingDetails(
        customer.name or "", get("line1"), get("line2"), get("postal_code"), get("city"),
        get("country"), vat[0].value if vat else "",
    )  # fmt: skip


def _vat_ids(client: stripe.StripeClient, customer_id: str) -> list[stripe.TaxId]:
    listed = client.v1.customers.tax_ids.list(customer_id, {"limit": 100}).data
    return [tax_id for tax_id in listed if tax_id.type == "eu_vat"]


def billing_details_save(
    *, tenant: Tenant, details: BillingDetails, client: stripe.StripeClient | None = None
) -> None:
    """Name, address and VAT number on the Stripe customer, so they appear on every invoice
    made from now on (Stripe copies them, `customer_tax_ids` for the VAT number).

    The new VAT number is created first: refused by Stripe (`tax_id_invalid`), nothing has
    changed. Only then the name and address, and the previous VAT number removed; saving the
    same number again changes nothing."""
    client = client or billing_stripe_client()
    customer_id = customer_ensure(tenant=tenant, client=client)
    existing = _vat_ids(client, customer_id)
    keep = [tax_id for tax_id in existing if tax_id.value == details.vat_number]
    if details.vat_number and not keep:
        keep = [
            client.v1.customers.tax_ids.create(
                customer_id,
                {"type": "eu_vat", "value": details.vat_number},
                {"idempotency_key": billing_idempotency_key("vat", tenant.pk, details.vat_number,
                                                            [t.id for t in existing])},
            )
        ]  # fmt: skip
    customer = client.v1.customers.update(
        customer_id,
        {
            "name": details.name,
            "address": {
                "line1": details.line1,
                "line2": details.line2,
                "postal_code": details.postal_code,
                "city": details.city,
                "country": details.country,
            },
        },
    )
    for tax_id in existing:
        if tax_id not in keep:
            client.v1.customers.tax_ids.delete(customer_id, tax_id.id)
    mirror("Customer", customer)


def portal_url(
    *, tenant: Tenant, return_url: str, client: stripe.StripeClient | None = None
) -> str:
    """A Customer Portal session (card, invoices, cancellation) returning to `return_url`."""
    client = client or billing_stripe_client()
    session = client.v1.billing_portal.sessions.create(
        {"customer": customer_ensure(tenant=tenant, client=client), "return_url": return_url}
    )
    return session.url
