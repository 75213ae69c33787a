"""Plans as Stripe Products and Prices, found by `lookup_key`, created or updated idempotently.

A price never changes in Stripe: when a plan's amount changes, a new Price takes the lookup key
(`transfer_lookup_key`) and the old one stays, so existing subscribers keep it until moved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe

from .gateway import billing_idempotency_key, billing_stripe_client
from .mirror import mirror
from .models import BillingInterval, Plan

logger = logging.getLogger(__name__)

# A yearly price is ten monthly ones (two months free), for seats as for the base price.
YEARLY_SEAT_MONTHS = 10


def plan_product_id(plan: Plan) -> str:
    return f"creneau_plan_{plan.code}"


def price_lookup_key(plan: Plan, interval: str, *, seat: bool = False) -> str:
    return f"creneau_{plan.code}_{'seat_' if seat else ''}{interval}ly"


@dataclass(frozen=True)
class WantedPrice:
    lookup_key: str
    interval: str
    unit_amount: int
    currency: str
    seat: bool


def wanted_prices(plan: Plan) -> list[WantedPrice]:
    currency = plan.currency.lower()
    prices = [
        WantedPrice(
            price_lookup_key(plan, "month"), "month", plan.monthly_price_minor, currency, False
        ),
        WantedPrice(
            price_lookup_key(plan, "year"), "year", plan.yearly_price_minor, currency, False
        ),
    ]
    if plan.extra_seat_price_minor:
        seat = plan.extra_seat_price_minor
        prices += [
            WantedPrice(price_lookup_key(plan, "month", seat=True), "month", seat, currency, True),
            WantedPrice(
                price_lookup_key(plan, "year", seat=True),
                "year",
                seat * YEARLY_SEAT_MONTHS,
                currency,
                True,
            ),
        ]
    return prices


def _matches(price: stripe.Price, wanted: WantedPrice) -> bool:
    """The Price is the one wanted, active or not (archived ones are switched back on)."""
    recurring = price.recurring
    return bool(
        price.unit_amount == wanted.unit_amount
        and price.currency == wanted.currency
        and recurring is not None
        and recurring.interval == wanted.interval
    )


def _product_ensure(client: stripe.StripeClient, plan: Plan) -> tuple[stripe.Product, list[str]]:
    product_id = plan_product_id(plan)
    active = plan.retired_at is None
    try:
        product = client.v1.products.retrieve(product_id)
    except stripe.InvalidRequestError as error:
        if error.code != "resource_missing":
            raise
        product = client.v1.products.create(
            {
                "id": product_id,
                "name": plan.name,
                "active": active,
                "metadata": {"plan_code": plan.code},
            },  # fmt: skip
            {"idempotency_key": billing_idempotency_key("product", product_id)},
        )
        return product, [f"product {product_id} created"]
    if product.name != plan.name or product.active != active:
        product = client.v1.products.update(product_id, {"name": plan.name, "active": active})
        return product, [f"product {product_id} updated"]
    return product, []


def plan_sync_to_stripe(*, plan: Plan, client: stripe.StripeClient | None = None) -> list[str]:
    """Make Stripe hold this plan's Product and Prices; returns what changed (empty: nothing)."""
    client = client or billing_stripe_client()
    product, changes = _product_ensure(client, plan)
    mirror("Product", product)
    if plan.retired_at is not None:
        return _prices_archive(client, plan, changes)
    for wanted in wanted_prices(plan):
        found = client.v1.prices.list({"lookup_keys": [wanted.lookup_key], "limit": 1}).data
        current = found[0] if found else None
        if current is not None and _matches(current, wanted):
            if not current.active:  # the plan was retired and is back on sale
                current = client.v1.prices.update(current.id, {"active": True})
                changes.append(f"price {wanted.lookup_key} ({current.id}) back on sale")
            mirror("Price", current)
            continue
        kind = "seat" if wanted.seat else "base"
        created = client.v1.prices.create(
            {
                "product": product.id,
                "currency": wanted.currency,
                "unit_amount": wanted.unit_amount,
                "recurring": {"interval": BillingInterval(wanted.interval).value},
                "lookup_key": wanted.lookup_key,
                "transfer_lookup_key": current is not None,
                "nickname": f"{plan.name} {kind} {wanted.interval}ly",
                "metadata": {"plan_code": plan.code, "kind": kind},
            },
            {
                "idempotency_key": billing_idempotency_key(
                    "price",
                    wanted.lookup_key,
                    wanted.unit_amount,
                    wanted.currency,
                    current.id if current else "",
                )
            },
        )
        mirror("Price", created)
        if current is not None:
            mirror("Price", client.v1.prices.retrieve(current.id))
        changes.append(
            f"price {wanted.lookup_key} {'replaced by' if current else 'created as'} {created.id}"
        )
    for change in changes:
        logger.info("billing.plan_synced", extra={"plan": plan.code, "change": change})
    return changes


def _prices_archive(client: stripe.StripeClient, plan: Plan, changes: list[str]) -> list[str]:
    """A retired plan's current Prices archived: no new subscription can take them, and
    Stripe keeps renewing the subscriptions that have them."""
    for wanted in wanted_prices(plan):
        found = client.v1.prices.list({"lookup_keys": [wanted.lookup_key], "limit": 1}).data
        if found and found[0].active:
            archived = client.v1.prices.update(found[0].id, {"active": False})
            mirror("Price", archived)
            changes.append(f"price {wanted.lookup_key} ({archived.id}) archived")
    for change in changes:
        logger.info("billing.plan_synced", extra={"plan": plan.code, "change": change})
    return changes


def plans_sync_to_stripe(*, client: stripe.StripeClient | None = None) -> list[str]:
    changes: list[str] = []
    for plan in Plan.objects.order_by("display_order", "pk"):
        changes += [f"{plan.code}: {c}" for c in plan_sync_to_stripe(plan=plan, client=client)]
    return changes


def price_for(
    plan: Plan, interval: str, *, seat: bool = False, client: stripe.StripeClient | None = None
) -> stripe.Price | None:
    """The current Price of a plan (or of its extra seat), found by lookup key."""
    client = client or billing_stripe_client()
    key = price_lookup_key(plan, interval, seat=seat)
    found = client.v1.prices.list({"lookup_keys": [key], "limit": 1}).data
    return found[0] if found else None
