"""The platform account and connected accounts (/v1/account, /v1/accounts), onboarding state."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import created, empty_list, paginate
from stripe_local.app.registry import (
    PLATFORM_ACCOUNT_MISSING,
    LocalReply,
    hook,
    local_helper,
    route,
)
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, PLATFORM_ACCOUNT_ID, StripeError, template

PLATFORM_OWNER = "__platform__"  # the platform's own account record is in no list


ONBOARDING_REQUIREMENTS = [
    "business_profile.mcc",
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


def _requirements(currently_due: list[str], disabled_reason: str | None) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(currently_due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(currently_due),
        "past_due": list(currently_due),
        "pending_verification": [],
    }


def _base_account(account_id: str, created: int, country: str, currency: str) -> dict[str, Any]:
    account = template("account", id=account_id, created=created, country=country)
    account["default_currency"] = currency
    account["settings"]["dashboard"]["timezone"] = "Europe/Paris" if country == "FR" else "Etc/UTC"
    account["settings"]["payouts"]["schedule"] = {"delay_days": 7, "interval": "daily"}
    account["settings"]["payouts"]["debit_negative_balances"] = True
    account["settings"]["card_payments"]["decline_on"] = {
        "avs_failure": False,
        "cvc_failure": True,
    }
    account["external_accounts"] = empty_list(f"/v1/accounts/{account_id}/external_accounts")
    account["future_requirements"] = _requirements([], None)
    return account


@hook(PLATFORM_ACCOUNT_MISSING)
def create_platform_account(state: State) -> None:
    account = _base_account(PLATFORM_ACCOUNT_ID, core.now_seconds(), "FR", "eur")
    account.update(
        type="standard",
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        email="platform@creneau.localhost",
        capabilities={"card_payments": "active", "transfers": "active"},
        controller={"type": "account"},
        requirements=_requirements([], None),
        business_type="company",
    )
    account["business_profile"]["name"] = "Creneau (local Stripe platform)"
    state.store.add(Record(PLATFORM_ACCOUNT_ID, "account", PLATFORM_OWNER, account))


ACCOUNT_SPEC = {
    "type": ANY,
    "country": ANY,
    "email": ANY,
    "capabilities": MAP,
    "business_type": ANY,
    "business_profile": MAP,
    "metadata": MAP,
    "default_currency": ANY,
    "controller": MAP,
    "settings": MAP,
    "tos_acceptance": MAP,
    "individual": MAP,
    "company": MAP,
    "external_account": ANY,
}


def _requested_capabilities(params: dict[str, Any]) -> dict[str, str]:
    given = params.get("capabilities") or {}
    if not isinstance(given, dict):
        raise StripeError("Invalid capabilities: must be a hash", param="capabilities")
    requested = {}
    for name, options in given.items():
        if not isinstance(options, dict) or set(options) - {"requested"}:
            raise StripeError(
                f"Received unknown parameter: capabilities[{name}]",
                param=f"capabilities[{name}]",
            )
        if core.get_bool(options, "requested", False):
            requested[name] = "inactive"
    return requested


@route("POST", "/v1/accounts", spec=ACCOUNT_SPEC)
def account_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.account is not None:
        raise StripeError("Connected accounts cannot create other accounts.", status=403)
    account_type = core.get_enum(params, "type", ["custom", "express", "standard"])
    controller = params.get("controller")
    if account_type is None and not controller:
        raise StripeError(
            "You must specify either `type` or `controller` when creating an account.",
            param="type",
        )
    account_type = account_type or "none"
    country = (core.get_str(params, "country") or "FR").upper()
    currency = (core.get_str(params, "default_currency") or _currency_for(country)).lower()
    capabilities = _requested_capabilities(params)
    if account_type in ("express", "custom") and "transfers" not in capabilities:
        if "card_payments" in capabilities:
            raise StripeError(
                "Accounts with the `card_payments` capability must also request the "
                "`transfers` capability.",
                param="capabilities",
            )
    account_id = core.new_id("acct", 16)
    account = _base_account(account_id, ctx.now(), country, currency)
    account.update(
        type=account_type,
        email=core.get_str(params, "email"),
        business_type=core.get_str(params, "business_type"),
        capabilities=capabilities,
        controller={"type": "application"},
        requirements=_requirements(ONBOARDING_REQUIREMENTS, "requirements.past_due"),
    )
    profile = params.get("business_profile")
    if isinstance(profile, dict):
        for key, value in profile.items():
            if key in account["business_profile"] and isinstance(value, str):
                account["business_profile"][key] = value or None
    core.apply_metadata(account, params)
    record = ctx.store.add(Record(account_id, "account", None, account))
    return ctx.state.render(record)


def _currency_for(country: str) -> str:
    return {"US": "usd", "GB": "gbp", "CH": "chf", "CA": "cad", "JP": "jpy", "AU": "aud"}.get(
        country, "eur"
    )


def get_connected_account(ctx: Context, account_id: str, param: str = "account") -> Record:
    record = ctx.store.find(account_id)
    if record is None or record.kind != "account" or record.owner is not None or record.deleted:
        raise StripeError(
            f"No such account: '{account_id}'", status=404, code="resource_missing", param=param
        )
    return record


@route("GET", "/v1/account", spec={})
def account_self(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    account_id = ctx.account or PLATFORM_ACCOUNT_ID
    return ctx.state.render(ctx.store.find(account_id))  # type: ignore[arg-type]


@route("GET", "/v1/accounts/{id}", spec={})
def account_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    if ctx.account is not None and id != ctx.account:
        raise StripeError(f"No such account: '{id}'", status=404, code="resource_missing")
    if id == PLATFORM_ACCOUNT_ID:
        return ctx.state.render(ctx.store.find(id))  # type: ignore[arg-type]
    return ctx.state.render(get_connected_account(ctx, id, "id"))


@route("POST", "/v1/accounts/{id}", spec={k: v for k, v in ACCOUNT_SPEC.items() if k != "type"})
def account_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = get_connected_account(ctx, id, "id")
    data = record.data
    previous: dict[str, Any] = {}
    if "email" in params:
        previous["email"] = data["email"]
        data["email"] = core.get_str(params, "email")
    if "business_type" in params:
        previous["business_type"] = data["business_type"]
        data["business_type"] = core.get_str(params, "business_type")
    profile = params.get("business_profile")
    if isinstance(profile, dict):
        previous["business_profile"] = core.deep_copy(data["business_profile"])
        for key, value in profile.items():
            if key in data["business_profile"] and isinstance(value, str):
                data["business_profile"][key] = value or None
    if "capabilities" in params:
        previous["capabilities"] = dict(data["capabilities"])
        status = "active" if data["details_submitted"] else "inactive"
        for name in _requested_capabilities(params):
            data["capabilities"].setdefault(name, status)
    old_metadata = core.apply_metadata(data, params)
    if old_metadata is not None:
        previous["metadata"] = old_metadata
    if previous:
        ctx.state.emit("account.updated", record, previous, account=record.id)
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/accounts",
    spec={"limit": ANY, "starting_after": ANY, "ending_before": ANY, "created": MAP},
)
def account_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.account is not None:
        return empty_list("/v1/accounts")
    return paginate(ctx, "account", params, "/v1/accounts", created())


@route("DELETE", "/v1/accounts/{id}", spec={})
def account_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = get_connected_account(ctx, id, "id")
    record.deleted = True
    return {"id": record.id, "object": "account", "deleted": True}


def complete_onboarding(state: State, account_id: str) -> Record:
    """What a person finishing Express onboarding does: everything due is submitted."""
    record = state.store.find(account_id)
    if record is None or record.kind != "account" or record.owner is not None:
        raise core.not_found("account", account_id)
    data = record.data
    previous = {
        "capabilities": dict(data["capabilities"]),
        "charges_enabled": data["charges_enabled"],
        "details_submitted": data["details_submitted"],
        "payouts_enabled": data["payouts_enabled"],
        "requirements": core.deep_copy(data["requirements"]),
    }
    if not data["capabilities"]:
        data["capabilities"] = {"card_payments": "inactive", "transfers": "inactive"}
    data["capabilities"] = {name: "active" for name in data["capabilities"]}
    data["charges_enabled"] = "card_payments" in data["capabilities"] or data["type"] == "standard"
    data["payouts_enabled"] = True
    data["details_submitted"] = True
    data["requirements"] = _requirements([], None)
    now = core.now_seconds()
    data["tos_acceptance"] = {"date": now, "ip": "127.0.0.1", "user_agent": "local-stripe"}
    if not data["business_profile"].get("url"):
        data["business_profile"]["url"] = "https://example.com"
    if not data["business_profile"].get("mcc"):
        data["business_profile"]["mcc"] = "7299"
    if data["charges_enabled"] != previous["charges_enabled"] or not previous["details_submitted"]:
        state.emit("account.updated", record, previous, account=record.id)
    return record


@local_helper("accounts")
def complete_onboarding_helper(
    state: State, method: str, parts: list[str], params: dict[str, Any]
) -> LocalReply | None:
    """/_local/accounts/<id>/complete_onboarding: finish onboarding without the page."""
    if len(parts) != 3 or parts[2] != "complete_onboarding":
        return None
    with state.lock:
        record = complete_onboarding(state, parts[1])
        state.dirty = True
        return LocalReply(200, state.render(record))
