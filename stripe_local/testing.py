"""Helpers for tests that drive local Stripe through the official SDK (used by tests/stripe_local).

Importing this module needs the `stripe` package; the server itself does not.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe

TEST_RETRY_DELAYS = (0.1, 0.2, 0.4)


def make_client(
    base_url: str, api_key: str = "sk_test_local", **kwargs: Any
) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base_url, "connect": base_url, "files": base_url},
        max_network_retries=kwargs.pop("max_network_retries", 0),
        **kwargs,
    )


def local(base_url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """POST (or GET when payload is None) a /_local helper and return its JSON."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method="GET" if payload is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def raw(
    base_url: str,
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """A raw HTTP call to the API (status, headers, parsed JSON), errors included."""
    request = urllib.request.Request(
        base_url + path,
        data=body.encode() if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@dataclass
class WebhookReceiver:
    """A local HTTP endpoint that records deliveries and can fail the first N of them."""

    url: str = ""
    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: predicate(self.received), timeout=timeout)
            return list(self.received)


def onboarded_account(client: stripe.StripeClient, base_url: str) -> str:
    """An Express account whose onboarding is complete (charges and payouts enabled)."""
    account = client.v1.accounts.create(
        params={
            "type": "express",
            "country": "FR",
            "email": "studio@example.com",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
    )
    local(base_url, f"/_local/accounts/{account.id}/complete_onboarding", {})
    return account.id


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Run a WebhookReceiver on a free port for the duration of the block."""
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            with receiver.lock:
                failing = receiver.fail_first > 0
                if failing:
                    receiver.fail_first -= 1
                receiver.statuses.append(500 if failing else 200)
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if not failing:
                with receiver.arrived:
                    receiver.received.append(
                        {"body": body, "signature": self.headers["Stripe-Signature"]}
                    )
                    receiver.arrived.notify_all()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
