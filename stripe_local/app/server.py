"""HTTP front of local Stripe: the /v1 API, the /_local helpers, local pages and Stripe.js at /v3/.

The /v1 API goes to `State.dispatch_api`; /_local helpers of resources (onboarding pages,
3-D Secure, receipts) are looked up in the registry. Start a server with stripe_local.server.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from stripe_local import core
from stripe_local.app.registry import LOCAL_HELPERS, LocalReply
from stripe_local.app.state import FailRule, State
from stripe_local.core import StripeError

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Stripe-Account, Stripe-Version, Idempotency-Key"
    ),
    "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed, Stripe-Version",
    "Access-Control-Max-Age": "600",
}


class LocalStripeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: State, verbose: bool = False) -> None:
        super().__init__(address, RequestHandler)
        self.state = state
        self.verbose = verbose

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class RequestHandler(BaseHTTPRequestHandler):
    server: LocalStripeServer
    protocol_version = "HTTP/1.1"
    server_version = "stripe_local/1.0"
    # The headers and the body go out in two writes: with Nagle's algorithm on, the body waits
    # for the client's delayed ACK of the headers (~20-40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            sys.stderr.write("stripe_local: " + (format % args) + "\n")

    # -- plumbing ----------------------------------------------------------------------------

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8") if length else ""

    def _send(
        self,
        status: int,
        body: bytes | str,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        origin = self.headers.get("Origin")
        self.send_header("Access-Control-Allow-Origin", origin or "*")
        if origin:
            self.send_header("Vary", "Origin")
        for name, value in CORS_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, core.dumps(value), "application/json", headers)

    def _reply(self, reply: LocalReply) -> None:
        if reply.content_type:
            self._send(reply.status, reply.body, reply.content_type, reply.headers)
        elif reply.html:
            self._send(reply.status, reply.body, "text/html; charset=utf-8", reply.headers)
        else:
            self._json(reply.status, reply.body, reply.headers)

    def _base_url(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _local_params(self, body: str) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type and body:
            try:
                loaded = json.loads(body)
            except json.JSONDecodeError:
                raise StripeError("Invalid JSON body")
            return loaded if isinstance(loaded, dict) else {}
        return core.decode_form(body)

    # -- verbs -------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:  # noqa: N802 - stdlib naming
        self._send(204, b"", "text/plain")

    def do_GET(self) -> None:  # noqa: N802
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._route("DELETE")

    def _route(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        body = self._body() if method in ("POST", "DELETE") else ""
        try:
            if path.startswith("/v1/"):
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, payload = self.server.state.dispatch_api(
                    method, path, parsed.query, body, headers, self._base_url()
                )
                self._send(status, payload, "application/json", extra)
            elif path in ("/v3", "/v3/", "/v3/stripe.js"):
                script = (STATIC_DIR / "stripe.js").read_text(encoding="utf-8")
                script = script.replace("__LOCAL_STRIPE_BASE__", self._base_url())
                self._send(200, script, "application/javascript; charset=utf-8")
            elif path.startswith("/_local"):
                self._local(method, path, parsed.query, body)
            elif path in ("/", "/healthz"):
                self._json(200, {"ok": True, "service": "stripe_local"})
            else:
                self._json(
                    404,
                    StripeError(f"Unrecognized request URL ({method}: {path}).", status=404).body(),
                )
        except StripeError as error:
            self._json(error.status, error.body())

    def _local(self, method: str, path: str, query: str, body: str) -> None:
        state = self.server.state
        parts = [p for p in path.split("/") if p][1:]
        params = dict(urllib.parse.parse_qsl(query))
        if method == "POST":
            params.update(self._local_params(body))
        head = parts[0] if parts else ""
        if head == "health":
            self._json(200, {"ok": True})
        elif head == "reset" and method == "POST":
            state.reset()
            self._json(200, {"reset": True})
        elif head == "fail_next" and method == "POST":
            rule = FailRule(
                path=str(params.get("path") or "/v1/*"),
                method=str(params.get("method") or "POST").upper(),
                status=int(params.get("status") or 500),
                count=int(params.get("count") or 1),
                should_retry=_optional_bool(params.get("should_retry")),
            )
            state.add_fail_rule(rule)
            self._json(
                200,
                {
                    "path": rule.path,
                    "method": rule.method,
                    "status": rule.status,
                    "count": rule.count,
                },
            )
        elif head == "webhooks":
            self._local_webhooks(method, parts[1:], params)
        elif head == "config" and method == "POST":
            config = state.config
            if "retry_delays" in params:
                config.retry_delays = _delays(params["retry_delays"])
            if "dunning_final_action" in params:
                action = str(params["dunning_final_action"])
                if action not in ("mark_unpaid", "cancel", "leave_past_due"):
                    raise StripeError(
                        "dunning_final_action must be mark_unpaid, cancel or leave_past_due",
                        param="dunning_final_action",
                    )
                config.dunning_final_action = action
            self._json(
                200,
                {
                    "retry_delays": list(config.retry_delays),
                    "dunning_final_action": config.dunning_final_action,
                    "dunning_retry_days": list(config.dunning_retry_days),
                },
            )
        else:
            for helper in LOCAL_HELPERS.get(head, ()):
                reply = helper(state, method, parts, params)
                if reply is not None:
                    self._reply(reply)
                    return
            raise StripeError(f"Unknown local helper: {method} {path}", status=404)

    def _local_webhooks(self, method: str, parts: list[str], params: dict[str, Any]) -> None:
        state = self.server.state
        action = parts[0] if parts else ""
        if action == "pause" and method == "POST":
            state.webhooks_paused = True
            self._json(200, {"paused": True})
        elif action == "resume" and method == "POST":
            state.webhooks_paused = False
            self._json(200, {"paused": False})
        elif action == "deliveries":
            self._json(200, {"data": state.deliverer.describe(params.get("event"))})
        elif action == "wait":
            deadline = time.time() + float(params.get("timeout") or 10)
            while time.time() < deadline and not state.deliverer.idle():
                time.sleep(0.02)
            self._json(200, {"idle": state.deliverer.idle()})
        else:
            raise StripeError(f"Unknown webhook helper: {action}", status=404)


def _optional_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    return value in (True, "true", "1", 1)


def _delays(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    return tuple(float(v) for v in value) or (1.0,)
