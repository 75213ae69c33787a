"""/v1/accounts/{id}/login_links and the local Express dashboard page they open."""

from __future__ import annotations

import html
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.pages import PAGE_STYLE
from stripe_local.app.registry import LocalReply, html_reply, local_helper, route
from stripe_local.app.state import State
from stripe_local.balance import balance_for
from stripe_local.connect.accounts import get_connected_account
from stripe_local.core import ANY, StripeError, template


@route("POST", "/v1/accounts/{id}/login_links", spec={"redirect_url": ANY})
def login_link_create(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    account = get_connected_account(ctx, id, "account")
    if account.data["type"] != "express":
        raise StripeError(
            "Cannot create a login link for an account that is not an Express account.",
            param="account",
        )
    if not account.data["details_submitted"]:
        raise StripeError(
            "Cannot create a login link for an account that has not completed onboarding.",
            param="account",
        )
    return template(
        "login_link",
        created=core.now_seconds(),
        url=f"{ctx.base_url}/_local/connect/dashboard/{id}",
    )


def dashboard_page(state: State, account_id: str) -> tuple[int, dict[str, str], str]:
    with state.lock:
        account = state.store.find(account_id)
        if account is None or account.kind != "account":
            return 404, {}, "<h1>No such account</h1>"
        rows = []
        for charge in state.store.iter_newest_first(account_id, "charge"):
            rows.append(
                f"<tr><td>{html.escape(charge.id)}</td><td>"
                f"{core.format_amount(charge.data['amount'], charge.data['currency'])}</td>"
                f"<td>{html.escape(charge.data['status'])}</td></tr>"
            )
            if len(rows) >= 50:
                break
        balance = balance_for(state, account_id)
    available = ", ".join(
        core.format_amount(b["amount"], b["currency"]) for b in balance["available"]
    )
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>Express dashboard</title>
<style>{PAGE_STYLE}</style></head><body><h1>Express dashboard (local Stripe)</h1>
<p>Account <code>{html.escape(account_id)}</code></p><p>Available balance: {available or "0"}</p>
<table><tr><th>Payment</th><th>Amount</th><th>Status</th></tr>{"".join(rows)}</table>
</body></html>"""
    return 200, {}, body


@local_helper("connect")
def dashboard_helper(
    state: State, method: str, parts: list[str], params: dict[str, Any]
) -> LocalReply | None:
    """/_local/connect/dashboard/<account>: where a login link leads."""
    if len(parts) != 3 or parts[1] != "dashboard":
        return None
    return html_reply(dashboard_page(state, parts[2]))
