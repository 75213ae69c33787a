"""HTTP front of local Stripe: the /v1 API, the /_local helpers, local pages and Stripe.js at /v3/.

Start it with `python -m stripe_local`, `serve_in_thread()` (tests, dev scripts) or
`start_subprocess()` (a separate process, e.g. for `make run`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Importing the resource modules registers their routes.
from stripe_local import billing, connect, core, events, payments  # noqa: E402,F401,I001
from stripe_local.core import StripeError
from stripe_local.state import Config, FailRule, State

STATIC_DIR = Path(__file__).with_name("static")
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

    def _html(self, result: tuple[int, dict[str, str], str]) -> None:
        status, headers, body = result
        self._send(status, body, "text/html; charset=utf-8", headers)

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
        elif head == "accounts" and len(parts) == 3 and parts[2] == "complete_onboarding":
            with state.lock:
                record = connect.complete_onboarding(state, parts[1])
                state.dirty = True
                self._json(200, state.render(record))
        elif head == "3ds" and len(parts) >= 2:
            self._local_3ds(method, parts[1], parts[2:], params)
        elif head == "connect" and len(parts) == 4 and parts[1] == "onboarding":
            if method == "POST":
                self._html(connect.onboarding_submit(state, parts[2], parts[3], params))
            else:
                self._html(connect.onboarding_page(state, parts[2], parts[3]))
        elif head == "connect" and len(parts) == 3 and parts[1] == "dashboard":
            self._html(connect.dashboard_page(state, parts[2]))
        elif head == "receipts" and len(parts) == 2:
            self._html(_receipt_page(state, parts[1]))
        elif head == "config" and method == "POST":
            if "retry_delays" in params:
                state.config.retry_delays = _delays(params["retry_delays"])
            self._json(200, {"retry_delays": list(state.config.retry_delays)})
        else:
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

    def _local_3ds(
        self, method: str, intent_id: str, rest: list[str], params: dict[str, Any]
    ) -> None:
        state = self.server.state
        if rest == ["challenge"]:
            if method == "GET":
                self._html(_challenge_page(intent_id, params))
                return
            with state.lock:
                intent = payments.authenticate_intent(
                    state,
                    intent_id,
                    params.get("client_secret"),
                    params.get("outcome", "fail"),
                    None,
                )
                record = state.store.find(intent_id)
                return_url = record.internal.get("return_url") if record else None
            if not return_url:
                self._html((200, {}, "<p>Authentication finished; you can close this window.</p>"))
                return
            self._html((303, {"Location": _with_redirect_params(return_url, intent)}, ""))
            return
        if method != "POST":
            raise StripeError("Use POST", status=405)
        with state.lock:
            intent = payments.authenticate_intent(
                state, intent_id, params.get("client_secret"), params.get("outcome", "fail"), None
            )
        self._json(200, intent)


def _optional_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    return value in (True, "true", "1", 1)


def _delays(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    return tuple(float(v) for v in value) or (1.0,)


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
    import html

    secret = html.escape(params.get("client_secret", ""))
    return (
        200,
        {},
        f"""<!doctype html><html><head><meta charset="utf-8"><title>3-D Secure test page</title>
<style>{connect.PAGE_STYLE}</style></head><body><h1>3-D Secure 2 test page</h1>
<p>Local Stripe stands in for the bank's challenge for <code>{html.escape(intent_id)}</code>.</p>
<form method="post"><input type="hidden" name="client_secret" value="{secret}">
<button class="primary" name="outcome" value="complete"
 id="complete-authentication">Complete</button>
<button name="outcome" value="fail" id="fail-authentication">Fail</button></form></body></html>""",
    )


def _receipt_page(state: State, charge_id: str) -> tuple[int, dict[str, str], str]:
    with state.lock:
        charge = state.store.find(charge_id)
        if charge is None or charge.kind != "charge":
            return 404, {}, "<h1>No such receipt</h1>"
        amount = core.format_amount(charge.data["amount"], charge.data["currency"])
    return 200, {}, f"<!doctype html><h1>Receipt</h1><p>{charge_id}: {amount}</p>"


# -- Starting the server -----------------------------------------------------------------------


def make_server(
    host: str = "127.0.0.1",
    port: int = 12111,
    *,
    state_file: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    public_url: str | None = None,
    verbose: bool = False,
) -> LocalStripeServer:
    """A ready (not yet serving) server with its state; webhook delivery threads started."""
    config = Config(state_file=state_file, public_url=public_url)
    if retry_delays:
        config.retry_delays = tuple(retry_delays)
    state = State(config)
    server = LocalStripeServer((host, port), state, verbose=verbose)
    state.start()
    return server


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    state_file: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    public_url: str | None = None,
) -> tuple[str, Callable[[], None]]:
    """Start local Stripe in a daemon thread; returns (base_url, stop). Port 0 picks a free one."""
    server = make_server(
        host, port, state_file=state_file, retry_delays=retry_delays, public_url=public_url
    )
    thread = threading.Thread(target=server.serve_forever, name="stripe-local", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        server.state.stop()
        thread.join(timeout=5)

    return server.base_url, stop


def start_subprocess(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    state_file: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    python: str | None = None,
    timeout: float = 15.0,
) -> tuple[str, subprocess.Popen[str]]:
    """Run `python -m stripe_local` in a child process; returns (base_url, process) once it answers.

    Stop it with `process.terminate(); process.wait()`."""
    command = [python or sys.executable, "-m", "stripe_local", "--host", host, "--port", str(port)]
    if state_file:
        command += ["--state-file", state_file]
    if retry_delays:
        command += ["--retry-delays", ",".join(str(d) for d in retry_delays)]
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_parent + os.pathsep + env.get("PYTHONPATH", "")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("stripe_local listening on "):
        process.terminate()
        raise RuntimeError(f"stripe_local did not start: {line!r}")
    base_url = line.split(" on ", 1)[1].strip()
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(base_url + "/_local/health", timeout=1):  # noqa: S310
                break
        except OSError:
            if time.time() > deadline:
                process.terminate()
                raise RuntimeError("stripe_local did not answer in time")
            time.sleep(0.05)
    return base_url, process
