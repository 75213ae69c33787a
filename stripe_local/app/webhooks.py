"""Webhook delivery: signed like Stripe, in background threads, retried with backoff until it works.

Deliveries are never dropped while the server runs (except while paused on purpose through
/_local/webhooks/pause, which records them as `dropped`); after the configured delays run out the
last delay repeats.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

WORKERS = 4


class DeliveryConfig(Protocol):
    retry_delays: tuple[float, ...]
    delivery_timeout: float


class DeliveryHost(Protocol):
    """What the deliverer needs of the state (stripe_local.app.state.State)."""

    config: DeliveryConfig

    def webhook_delivered(self, event_id: str) -> None: ...


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for `payload`, as stripe.Webhook.construct_event checks it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Delivery:
    id: int
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    secret: str
    payload: str
    status: str = "pending"  # pending, succeeded, dropped
    attempts: list[dict[str, Any]] = field(default_factory=list)
    next_attempt_at: float | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event_id,
            "type": self.event_type,
            "endpoint": self.endpoint_id,
            "url": self.url,
            "status": self.status,
            "attempts": list(self.attempts),
            "next_attempt_at": self.next_attempt_at,
        }


class Deliverer:
    """A due-time heap served by a few worker threads."""

    def __init__(self, state: DeliveryHost) -> None:
        self.state = state
        self.condition = threading.Condition()
        self.heap: list[tuple[float, int, Delivery]] = []
        self.deliveries: list[Delivery] = []
        self.sequence = itertools.count(1)
        self.threads: list[threading.Thread] = []
        self.running = False
        self.in_flight = 0

    def start(self) -> None:
        with self.condition:
            if self.running:
                return
            self.running = True
        for index in range(WORKERS):
            thread = threading.Thread(
                target=self._work, name=f"stripe-local-webhooks-{index}", daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        with self.condition:
            self.running = False
            self.condition.notify_all()
        for thread in self.threads:
            thread.join(timeout=5)
        self.threads.clear()

    def clear(self) -> None:
        with self.condition:
            self.heap.clear()
            self.deliveries.clear()

    def enqueue(
        self,
        event_id: str,
        event_type: str,
        payload: str,
        endpoint_id: str,
        url: str,
        secret: str,
        dropped: bool,
    ) -> Delivery:
        with self.condition:
            delivery = Delivery(
                id=next(self.sequence),
                event_id=event_id,
                event_type=event_type,
                endpoint_id=endpoint_id,
                url=url,
                secret=secret,
                payload=payload,
                status="dropped" if dropped else "pending",
            )
            self.deliveries.append(delivery)
            if not dropped:
                delivery.next_attempt_at = time.time()
                heapq.heappush(self.heap, (delivery.next_attempt_at, delivery.id, delivery))
                self.condition.notify()
            return delivery

    def redeliver(self, delivery: Delivery) -> None:
        with self.condition:
            delivery.status = "pending"
            delivery.next_attempt_at = time.time()
            heapq.heappush(self.heap, (delivery.next_attempt_at, delivery.id, delivery))
            self.condition.notify()

    def describe(self, event_id: str | None = None) -> list[dict[str, Any]]:
        with self.condition:
            return [
                d.describe() for d in self.deliveries if event_id is None or d.event_id == event_id
            ]

    def idle(self) -> bool:
        """True when nothing is due or being sent (used by /_local/webhooks/wait)."""
        with self.condition:
            return not self.heap and self.in_flight == 0

    def _work(self) -> None:
        while True:
            with self.condition:
                while self.running:
                    if self.heap and self.heap[0][0] <= time.time():
                        break
                    timeout = (self.heap[0][0] - time.time()) if self.heap else None
                    self.condition.wait(timeout)
                if not self.running:
                    return
                _due, _seq, delivery = heapq.heappop(self.heap)
                if delivery.status != "pending":
                    continue
                self.in_flight += 1
            try:
                self._attempt(delivery)
            finally:
                with self.condition:
                    self.in_flight -= 1
                    self.condition.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        started = time.time()
        status_code: int | None = None
        error: str | None = None
        request = urllib.request.Request(
            delivery.url,
            data=delivery.payload.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign(delivery.payload, delivery.secret),
            },
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 - URLs are the developer's endpoints
                request, timeout=self.state.config.delivery_timeout
            ) as response:
                status_code = response.status
                response.read(65536)
        except urllib.error.HTTPError as exc:
            status_code = exc.code
            error = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", exc))
        ok = status_code is not None and 200 <= status_code < 300
        with self.condition:
            delivery.attempts.append(
                {
                    "at": started,
                    "status_code": status_code,
                    "error": error,
                    "duration_ms": int((time.time() - started) * 1000),
                }
            )
            if ok:
                delivery.status = "succeeded"
                delivery.next_attempt_at = None
            else:
                delays = self.state.config.retry_delays or (1.0,)
                delay = delays[min(len(delivery.attempts) - 1, len(delays) - 1)]
                delivery.next_attempt_at = time.time() + delay
                heapq.heappush(self.heap, (delivery.next_attempt_at, delivery.id, delivery))
                self.condition.notify()
        if ok:
            self.state.webhook_delivered(delivery.event_id)
