"""What payment and setup intents share: client secret check, state errors, 3-D Secure action."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.store import Record
from stripe_local.core import StripeError
from stripe_local.payment_errors import saved_error

PI_STATUSES_CONFIRMABLE = ("requires_confirmation", "requires_payment_method", "requires_action")


def check_client_secret(ctx: Context, record: Record, params: dict[str, Any]) -> None:
    """Publishable-key calls must present the intent's client secret (like Stripe.js does)."""
    given = params.pop("client_secret", None)
    if ctx.key_type == "publishable" or given is not None:
        if given != record.data["client_secret"]:
            raise StripeError(
                "The client_secret provided does not match the client_secret associated with "
                f"the {'PaymentIntent' if record.kind == 'payment_intent' else 'SetupIntent'}.",
                param="client_secret",
            )


def unexpected_state(
    record: Record, action: str, allowed: tuple[str, ...], ctx: Context
) -> StripeError:
    noun = "PaymentIntent" if record.kind == "payment_intent" else "SetupIntent"
    return saved_error(
        f"You cannot {action} this {noun} because it has a status of {record.data['status']}. "
        f"Only a {noun} with one of the following statuses may be "
        f"{'canceled' if action == 'cancel' else action + 'ed'}: {', '.join(allowed)}.",
        code=f"{record.kind}_unexpected_state",
        extra={record.kind: ctx.state.render(record)},
    )


def authentication_action(ctx: Context, record: Record, params: dict[str, Any]) -> dict[str, Any]:
    challenge = (
        f"{ctx.base_url}/_local/3ds/{record.id}/challenge?client_secret="
        f"{record.data['client_secret']}"
    )
    if ctx.account:
        challenge += f"&account={ctx.account}"
    return_url = record.internal.get("return_url")
    if return_url and not core.get_bool(params, "use_stripe_sdk", False):
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {"return_url": return_url, "url": challenge},
        }
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": challenge,
            "source": core.new_id("src"),
        },
    }
