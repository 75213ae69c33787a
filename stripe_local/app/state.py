"""The server's whole state and the API dispatcher: auth, Stripe-Account, idempotency, errors.

`State.dispatch_api` turns one HTTP request into one response; it holds the state lock for the
whole request, so handlers can read and write freely.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.registry import (
    EXPAND_ONLY,
    PLATFORM_ACCOUNT_MISSING,
    RENDERERS,
    ROUTES,
    Route,
    notify,
)
from stripe_local.app.store import Record, StateLock, Store
from stripe_local.app.webhooks import Deliverer
from stripe_local.core import API_VERSION, PLATFORM_ACCOUNT_ID, StripeError, template


@dataclass
class FailRule:
    path: str
    method: str
    status: int
    count: int
    should_retry: bool | None


@dataclass
class Config:
    retry_delays: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0, 3600.0)
    delivery_timeout: float = 10.0
    # Days after each failed renewal attempt to retry (4 attempts in all), and what the last
    # failure does, like the Dashboard's "Manage failed payments" settings.
    dunning_retry_days: tuple[int, ...] = (3, 5, 7)
    dunning_final_action: str = "mark_unpaid"  # "mark_unpaid", "cancel" or "leave_past_due"
    upcoming_invoice_days: int = 7  # invoice.upcoming this many days before each renewal
    public_url: str | None = None
    state_file: str | None = None


class State:
    """Everything local Stripe knows; see the module docstring for the locking rule."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.lock = StateLock()
        self.store = Store()
        self.idempotency: dict[tuple[str | None, str], dict[str, Any]] = {}
        self.fail_rules: list[FailRule] = []
        self.webhooks_paused = False
        self.time_override: int | None = None
        self.current_ctx: Context | None = None
        self.deliverer = Deliverer(self)
        self.dirty = False
        self._saver: threading.Thread | None = None
        self._stopping = threading.Event()
        if self.config.state_file and Path(self.config.state_file).exists():
            self.load(self.config.state_file)
        self.ensure_platform()

    # -- lifecycle ---------------------------------------------------------------------------

    def ensure_platform(self) -> None:
        if self.store.find(PLATFORM_ACCOUNT_ID) is None:
            notify(PLATFORM_ACCOUNT_MISSING, self)

    def start(self) -> None:
        self.deliverer.start()
        if self.config.state_file:
            self._saver = threading.Thread(target=self._save_loop, daemon=True)
            self._saver.start()

    def stop(self) -> None:
        self._stopping.set()
        self.deliverer.stop()
        if self.config.state_file:
            self.save(self.config.state_file)

    def reset(self) -> None:
        with self.lock:
            self.store = Store()
            self.idempotency.clear()
            self.fail_rules.clear()
            self.webhooks_paused = False
            self.deliverer.clear()
            self.ensure_platform()
            self.dirty = True

    def _save_loop(self) -> None:
        while not self._stopping.wait(2.0):
            if self.dirty and self.config.state_file:
                self.save(self.config.state_file)

    def save(self, path: str) -> None:
        with self.lock:
            payload = json.dumps(
                {"version": 1, "records": self.store.to_json()}, separators=(",", ":")
            )
            self.dirty = False
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_text(payload, encoding="utf-8")
        temporary.replace(target)

    def load(self, path: str) -> None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        self.store.load_json(data.get("records", []))

    # -- time --------------------------------------------------------------------------------

    def now(self, customer_id: str | None = None) -> int:
        """Current time, or a test clock's frozen time for its customers' objects."""
        if self.time_override is not None:
            return self.time_override
        if customer_id:
            customer = self.store.find(customer_id)
            clock_id = customer.data.get("test_clock") if customer else None
            clock = self.store.find(clock_id) if clock_id else None
            if clock is not None:
                return int(clock.data["frozen_time"])
        return int(time.time())

    # -- rendering ---------------------------------------------------------------------------

    def render(self, record: Record) -> dict[str, Any]:
        obj = core.deep_copy(record.data)
        hook = RENDERERS.get(record.kind)
        if hook is not None:
            hook(self, record, obj)
        return obj

    def expand(self, obj: Any, paths: list[str]) -> None:
        for path in paths:
            parts = path.split(".")
            if len(parts) > 4:
                raise StripeError(
                    f"You cannot expand more than 4 levels of a property. Property: {path}",
                    param="expand",
                )
            self._expand(obj, parts, path)

    def _expand(self, obj: Any, parts: list[str], path: str) -> None:
        if not parts or obj is None:
            return
        if isinstance(obj, list):
            for item in obj:
                self._expand(item, parts, path)
            return
        if not isinstance(obj, dict):
            return
        key = parts[0]
        if obj.get("object") == "list" and key == "data":
            self._expand(obj["data"], parts[1:], path)
            return
        owner_record = self.store.find(obj.get("id")) if isinstance(obj.get("id"), str) else None
        extra = EXPAND_ONLY.get((owner_record.kind, key)) if owner_record else None
        if extra is not None:
            obj[key] = extra(self, owner_record)
        elif key not in obj:
            raise StripeError(f"This property cannot be expanded ({key}).", param="expand")
        value = obj[key]
        if isinstance(value, list) and not (parts[1:] and parts[1] == "data"):
            expanded = []
            for item in value:
                target = self.store.find(item) if isinstance(item, str) else None
                expanded.append(self.render(target) if target is not None else item)
            obj[key] = value = expanded
        elif isinstance(value, str):
            target = self.store.find(value)
            if target is not None:
                value = self.render(target)
                obj[key] = value
        self._expand(value, parts[1:], path)

    # -- events ------------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        record: Record,
        previous: dict[str, Any] | None = None,
        obj: dict[str, Any] | None = None,
        account: str | None = None,
    ) -> Record:
        """Record an event about `record` (rendered now) and queue its webhook deliveries.

        `account` overrides the owner (account.updated for connected accounts)."""
        ctx = self.current_ctx
        owner = account or record.owner
        data: dict[str, Any] = {"object": obj if obj is not None else self.render(record)}
        if previous:
            data["previous_attributes"] = previous
        event = template(
            "event",
            id=core.new_id("evt"),
            api_version=core.API_VERSION,
            created=core.now_seconds(),
            data=data,
            pending_webhooks=0,
            request={
                "id": ctx.request_id if ctx else None,
                "idempotency_key": ctx.idempotency_key if ctx else None,
            },
            type=event_type,
        )
        if owner is not None:
            # Connect events carry the connected account's id, between `api_version` and `created`.
            event = (
                {key: event[key] for key in ("id", "object", "api_version") if key in event}
                | {"account": owner}
                | event
            )
        event_record = self.store.add(Record(event["id"], "event", owner, event))
        payload = core.dumps(event)
        count = 0
        for endpoint in list(self.store.iter_newest_first(None, "webhook_endpoint")):
            if endpoint.data["status"] != "enabled":
                continue
            if bool(endpoint.internal.get("connect")) != (owner is not None):
                continue
            enabled = endpoint.data["enabled_events"]
            if "*" not in enabled and event_type not in enabled:
                continue
            if not self.webhooks_paused:
                count += 1
            self.deliverer.enqueue(
                event["id"],
                event_type,
                payload,
                endpoint.id,
                endpoint.data["url"],
                endpoint.internal["secret"],
                dropped=self.webhooks_paused,
            )
        event_record.data["pending_webhooks"] = count
        return event_record

    def webhook_delivered(self, event_id: str) -> None:
        with self.lock:
            event = self.store.find(event_id)
            if event is not None and event.data["pending_webhooks"] > 0:
                event.data["pending_webhooks"] -= 1

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch_api(
        self,
        method: str,
        path: str,
        query: str,
        body: str,
        headers: dict[str, str],
        base_url: str,
    ) -> tuple[int, dict[str, str], bytes]:
        """Serve one /v1 request: returns status, extra headers and the JSON body."""
        request_id = core.new_id("req", 15)
        response_headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION}
        try:
            with self.lock:
                status, payload, extra_headers = self._dispatch_locked(
                    method, path, query, body, headers, base_url, request_id
                )
            response_headers.update(extra_headers)
        except StripeError as error:
            status, payload = error.status, error.body()
            response_headers.update(error.headers)
        if not isinstance(payload, bytes):
            payload = core.dumps(payload).encode("utf-8")
        return status, response_headers, payload

    def _authenticate(self, headers: dict[str, str]) -> str:
        authorization = headers.get("authorization", "")
        key = ""
        if authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        elif authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            key = decoded.split(":", 1)[0]
        if not key:
            raise StripeError(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_"
                "SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
                status=401,
            )
        if key.startswith(("sk_test_", "rk_test_")) and len(key) > 8:
            return "secret"
        if key.startswith("pk_test_") and len(key) > 8:
            return "publishable"
        masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
        raise StripeError(f"Invalid API Key provided: {masked}", status=401)

    def _dispatch_locked(
        self,
        method: str,
        path: str,
        query: str,
        body: str,
        headers: dict[str, str],
        base_url: str,
        request_id: str,
    ) -> tuple[int, Any, dict[str, str]]:
        self._apply_fail_rules(method, path)
        key_type = self._authenticate(headers)
        account = headers.get("stripe-account") or None
        if account == PLATFORM_ACCOUNT_ID:
            account = None
        if account is not None:
            connected = self.store.find(account)
            if connected is None or connected.kind != "account" or connected.deleted:
                raise StripeError(
                    "The provided key does not have access to account "
                    f"'{account}' (or that account does not exist). Application access may "
                    "have been revoked.",
                    status=403,
                    type="invalid_request_error",
                    code="account_invalid",
                )
        matched, path_params = self._match(method, path)
        if key_type == "publishable" and not matched.publishable:
            raise StripeError(
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key. You can find a list of your API keys at "
                "https://dashboard.stripe.com/account/apikeys.",
                status=401,
            )
        params = core.decode_form(body if method == "POST" else query)
        expand = params.pop("expand", None) or []
        if isinstance(expand, str):
            expand = [expand]
        if key_type == "publishable":
            params.pop("key", None)
        idempotency_key = headers.get("idempotency-key") if method == "POST" else None
        fingerprint = hashlib.sha256(
            json.dumps([method, path, params, expand], sort_keys=True).encode()
        ).hexdigest()
        if idempotency_key:
            if len(idempotency_key) > 255:
                raise StripeError(
                    "Invalid idempotency key: must be at most 255 characters.",
                    param="Idempotency-Key",
                )
            saved = self.idempotency.get((account, idempotency_key))
            if saved is not None:
                if saved["endpoint"] != (method, path):
                    raise StripeError(
                        "Keys for idempotent requests can only be used for the same endpoint "
                        "they were first used for. You made a request to a different "
                        f"endpoint. Try using a key other than '{idempotency_key}' if you "
                        "meant to execute a different request.",
                        type="idempotency_error",
                    )
                if saved["fingerprint"] != fingerprint:
                    raise StripeError(
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{idempotency_key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                return (
                    saved["status"],
                    saved["body"],
                    {
                        "Idempotent-Replayed": "true",
                        "Idempotency-Key": idempotency_key,
                        "Original-Request": saved["request_id"],
                    },
                )
        if matched.spec is not None:
            spec = dict(matched.spec)
            if key_type == "publishable" or matched.publishable:
                spec.setdefault("client_secret", None)
            core.check_params(params, spec)
        ctx = Context(
            state=self,
            account=account,
            key_type=key_type,
            request_id=request_id,
            idempotency_key=idempotency_key,
            base_url=self.config.public_url or base_url,
            api_version=headers.get("stripe-version") or API_VERSION,
        )
        self.current_ctx = ctx
        extra_headers: dict[str, str] = {}
        if idempotency_key:
            extra_headers["Idempotency-Key"] = idempotency_key
        try:
            result = matched.handler(ctx, params, **path_params)
            status = 200
            if isinstance(result, tuple):
                status, result = result
            if expand:
                self.expand(result, list(expand))
            payload: Any = core.dumps(result).encode("utf-8")
        except StripeError as error:
            # Validation errors are not saved (Stripe saves only requests that started
            # executing); card errors and state errors are, like Stripe.
            if not error.extra.pop("_save", False) or not idempotency_key:
                raise
            status, payload = error.status, core.dumps(error.body()).encode("utf-8")
        finally:
            self.current_ctx = None
        if method != "GET":
            self.dirty = True
        if idempotency_key:
            self.idempotency[(account, idempotency_key)] = {
                "endpoint": (method, path),
                "fingerprint": fingerprint,
                "status": status,
                "body": payload,
                "request_id": request_id,
            }
        return status, payload, extra_headers

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        path_known = False
        for candidate in ROUTES:
            found = candidate.pattern.match(path)
            if found:
                path_known = True
                if candidate.method == method:
                    return candidate, found.groupdict()
        if path_known:
            raise StripeError(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                status=404,
            )
        raise StripeError(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            status=404,
        )

    def add_fail_rule(self, rule: FailRule) -> None:
        with self.lock:
            self.fail_rules.append(rule)

    def _apply_fail_rules(self, method: str, path: str) -> None:
        for rule in self.fail_rules:
            if rule.count > 0 and rule.method == method and fnmatch.fnmatchcase(path, rule.path):
                rule.count -= 1
                headers = {}
                if rule.should_retry is not None:
                    headers["Stripe-Should-Retry"] = "true" if rule.should_retry else "false"
                raise StripeError(
                    "An unknown error occurred (simulated by local Stripe's /_local/fail_next).",
                    status=rule.status,
                    type="api_error",
                    headers=headers,
                )
        self.fail_rules = [rule for rule in self.fail_rules if rule.count > 0]
