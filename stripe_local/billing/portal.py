"""/v1/billing_portal/configurations and /v1/billing_portal/sessions, and the stand-in customer
portal page a session's `url` opens: /_local/portal/<session>/<secret>.

The page is plain server-rendered HTML. Its forms POST back to the same URL with a per-session
CSRF token; they update the card (a new PaymentMethod attached and made the default; open
subscription invoices are then paid with it, like Stripe's portal), cancel at period end or undo
it, and link to each invoice's hosted page and PDF. Every change goes through the same code as
the API, so the same events are sent (payment_method.attached, customer.updated,
customer.subscription.updated, invoice.paid ...). A session's URL works for an hour.
"""

from __future__ import annotations

import datetime
import hmac
import html
import secrets
import urllib.parse
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, paginate
from stripe_local.app.pages import PAGE_STYLE
from stripe_local.app.registry import LocalReply, html_reply, local_helper, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.invoicing import attempt_invoice_payment
from stripe_local.billing.products import price_amount
from stripe_local.billing.subscription_status import cancel_subscription
from stripe_local.billing.subscription_updates import subscription_update
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payments.payment_methods import attach_payment_method, create_card_payment_method

SESSION_LIFETIME = 3600
LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid", "paused", "incomplete")

CONFIG_SPEC = {
    "business_profile": MAP,
    "features": MAP,
    "default_return_url": ANY,
    "metadata": MAP,
    "name": ANY,
    "login_page": MAP,
    "active": ANY,
}


def _merge(target: dict[str, Any], given: Any) -> None:
    if not isinstance(given, dict):
        return
    for key, value in given.items():
        if isinstance(target.get(key), dict) and isinstance(value, dict):
            _merge(target[key], value)
        elif isinstance(target.get(key), bool) or key == "enabled":
            target[key] = value in (True, "true", "True", "1")
        else:
            target[key] = value


def _new_configuration(ctx: Context, params: dict[str, Any], is_default: bool) -> Record:
    config_id = core.new_id("bpc")
    now = ctx.now()
    data = template(
        "billing_portal.configuration",
        id=config_id,
        created=now,
        updated=now,
        is_default=is_default,
        active=True,
        default_return_url=core.get_str(params, "default_return_url"),
        name=core.get_str(params, "name"),
    )
    features = data["features"]
    features["customer_update"] = {"allowed_updates": [], "enabled": False}
    features["payment_method_update"]["enabled"] = is_default
    features["subscription_cancel"]["enabled"] = is_default
    features["subscription_update"]["enabled"] = False
    data["business_profile"] = {
        "headline": None,
        "privacy_policy_url": None,
        "terms_of_service_url": None,
    }
    _merge(data["business_profile"], params.get("business_profile"))
    _merge(features, params.get("features"))
    data["login_page"] = {"enabled": False, "url": None}
    core.apply_metadata(data, params)
    return ctx.store.add(Record(config_id, "billing_portal.configuration", ctx.account, data))


@route("POST", "/v1/billing_portal/configurations", spec=CONFIG_SPEC)
def configuration_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(params.get("features"), dict):
        raise StripeError("Missing required param: features.", param="features")
    first = next(ctx.store.iter_newest_first(ctx.account, "billing_portal.configuration"), None)
    return ctx.state.render(_new_configuration(ctx, params, is_default=first is None))


@route("GET", "/v1/billing_portal/configurations/{id}", spec={})
def configuration_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("billing_portal.configuration", id, ctx.account))


@route("POST", "/v1/billing_portal/configurations/{id}", spec=CONFIG_SPEC)
def configuration_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("billing_portal.configuration", id, ctx.account)
    _merge(record.data["business_profile"], params.get("business_profile"))
    _merge(record.data["features"], params.get("features"))
    for name in ("default_return_url", "name"):
        if name in params:
            record.data[name] = core.get_str(params, name)
    if "active" in params:
        record.data["active"] = bool(core.get_bool(params, "active"))
    core.apply_metadata(record.data, params)
    record.data["updated"] = ctx.now()
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/billing_portal/configurations",
    spec={**LIST_SPEC, "active": ANY, "is_default": ANY},
)
def configuration_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "billing_portal.configuration", params, "/v1/billing_portal/configurations"
    )


@route(
    "POST",
    "/v1/billing_portal/sessions",
    spec={
        "customer": ANY,
        "return_url": ANY,
        "configuration": ANY,
        "locale": ANY,
        "on_behalf_of": ANY,
        "flow_data": MAP,
    },
)
def session_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = core.get_str(params, "customer", required=True)
    ctx.store.get("customer", customer_id, ctx.account, param="customer")
    config_id = core.get_str(params, "configuration")
    if config_id:
        config = ctx.store.get(
            "billing_portal.configuration", config_id, ctx.account, param="configuration"
        )
        if not config.data["active"]:
            raise StripeError("This configuration is not active.", param="configuration")
    else:
        config = next(
            (
                c
                for c in ctx.store.iter_newest_first(ctx.account, "billing_portal.configuration")
                if c.data["is_default"]
            ),
            None,
        ) or _new_configuration(ctx, {}, is_default=True)
    return_url = core.get_str(params, "return_url") or config.data["default_return_url"]
    if not return_url:
        raise StripeError(
            "Missing required param: return_url (the configuration has no default_return_url).",
            param="return_url",
        )
    if not return_url.startswith(("http://", "https://")):
        raise StripeError(
            "Invalid URL: return_url must be an http or https URL.", param="return_url"
        )
    session_id = core.new_id("bps")
    secret = secrets.token_urlsafe(24)
    data = template(
        "billing_portal.session",
        id=session_id,
        configuration=config.id,
        created=ctx.now(),
        customer=customer_id,
        flow=None,
        locale=core.get_str(params, "locale"),
        on_behalf_of=core.get_str(params, "on_behalf_of"),
        return_url=return_url,
        url=f"{ctx.base_url}/_local/portal/{session_id}/{secret}",
    )
    internal = {
        "secret": secret,
        "csrf": secrets.token_urlsafe(24),
        "base_url": ctx.base_url,
        "expires_at": core.now_seconds() + SESSION_LIFETIME,
    }
    record = ctx.store.add(
        Record(session_id, "billing_portal.session", ctx.account, data, internal)
    )
    return ctx.state.render(record)


# -- the page ----------------------------------------------------------------------------------


@local_helper("portal")
def portal_helper(
    state: State, method: str, parts: list[str], params: dict[str, Any]
) -> LocalReply | None:
    if len(parts) != 3 or method not in ("GET", "POST"):
        return None
    with state.lock:
        session = state.store.find(parts[1])
        if (
            session is None
            or session.kind != "billing_portal.session"
            or not hmac.compare_digest(session.internal["secret"], parts[2])
            or core.now_seconds() > session.internal["expires_at"]
        ):
            return html_reply((404, {}, "<h1>This portal session has expired</h1>"))
        ctx = Context(state=state, account=session.owner, base_url=session.internal["base_url"])
        if method == "GET":
            return html_reply((200, {}, _page(state, session, params.get("notice", ""), "")))
        if not hmac.compare_digest(str(params.get("csrf", "")), session.internal["csrf"]):
            return html_reply((403, {}, "<h1>Invalid or missing form token</h1>"))
        state.current_ctx = ctx
        try:
            notice = _act(ctx, session, params)
        except StripeError as error:
            state.dirty = True
            return html_reply((400, {}, _page(state, session, "", error.message)))
        finally:
            state.current_ctx = None
        state.dirty = True
        location = session.data["url"] + "?" + urllib.parse.urlencode({"notice": notice})
        return html_reply((303, {"Location": location}, ""))


def _features(state: State, session: Record) -> dict[str, Any]:
    return state.store.records[session.data["configuration"]].data["features"]


def _subscriptions(state: State, session: Record) -> list[Record]:
    return [
        s
        for s in state.store.iter_newest_first(session.owner, "subscription")
        if s.data["customer"] == session.data["customer"] and s.data["status"] in LIVE_STATUSES
    ]


def _act(ctx: Context, session: Record, params: dict[str, Any]) -> str:
    state = ctx.state
    features = _features(state, session)
    action = params.get("action")
    if action in ("cancel", "renew"):
        if not features["subscription_cancel"]["enabled"]:
            raise StripeError("Cancelling is not enabled in this portal.")
        sub = next((s for s in _subscriptions(state, session) if s.id == params.get("sub")), None)
        if sub is None:
            raise StripeError("No such subscription.")
        if action == "cancel" and features["subscription_cancel"]["mode"] == "immediately":
            sub.data["cancel_at_period_end"] = False
            cancel_subscription(state, sub)
            return "Your subscription is canceled."
        subscription_update(ctx, {"cancel_at_period_end": action == "cancel"}, id=sub.id)
        return "Your plan will be canceled." if action == "cancel" else "Your plan is renewed."
    if action == "card":
        if not features["payment_method_update"]["enabled"]:
            raise StripeError("Updating the payment method is not enabled in this portal.")
        return _update_card(ctx, session, params)
    raise StripeError("Unknown action.")


def _update_card(ctx: Context, session: Record, params: dict[str, Any]) -> str:
    state = ctx.state
    number = str(params.get("number") or "").replace(" ", "")
    expiry = str(params.get("expiry") or "").replace(" ", "")
    month, _, year = expiry.partition("/")
    if not (month.isdigit() and year.isdigit()):
        raise StripeError("Your card's expiration date is incomplete (MM / YY).")
    pm = create_card_payment_method(
        ctx, number, int(month), int(year), str(params.get("cvc") or "") or None
    )
    customer = state.store.records[session.data["customer"]]
    attach_payment_method(ctx, pm, customer)
    before = core.deep_copy(customer.data["invoice_settings"])
    customer.data["invoice_settings"]["default_payment_method"] = pm.id
    state.emit("customer.updated", customer, {"invoice_settings": before})
    paid = failed = 0
    for sub in _subscriptions(state, session):
        if sub.data["default_payment_method"]:
            subscription_update(ctx, {"default_payment_method": pm.id}, id=sub.id)
        for invoice in list(state.store.iter_newest_first(session.owner, "invoice")):
            if invoice.internal.get("subscription") == sub.id and invoice.data["status"] == "open":
                if attempt_invoice_payment(ctx, invoice, pm.id, off_session=False):
                    paid += 1
                else:
                    failed += 1
    if failed:
        raise StripeError("Your card was saved, but the payment of an open invoice failed.")
    return "Card updated." + (f" {paid} open invoice(s) paid." if paid else "")


def _date(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%d %b %Y")


def _page(state: State, session: Record, notice: str, error: str) -> str:
    esc = html.escape
    features = _features(state, session)
    customer = state.store.records[session.data["customer"]]
    csrf = esc(session.internal["csrf"])
    hidden = f'<input type="hidden" name="csrf" value="{csrf}">'
    parts = [f"<h1>Billing ({esc(customer.data['email'] or customer.id)})</h1>"]
    if notice:
        parts.append(f'<p id="notice" class="note">{esc(notice)}</p>')
    if error:
        parts.append(f'<p id="error" role="alert" style="color:#c0123c">{esc(error)}</p>')
    parts.append("<h2>Current plan</h2>")
    for sub in _subscriptions(state, session):
        d = sub.data
        names = []
        for item_id in sub.internal["items"]:
            item = state.store.records[item_id].data
            price = state.store.records[item["price"]].data
            product = state.store.find(price["product"])
            amount = core.format_amount(price_amount(price, item["quantity"]), price["currency"])
            name = product.data["name"] if product else price["product"]
            names.append(
                f"{item['quantity']} × {name}: {amount} / {price['recurring']['interval']}"
            )
        end = state.store.records[sub.internal["items"][0]].data["current_period_end"]
        state_text = (
            f"Cancels on {_date(d['cancel_at'])}" if d["cancel_at"] else f"Renews on {_date(end)}"
        )
        parts.append(
            f'<div class="subscription" data-id="{esc(sub.id)}"><p>{esc("; ".join(names))}</p>'
            f'<p class="sub-status">Status: {esc(d["status"])}. {esc(state_text)}</p>'
        )
        if features["subscription_cancel"]["enabled"]:
            action, label = ("renew", "Renew plan") if d["cancel_at"] else ("cancel", "Cancel plan")
            parts.append(
                f'<form method="post">{hidden}'
                f'<input type="hidden" name="sub" value="{esc(sub.id)}">'
                f'<button name="action" value="{action}" id="{action}-{esc(sub.id)}">{label}'
                "</button></form>"
            )
        parts.append("</div>")
    pm = state.store.find(customer.data["invoice_settings"]["default_payment_method"] or "")
    parts.append("<h2>Payment method</h2>")
    if pm is not None:
        card = pm.data["card"]
        parts.append(
            f'<p id="card">{esc(card["brand"])} •••• {esc(card["last4"])}, expires '
            f"{card['exp_month']:02d}/{card['exp_year']}</p>"
        )
    else:
        parts.append('<p id="card">No card on file.</p>')
    if features["payment_method_update"]["enabled"]:
        parts.append(
            f'<form method="post" id="card-form">{hidden}'
            '<label>Card number <input name="number" id="card-number" autocomplete="cc-number">'
            '</label><label>MM / YY <input name="expiry" id="card-expiry" size="7"></label>'
            '<label>CVC <input name="cvc" id="card-cvc" size="4"></label>'
            '<button class="primary" name="action" value="card" id="save-card">Save card</button>'
            "</form>"
        )
    if features["invoice_history"]["enabled"]:
        rows = []
        for invoice in state.store.iter_newest_first(session.owner, "invoice"):
            d = invoice.data
            if (
                d["customer"] != customer.id
                or d["status"] == "draft"
                or not d["hosted_invoice_url"]
            ):
                continue
            rows.append(
                f"<tr><td>{esc(_date(d['created']))}</td>"
                f"<td>{esc(core.format_amount(d['total'], d['currency']))}</td>"
                f'<td class="invoice-status">{esc(d["status"])}</td>'
                f'<td><a href="{esc(d["hosted_invoice_url"])}">View</a> · '
                f'<a href="{esc(d["invoice_pdf"])}">PDF</a></td></tr>'
            )
            if len(rows) >= 24:
                break
        parts.append(
            '<h2>Invoice history</h2><table id="invoices"><tr><th>Date</th><th>Amount</th>'
            f"<th>Status</th><th></th></tr>{''.join(rows)}</table>"
        )
    parts.append(
        f'<p><a id="return" href="{esc(session.data["return_url"])}">Return to the site</a></p>'
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Billing portal</title>'
        f"<style>{PAGE_STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )
