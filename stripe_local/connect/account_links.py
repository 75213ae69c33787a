"""/v1/account_links and the local hosted onboarding pages they lead to."""

from __future__ import annotations

import html
import secrets
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.pages import PAGE_STYLE
from stripe_local.app.registry import LocalReply, html_reply, local_helper, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.connect.accounts import complete_onboarding, get_connected_account
from stripe_local.core import ANY, MAP, StripeError, template

LINK_OWNER = "__account_links__"


@route(
    "POST",
    "/v1/account_links",
    spec={
        "account": ANY,
        "refresh_url": ANY,
        "return_url": ANY,
        "type": ANY,
        "collect": ANY,
        "collection_options": MAP,
    },
)
def account_link_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    account_id = core.get_str(params, "account", required=True)
    assert account_id is not None
    account = get_connected_account(ctx, account_id)
    link_type = core.get_enum(params, "type", ["account_onboarding", "account_update"])
    if link_type is None:
        raise StripeError("Missing required param: type.", param="type")
    if link_type == "account_update" and account.data["type"] != "custom":
        raise StripeError(
            "You cannot create `account_update` type Account Links for Express accounts.",
            param="type",
        )
    refresh_url = core.get_str(params, "refresh_url")
    return_url = core.get_str(params, "return_url", required=True)
    for name, value in (("refresh_url", refresh_url), ("return_url", return_url)):
        if value and not value.startswith(("http://", "https://")):
            raise StripeError(f"Not a valid URL: {name}", param=name)
    token = secrets.token_urlsafe(12)
    now = core.now_seconds()
    ctx.store.add(
        Record(
            token,
            "account_link_token",
            LINK_OWNER,
            {
                "account": account_id,
                "return_url": return_url,
                "refresh_url": refresh_url or return_url,
                "expires_at": now + 300,
                "used": False,
            },
        )
    )
    return template(
        "account_link",
        created=now,
        expires_at=now + 300,
        url=f"{ctx.base_url}/_local/connect/onboarding/{account_id}/{token}",
    )


def onboarding_page(state: State, account_id: str, token: str) -> tuple[int, dict[str, str], str]:
    """GET of an account link: the onboarding form, or a redirect to refresh_url if spent."""
    with state.lock:
        link = state.store.find(token)
        if link is None or link.kind != "account_link_token" or link.data["account"] != account_id:
            return 404, {}, "<h1>Unknown or expired account link</h1>"
        if link.data["used"] or link.data["expires_at"] < core.now_seconds():
            return 303, {"Location": link.data["refresh_url"]}, ""
        account = state.store.find(account_id)
        email = (account.data.get("email") if account else None) or ""
    safe = html.escape
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Local Stripe: onboarding</title><style>{PAGE_STYLE}</style></head><body>
<h1>Connect onboarding (local Stripe)</h1>
<p>Account <code>{safe(account_id)}</code> {safe(email)}</p>
<p class="note">This page stands in for Stripe's hosted Express onboarding. Completing it marks
the account's details as submitted and enables charges and payouts.</p>
<form method="post"><input type="hidden" name="action" value="complete">
<button class="primary" type="submit" id="complete-onboarding">Complete onboarding</button></form>
<form method="post"><input type="hidden" name="action" value="abandon">
<button type="submit" id="abandon-onboarding">Leave without finishing</button></form>
</body></html>"""
    return 200, {}, body


def onboarding_submit(
    state: State, account_id: str, token: str, form: dict[str, Any]
) -> tuple[int, dict[str, str], str]:
    with state.lock:
        link = state.store.find(token)
        if link is None or link.kind != "account_link_token" or link.data["account"] != account_id:
            return 404, {}, "<h1>Unknown or expired account link</h1>"
        if link.data["used"] or link.data["expires_at"] < core.now_seconds():
            return 303, {"Location": link.data["refresh_url"]}, ""
        link.data["used"] = True
        if form.get("action") == "complete":
            complete_onboarding(state, account_id)
        state.dirty = True
        return 303, {"Location": link.data["return_url"]}, ""


@local_helper("connect")
def onboarding_helper(
    state: State, method: str, parts: list[str], params: dict[str, Any]
) -> LocalReply | None:
    """/_local/connect/onboarding/<account>/<token>: where an account link leads."""
    if len(parts) != 4 or parts[1] != "onboarding":
        return None
    if method == "POST":
        return html_reply(onboarding_submit(state, parts[2], parts[3], params))
    return html_reply(onboarding_page(state, parts[2], parts[3]))
