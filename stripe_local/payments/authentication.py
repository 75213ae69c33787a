"""3-D Secure: finishing a challenge, and the /_local/3ds pages that stand in for the bank."""

from __future__ import annotations

import html
import urllib.parse
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.pages import PAGE_STYLE
from stripe_local.app.registry import LocalReply, html_reply, local_helper
from stripe_local.app.state import State
from stripe_local.core import StripeError
from stripe_local.payments.charging import charge_payment_method, notify_invoice
from stripe_local.payments.setup_intents import authenticate_setup


def authenticate_intent(
    state: State, intent_id: str, client_secret: str | None, outcome: str, account: str | None
) -> dict[str, Any]:
    """Finish a 3-D Secure challenge ("complete" or "fail"), as the bank's page would."""
    record = state.store.find(intent_id)
    if record is None or record.kind not in ("payment_intent", "setup_intent"):
        raise core.not_found("payment_intent", intent_id)
    if client_secret is not None and client_secret != record.data["client_secret"]:
        raise StripeError("The client_secret provided does not match.", param="client_secret")
    if record.data["status"] != "requires_action":
        raise StripeError(
            f"This intent is not awaiting authentication (status {record.data['status']}).",
            code=f"{record.kind}_unexpected_state",
        )
    ctx = Context(state=state, account=record.owner, base_url=state.config.public_url or "")
    state.current_ctx = ctx
    try:
        pm = state.store.find(record.data["payment_method"])
        assert pm is not None
        if record.kind == "setup_intent":
            return authenticate_setup(ctx, record, pm, outcome)
        if outcome == "complete":
            try:
                return charge_payment_method(ctx, record, pm, authenticated=True)
            except StripeError:
                return state.render(record)
        record.data["status"] = "requires_payment_method"
        record.data["next_action"] = None
        record.data["last_payment_error"] = {
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide "
            "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent "
            "again.",
            "payment_method": state.render(pm),
        }
        state.emit("payment_intent.payment_failed", record)
        notify_invoice(state, record, succeeded=False)
        return state.render(record)
    finally:
        state.current_ctx = None
        state.dirty = True


# -- /_local/3ds/<intent>: the bank's challenge page, and a JSON shortcut for tests ---------------


@local_helper("3ds")
def three_d_secure_helper(
    state: State, method: str, parts: list[str], params: dict[str, Any]
) -> LocalReply | None:
    if len(parts) < 2:
        return None
    intent_id, rest = parts[1], parts[2:]
    if rest == ["challenge"]:
        if method == "GET":
            return html_reply(_challenge_page(intent_id, params))
        with state.lock:
            intent = authenticate_intent(
                state,
                intent_id,
                params.get("client_secret"),
                params.get("outcome", "fail"),
                None,
            )
            record = state.store.find(intent_id)
            return_url = record.internal.get("return_url") if record else None
        if not return_url:
            return html_reply(
                (200, {}, "<p>Authentication finished; you can close this window.</p>")
            )
        return html_reply((303, {"Location": _with_redirect_params(return_url, intent)}, ""))
    if method != "POST":
        raise StripeError("Use POST", status=405)
    with state.lock:
        intent = authenticate_intent(
            state, intent_id, params.get("client_secret"), params.get("outcome", "fail"), None
        )
    return LocalReply(200, intent)


def _with_redirect_params(return_url: str, intent: dict[str, Any]) -> str:
    prefix = "payment_intent" if intent["object"] == "payment_intent" else "setup_intent"
    ok = intent["status"] in ("succeeded", "processing", "requires_capture")
    query = urllib.parse.urlencode(
        {
            prefix: intent["id"],
            f"{prefix}_client_secret": intent["client_secret"],
            "redirect_status": "succeeded" if ok else "failed",
        }
    )
    return return_url + ("&" if "?" in return_url else "?") + query


def _challenge_page(intent_id: str, params: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    secret = html.escape(params.get("client_secret", ""))
    return (
        200,
        {},
        f"""<!doctype html><html><head><meta charset="utf-8"><title>3-D Secure test page</title>
<style>{PAGE_STYLE}</style></head><body><h1>3-D Secure 2 test page</h1>
<p>Local Stripe stands in for the bank's challenge for <code>{html.escape(intent_id)}</code>.</p>
<form method="post"><input type="hidden" name="client_secret" value="{secret}">
<button class="primary" name="outcome" value="complete"
 id="complete-authentication">Complete</button>
<button name="outcome" value="fail" id="fail-authentication">Fail</button></form></body></html>""",
    )
