"""Subscriptions whose money goes to a connected account (destination charges, like Stripe's
"Create subscriptions with Connect"): `transfer_data[destination]`, `transfer_data[amount_percent]`
and `application_fee_percent` on the subscription, and what each of its invoices' payments moves.

Every invoice of such a subscription (first, renewal, retry) is paid by a PaymentIntent on the
platform whose `transfer_data[destination]` is the subscription's, and whose
`application_fee_amount` is `application_fee_percent` of the invoice total (half-up, in minor
units); the charge then transfers the total less the fee to the connected account, as a booking's
destination charge does. With `transfer_data[amount_percent]` the transfer is that share instead.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from stripe_local.app.context import Context
from stripe_local.app.store import Record
from stripe_local.core import StripeError
from stripe_local.payments.payment_intents import check_destination


def _percent(value: Any, param: str) -> float | None:
    """A non-negative decimal between 0 and 100 with at most two decimal places ('' clears)."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal(-1)
    if (
        not number.is_finite()
        or not 0 <= number <= 100
        or number != number.quantize(Decimal("0.01"))
    ):
        raise StripeError(
            f"Invalid {param}: must be a non-negative decimal between 0 and 100, with at most "
            "two decimal places.",
            param=param,
        )
    return float(number)


def apply_connect_params(ctx: Context, data: dict[str, Any], params: dict[str, Any]) -> None:
    """Check and store `transfer_data` and `application_fee_percent` on subscription `data`
    (create or update: a parameter left out keeps its value; `transfer_data=''` clears it)."""
    if "transfer_data" in params:
        given = params["transfer_data"]
        if given in (None, ""):
            data["transfer_data"] = None
        else:
            if not isinstance(given, dict) or not given.get("destination"):
                raise StripeError(
                    "Missing required param: transfer_data[destination].",
                    param="transfer_data[destination]",
                )
            if ctx.account is not None:
                raise StripeError(
                    "Destination charges cannot be created on a connected account.",
                    param="transfer_data",
                )
            destination = str(given["destination"])
            check_destination(ctx, destination)
            data["transfer_data"] = {
                "amount_percent": _percent(
                    given.get("amount_percent"), "transfer_data[amount_percent]"
                ),
                "destination": destination,
            }
    if "application_fee_percent" in params:
        data["application_fee_percent"] = _percent(
            params["application_fee_percent"], "application_fee_percent"
        )
    if data["application_fee_percent"] is not None:
        if ctx.account is None and not data["transfer_data"]:
            raise StripeError(
                "Can only apply an application_fee_percent when the request is made on behalf "
                "of another account (using an OAuth key, the Stripe-Account header, or the "
                "transfer_data[destination] parameter).",
                param="application_fee_percent",
            )
        if data["transfer_data"] and data["transfer_data"]["amount_percent"] is not None:
            raise StripeError(
                "You may only specify one of these parameters: application_fee_percent, "
                "transfer_data[amount_percent].",
                param="application_fee_percent",
            )


def _share(amount: int, percent: float) -> int:
    exact = Decimal(amount) * Decimal(str(percent)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def invoice_charge_params(sub: Record | None, amount_due: int) -> dict[str, Any]:
    """The PaymentIntent parameters an invoice of `sub` adds for its connected account."""
    if sub is None:
        return {}
    d = sub.data
    params: dict[str, Any] = {}
    transfer = d["transfer_data"]
    if transfer:
        params["transfer_data"] = {"destination": transfer["destination"]}
        if transfer["amount_percent"] is not None:
            params["transfer_data"]["amount"] = _share(amount_due, transfer["amount_percent"])
    if d["application_fee_percent"] is not None and (transfer or sub.owner is not None):
        params["application_fee_amount"] = _share(amount_due, d["application_fee_percent"])
    return params
